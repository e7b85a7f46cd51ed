/**
 * DOC: `svmsim validate` output — the verdict, as text or JSON
 *
 * Kernel log: what the log held, one row per label (lines in the log, lines from the model,
 * lines matched before the first divergence), then the verdict; at a divergence, the log's line
 * and the model's (event seq, trace line, `replay --format dmesg` line), what each side did, and
 * a few lines of context on both sides. Stats: one row per counter (before, after, delta, model,
 * verdict). JSON keeps a stable key order; bigints print as decimal strings.
 */

import type { AlignResult, KernelSide, ModelSide } from '../validate/align.js';
import type { LogCounts } from '../validate/dmesg.js';
import type { StatsResult } from '../validate/stats.js';

export interface KernelLogReport {
  trace: string;
  log: string;
  kernel: string;
  asid: number | undefined;
  otherAsids: [number, number][];
  counts: LogCounts;
  result: AlignResult;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** Text of the kernel-log check. */
export function renderKernelLog(r: KernelLogReport): string {
  const c = r.counts;
  const out: string[] = [];
  out.push(`validate ${r.trace} against ${r.log} (kernel ${r.kernel}, asid ${r.asid ?? '-'})`);
  out.push(
    `log: ${c.lines} lines: ${c.svm} Xe SVM, ${c.otherXe} other xe, ${c.otherDrivers} other drivers, ${c.wrapped} wrapped and ${c.truncated} truncated (skipped), ${c.blank} blank`,
  );
  if (r.otherAsids.length > 0)
    out.push(
      `other VMs skipped: ${r.otherAsids.map(([a, n]) => `asid ${a} (${n} lines)`).join(', ')}; pick one with --asid`,
    );
  const w = Math.max(5, ...r.result.labels.map((l) => l.label.length));
  out.push('');
  out.push(`${pad('label', w)}  ${lpad('kernel', 8)}  ${lpad('model', 8)}  ${lpad('matched', 8)}`);
  for (const l of r.result.labels)
    out.push(
      `${pad(l.label, w)}  ${lpad(String(l.kernel), 8)}  ${lpad(String(l.model), 8)}  ${lpad(String(l.matched), 8)}`,
    );
  out.push('');
  const d = r.result.divergence;
  if (d === undefined) {
    out.push(`agree: ${r.result.compared} lines match`);
    return out.join('\n') + '\n';
  }
  out.push(`DIVERGE after ${d.index} matching lines`);
  const kAt = d.kernel !== undefined ? `${r.log}:${d.kernel.line}` : `${r.log}: end of log`;
  const mAt =
    d.model !== undefined
      ? `event seq ${d.model.seq}, trace line ${d.model.traceLine}, replay --format dmesg line ${d.model.outLine}`
      : 'end of the model output';
  out.push(`  kernel (${kAt}): ${d.kernel !== undefined ? what(d.kernel) : 'nothing more'}`);
  out.push(`  model  (${mAt}): ${d.model !== undefined ? what(d.model) : 'nothing more'}`);
  out.push('');
  out.push('kernel log:');
  for (const p of d.before) out.push(`    ${r.log}:${p.kernel.line}  ${p.kernel.text}`);
  if (d.kernel !== undefined) out.push(`  > ${r.log}:${d.kernel.line}  ${d.kernel.text}`);
  for (const k of d.kernelAfter) out.push(`    ${r.log}:${k.line}  ${k.text}`);
  out.push('model (replay --format dmesg):');
  for (const p of d.before) out.push(`    ${p.model.outLine} (seq ${p.model.seq})  ${p.model.text}`);
  if (d.model !== undefined) out.push(`  > ${d.model.outLine} (seq ${d.model.seq})  ${d.model.text}`);
  for (const m of d.modelAfter) out.push(`    ${m.outLine} (seq ${m.seq})  ${m.text}`);
  return out.join('\n') + '\n';
}

/** A side's key, readable: label and fields. */
function what(s: KernelSide | ModelSide): string {
  const [label, ...rest] = s.key.split('|');
  if (rest.length === 0) return label;
  const f: string[] = [];
  for (const x of rest) {
    if (x.startsWith('event=') || x.startsWith('npages=')) f.push(x);
    else if (/^\d,\d$/.test(x)) f.push(`vram=${x}`);
    else f.push(`0x${x}`);
  }
  // start and end come first as two hex fields.
  const hex = f.filter((x) => x.startsWith('0x'));
  const other = f.filter((x) => !x.startsWith('0x'));
  return `${label}${hex.length === 2 ? ` [${hex[0]}, ${hex[1]})` : ''}${other.length > 0 ? ' ' + other.join(' ') : ''}`;
}

/** JSON of the kernel-log check. */
export function kernelLogJson(r: KernelLogReport): Record<string, unknown> {
  const d = r.result.divergence;
  const side = (s: KernelSide | ModelSide | undefined) => (s === undefined ? null : { ...s, what: what(s) });
  return {
    check: 'kernel-log',
    trace: r.trace,
    log: r.log,
    kernel: r.kernel,
    asid: r.asid ?? null,
    otherAsids: r.otherAsids.map(([asid, lines]) => ({ asid, lines })),
    lines: { ...r.counts },
    labels: r.result.labels,
    compared: r.result.compared,
    verdict: d === undefined ? 'agree' : 'diverge',
    divergence:
      d === undefined
        ? null
        : {
            index: d.index,
            kernel: side(d.kernel),
            model: side(d.model),
            before: d.before,
            kernelAfter: d.kernelAfter,
            modelAfter: d.modelAfter,
          },
  };
}

/** Text of the stats check. */
export function renderStats(r: StatsResult, before: string, after: string): string {
  const out: string[] = [];
  out.push(
    `validate gt${r.gt} stats ${before} -> ${after} (kernel ${r.kernel}${r.usTolerancePct !== undefined ? `, _us tolerance ${r.usTolerancePct}%` : ', _us not checked'})`,
  );
  const w = Math.max(7, ...r.rows.map((x) => x.name.length));
  out.push(
    `${pad('counter', w)}  ${lpad('before', 12)}  ${lpad('after', 12)}  ${lpad('delta', 10)}  ${lpad('model', 10)}  verdict`,
  );
  let quiet = 0;
  for (const x of r.rows) {
    if (x.delta === 0n && x.model === 0) {
      quiet++;
      continue;
    }
    const v =
      x.verdict === 'ok'
        ? 'ok'
        : x.verdict === 'info'
          ? '(time, not checked)'
          : x.verdict === 'differs'
            ? 'DIFFERS'
            : 'OVER TOLERANCE';
    out.push(
      `${pad(x.name, w)}  ${lpad(String(x.before), 12)}  ${lpad(String(x.after), 12)}  ${lpad(String(x.delta), 10)}  ${lpad(String(x.model), 10)}  ${v}`,
    );
  }
  if (quiet > 0) out.push(`(${quiet} more counters unchanged, and 0 in the model: ok)`);
  out.push('');
  out.push(
    r.failures === 0
      ? `agree: ${r.rows.length} counters`
      : `DIVERGE: ${r.failures} counter${r.failures === 1 ? '' : 's'} differ`,
  );
  return out.join('\n') + '\n';
}

/** JSON of the stats check. */
export function statsJson(r: StatsResult, before: string, after: string): Record<string, unknown> {
  return {
    check: 'stats',
    gt: r.gt,
    kernel: r.kernel,
    before,
    after,
    usTolerancePct: r.usTolerancePct ?? null,
    verdict: r.failures === 0 ? 'agree' : 'diverge',
    failures: r.failures,
    counters: r.rows.map((x) => ({
      name: x.name,
      before: String(x.before),
      after: String(x.after),
      delta: String(x.delta),
      model: x.model,
      verdict: x.verdict,
    })),
  };
}
