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

import { Option, type Command } from 'commander';
import { bpftraceScript } from '../capture/bpftrace-script.js';
import { KERNEL_VERSIONS, type KernelVersion } from '../core/platform.js';
import { IMPORTERS, importerNamed, sniffImporter } from '../import/registry.js';
import { TraceWriter } from '../import/writer.js';
import { parseTime } from '../trace/index.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import { heldSink, outputFor } from './output.js';
import { runDmesgImport } from './import-dmesg.js';

interface ImportCliOpts {
  from?: string;
  output?: string;
  gpuAccess: 'read' | 'write';
  pid?: string;
  reorderWindow: string;
}

function pidOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[0-9]+$/.test(raw)) throw new UsageError(`--pid ${raw}: expected a process id`);
  return Number(raw);
}

/** `--from` kinds that are not trace importers: a DEBUG_VM kernel log becomes an observation log. */
const DMESG = 'dmesg';

async function runImport(file: string, o: ImportCliOpts, io: CliIo): Promise<void> {
  if (o.from === DMESG) return runDmesgImport(file, o, io);
  const importer = o.from !== undefined ? importerNamed(o.from) : sniffImporter(file);
  if (importer === undefined) {
    throw new UsageError(`${file}: cannot tell what kind of capture this is; name it with --from (${[...IMPORTERS.map((i) => i.name), DMESG].join(', ')})`);
  }
  let window: bigint;
  try {
    window = BigInt(parseTime(o.reorderWindow));
  } catch {
    throw new UsageError(`--reorder-window ${o.reorderWindow}: expected a time such as 100ms`);
  }
  const out = outputFor(io, o.output);
  const { sink, flush } = heldSink(out.write);
  const writer = new TraceWriter(sink, `${file} (${importer.name})`);
  try {
    await importer.run(file, writer, { gpuAccess: o.gpuAccess, pid: pidOption(o.pid), reorderWindowNs: window });
    const notes = writer.end();
    flush();
    for (const n of notes) io.stderr(`svmsim import: ${n}\n`);
  } catch (e) {
    out.abort();
    throw e;
  }
  await out.close();
  io.stderr(`svmsim import: ${writer.events} event${writer.events === 1 ? '' : 's'} from ${file} (${importer.name})${o.output !== undefined ? ` written to ${o.output}` : ''}\n`);
}

export function addImportCommands(cmd: Command, io: CliIo, run: (p: Promise<void>) => void): void {
  cmd
    .command('import')
    .description('turn a capture (bpftrace, KFD SMI events, nsys SQLite export) into an svmsim JSONL trace; --from dmesg writes the observation log that validate reads')
    .argument('<file>', 'the capture')
    .addOption(new Option('--from <kind>', 'capture kind (default: recognised from the file; dmesg must be named)').choices([...IMPORTERS.map((i) => i.name), DMESG]))
    .option('-o, --output <file>', 'write the trace to a file (atomically) instead of stdout')
    .addOption(new Option('--gpu-access <access>', 'access written for a GPU fault whose kind the capture lacks (bpftrace: non-atomic faults)').choices(['read', 'write']).default('read'))
    .option('--pid <pid>', 'keep only this process (KFD SMI, nsys)')
    .option('--reorder-window <time>', 'how late a capture line may arrive after a later one (per-CPU buffers)', '20ms')
    .action((file: string, o: ImportCliOpts) => run(runImport(file, o, io)));
  cmd
    .command('capture')
    .description('print a bpftrace program that captures one process on a stock kernel, for `svmsim import`')
    .option('--script', 'print the bpftrace script (the only mode)')
    .addOption(new Option('-k, --kernel <version>', 'kernel the script is for (function names differ per version)').choices([...KERNEL_VERSIONS]).default('6.18'))
    .option('--pid <pid>', 'bake this pid into the script (default: the script takes it as its first argument)')
    .action((o: { script?: boolean; kernel: KernelVersion; pid?: string }) =>
      run(
        (async () => {
          if (!o.script) throw new UsageError('capture: give --script (print the bpftrace program; run it as root with bpftrace)');
          io.stdout(bpftraceScript({ kernel: o.kernel, pid: pidOption(o.pid) }));
        })(),
      ),
    );
}
