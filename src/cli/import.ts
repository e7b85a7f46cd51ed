/**
 * DOC: `svmsim import` and `svmsim capture`
 *
 * `import FILE [--from KIND] [-o OUT]` turns a capture into an svmsim JSONL trace through the
 * importer registry (src/import/registry.ts), streaming: output is written as the capture is
 * read. Notes (lines skipped, approximations) go to stderr. `--from dmesg` is the exception: a
 * kernel log holds decisions, not inputs, so it becomes an observation log for `validate`
 * (src/cli/import-dmesg.ts), not a trace. `capture --script` prints the bpftrace program whose
 * output `import --from bpftrace` reads.
 */

import { bpftraceScript } from '../capture/bpftrace-script.js';
import { IMPORTERS, importerNamed, sniffImporter } from '../import/registry.js';
import { TraceWriter } from '../import/writer.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import { DMESG, type CaptureOpts, type ImportCliOpts } from './commands.js';
import { heldSink, outputFor, yieldToSignals } from './output.js';
import { runDmesgImport } from './import-dmesg.js';

export async function runImport(file: string, o: ImportCliOpts, io: CliIo): Promise<void> {
  if (o.from === DMESG) return runDmesgImport(file, o, io);
  const importer = o.from !== undefined ? importerNamed(o.from) : sniffImporter(file);
  if (importer === undefined) {
    throw new UsageError(
      `${file}: cannot tell what kind of capture this is; name it with --from (${[...IMPORTERS.map((i) => i.name), DMESG].join(', ')})`,
    );
  }
  const window = BigInt(o.reorderWindow);
  const out = outputFor(io, o.output);
  const { sink, flush } = heldSink(out.write);
  const writer = new TraceWriter(sink, `${file} (${importer.name})`);
  try {
    await importer.run(file, writer, {
      gpuAccess: o.gpuAccess,
      pid: o.pid,
      reorderWindowNs: window,
      pause: yieldToSignals, // Ctrl-C removes the temporary output file
    });
    const notes = writer.end();
    flush();
    for (const n of notes) io.stderr(`svmsim import: ${n}\n`);
  } catch (e) {
    out.abort();
    throw e;
  }
  await out.close();
  io.stderr(
    `svmsim import: ${writer.events} event${writer.events === 1 ? '' : 's'} from ${file} (${importer.name})${o.output !== undefined ? ` written to ${o.output}` : ''}\n`,
  );
}

/** `svmsim capture --script`: print the bpftrace program. */
export async function runCapture(o: CaptureOpts, io: CliIo): Promise<void> {
  if (!o.script)
    throw new UsageError('capture: give --script (print the bpftrace program; run it as root with bpftrace)');
  io.stdout(bpftraceScript({ kernel: o.kernel, pid: o.pid }));
}
