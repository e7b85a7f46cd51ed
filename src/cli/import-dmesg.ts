/**
 * DOC: `svmsim import FILE --from dmesg` — a kernel log as an observation log
 *
 * Writes the Xe SVM lines of a DEBUG_VM kernel log as JSON lines (a header, then one
 * KernelObservation per line: label, asid, bounds, vram flags, NPAGES, event, source line and
 * text), which `svmsim validate --kernel-log` reads like the log itself. It is not a trace: a
 * log shows what the kernel decided, not the mmaps, munmaps and CPU / GPU accesses (with
 * addresses and times) that a replay needs as input.
 *
 * Other capture formats (bpftrace, kfd-smi, nsys-sqlite) go through the importer registry
 * (src/import/registry.ts) from src/cli/import.ts, which hands `--from dmesg` to this module.
 */

import { dmesgLog, newLogCounts } from '../validate/dmesg.js';
import { observationJson, observationsHeader } from '../validate/capture.js';
import { TraceInputError } from '../trace/index.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import { heldSink, outputFor, yieldToSignals } from './output.js';

/** `svmsim import FILE --from dmesg [-o OUT]` (dispatched from src/cli/import.ts). */
export async function runDmesgImport(file: string, o: { output?: string }, io: CliIo): Promise<void> {
  if (file === '-') throw new UsageError('import --from dmesg: give the log as a file');
  const counts = newLogCounts();
  const out = outputFor(io, o.output);
  const { sink, flush } = heldSink(out.write);
  try {
    sink(observationsHeader('dmesg', file) + '\n');
    const log = dmesgLog({ path: file }, counts);
    let batch = '';
    for (const obs of log.observations) {
      batch += observationJson(obs) + '\n';
      if (batch.length > 1 << 16) {
        sink(batch);
        batch = '';
        await yieldToSignals(); // Ctrl-C removes the temporary output file
      }
    }
    sink(batch);
    if (counts.svm === 0)
      throw new TraceInputError(
        file,
        0,
        `no Xe SVM line in ${counts.lines} lines: nothing to import (see docs/capture.md for the kernel options that print them)`,
      );
    flush();
  } catch (e) {
    out.abort();
    throw e;
  }
  await out.close();
  io.stderr(
    `svmsim: imported ${counts.svm} Xe SVM lines of ${counts.lines} (${counts.otherXe + counts.otherDrivers} other, ${counts.wrapped + counts.truncated} wrapped/truncated skipped)\n`,
  );
}
