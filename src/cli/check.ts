/**
 * DOC: `svmsim check` — validate and lint a trace without replaying it
 *
 * Reads the whole trace, collecting every bad line (up to --max-errors) instead of stopping at
 * the first, and runs the lints of src/trace/lint.ts. Prints `file:line: error|warning: ...`
 * lines and a summary; exit 2 when there is an error, 0 otherwise (warnings do not fail).
 */

import { hexAddr, hexPage } from '../report/format.js';
import { Linter, TraceInputError, type LintWarning, type TraceFormat } from '../trace/index.js';
import { openInput } from './input.js';
import { TraceInputErrors } from './errors.js';
import type { CliIo } from './main.js';
import type { CheckOpts } from './commands.js';
import { buildPlatform } from '../replay/replay.js';

const WORDING: Record<LintWarning['code'], (w: LintWarning) => string> = {
  munmap_nothing: (w) => `${w.op} of ${hexPage(w.page)}: nothing is mapped there`,
  gpu_unmapped: (w) => `${w.op} at ${hexPage(w.page)}: no CPU mapping (the fault will fail with -ENOENT)`,
  cpu_unmapped: (w) => `${w.op} at ${hexPage(w.page)}: no CPU mapping (SIGSEGV)`,
  straddle: (w) => `${w.op} at ${hexPage(w.page)}: the access spans more than one mapping or runs past its end`,
  kernel_lacks: (w) => `${w.what ?? w.op}: kernel lacks it (added in ${w.since}); it replays as -EINVAL`,
  unaligned: (w) =>
    `${w.op} at ${w.addr !== undefined ? hexAddr(w.addr) : hexPage(w.page)}: address not page aligned (replays as -EINVAL)`,
};

export async function runCheck(
  trace: string,
  o: CheckOpts,
  io: CliIo,
  detect: (f: string, x?: string) => TraceFormat | undefined,
): Promise<void> {
  const max = o.maxErrors ?? Number.POSITIVE_INFINITY;
  const errors: TraceInputError[] = [];
  const stop = new Error('max errors');
  const onError = (e: TraceInputError) => {
    errors.push(e);
    if (errors.length >= max) throw stop;
  };
  const format = detect(trace, o.inputFormat);
  const file = trace === '-' ? '<stdin>' : trace;
  let events = 0;
  let lint = new Linter(o.kernel ?? '6.18');
  let kernel = lint.kernelVersion;
  try {
    const handle = await openInput(io, trace, format, onError);
    kernel = buildPlatform(handle.platform, o.kernel ? { kernel: o.kernel } : {}).kernel;
    lint = new Linter(kernel);
    for (const e of handle.events) {
      events++;
      lint.add(e);
    }
  } catch (e) {
    // A problem that ends the read (a bad header, "no events") joins the list.
    if (e instanceof TraceInputError) {
      if (!(e.detail === 'no events' && errors.length > 0)) errors.push(e);
    } else if (e !== stop) throw e;
  }
  const lines: [number, string][] = [
    ...errors.map((e) => [e.line, e.message.replace(/^([^:]+:\d+(?::\d+)?): /, '$1: error: ')] as [number, string]),
    ...lint.warnings.map((w) => [w.line, `${file}:${w.line}: warning: ${WORDING[w.code](w)}`] as [number, string]),
  ].sort((a, b) => a[0] - b[0]);
  io.stdout(lines.map(([, l]) => l + '\n').join(''));
  io.stdout(
    `check: ${events} events, ${errors.length} error${errors.length === 1 ? '' : 's'}, ${lint.warnings.length} warning${lint.warnings.length === 1 ? '' : 's'} (kernel ${kernel})\n`,
  );
  if (errors.length > 0) throw new TraceInputErrors(errors, true);
}
