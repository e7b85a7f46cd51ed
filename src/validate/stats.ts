/**
 * DOC: Checking debugfs GT stats snapshots against the model
 *
 * `gtN/stats` prints one `name: value` line per counter of `enum xe_gt_stats_id`, in enum order
 * ("%s: %lld\n", xe_gt_stats_print_info()). Two snapshots, read before and after the workload,
 * give the kernel's deltas; the model's counters after replaying the trace (from zero) are what
 * it expects them to be. Counts and `_kb` counters must be equal. `_us` counters are wall-clock
 * time on the real machine against the cost model's estimate: shown side by side, and failing
 * only when a tolerance (percent of the model's value) is given.
 *
 * A snapshot whose counter list is not the list of the chosen kernel is bad input: the counters
 * that differ are named, and the kernel whose list it is, when there is one.
 */

import { KERNEL_VERSIONS, type KernelVersion } from '../core/platform.js';
import { statNames } from '../core/xe-gt-stats.js';
import { TraceInputError } from '../trace/index.js';

/** One parsed snapshot: counters in file order. */
export interface StatsSnapshot {
  file: string;
  counters: [string, bigint][];
}

const STAT_LINE = /^([A-Za-z0-9_]+): (-?\d+)$/;

/** Parse a `gtN/stats` file. Blank lines are ignored; anything else not `name: value` is bad input. */
export function parseStats(text: string, file: string): StatsSnapshot {
  const counters: [string, bigint][] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/\r$/, '');
    if (l.trim() === '') continue;
    const m = STAT_LINE.exec(l);
    if (m === null)
      throw new TraceInputError(
        file,
        i + 1,
        `expected a debugfs gtN/stats line "name: value", got "${l.slice(0, 80)}"`,
      );
    if (seen.has(m[1])) throw new TraceInputError(file, i + 1, `counter ${m[1]} appears twice`);
    seen.add(m[1]);
    counters.push([m[1], BigInt(m[2])]);
  }
  if (counters.length === 0)
    throw new TraceInputError(
      file,
      0,
      'empty stats snapshot: expected the contents of /sys/kernel/debug/dri/N/gtM/stats',
    );
  return { file, counters };
}

/** The kernels whose counter list is exactly this snapshot's. */
function kernelsWithList(names: readonly string[]): KernelVersion[] {
  return KERNEL_VERSIONS.filter((k) => {
    const l = statNames(k);
    return l.length === names.length && l.every((n, i) => n === names[i]);
  });
}

/** Throw bad input unless the snapshot lists exactly `kernel`'s counters, in its order. */
export function checkCounterList(s: StatsSnapshot, kernel: KernelVersion): void {
  const names = s.counters.map(([n]) => n);
  const want = statNames(kernel);
  if (names.length === want.length && names.every((n, i) => n === want[i])) return;
  const have = new Set(names);
  const wantSet = new Set<string>(want);
  const missing = want.filter((n) => !have.has(n));
  const extra = names.filter((n) => !wantSet.has(n));
  const like = kernelsWithList(names);
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`not in ${kernel}: ${extra.join(', ')}`);
  if (parts.length === 0) parts.push('same counters in another order');
  const looks =
    like.length > 0
      ? `; it looks like kernel ${like.join(' / ')} (use --kernel ${like[like.length - 1]})`
      : '; it matches no kernel profile';
  throw new TraceInputError(s.file, 0, `counter list is not kernel ${kernel}'s: ${parts.join('; ')}${looks}`);
}

type CounterVerdict = 'ok' | 'differs' | 'info' | 'over_tolerance';

interface CounterRow {
  name: string;
  before: bigint;
  after: bigint;
  delta: bigint;
  model: number;
  verdict: CounterVerdict;
}

export interface StatsResult {
  gt: number;
  kernel: KernelVersion;
  usTolerancePct?: number;
  rows: CounterRow[];
  /** Rows that fail the check. */
  failures: number;
}

/** Compare the deltas AFTER − BEFORE with the model's counters of one GT. */
export function compareStats(
  before: StatsSnapshot,
  after: StatsSnapshot,
  model: ReadonlyMap<string, number>,
  opts: { gt: number; kernel: KernelVersion; usTolerancePct?: number },
): StatsResult {
  checkCounterList(before, opts.kernel);
  checkCounterList(after, opts.kernel);
  const b = new Map(before.counters);
  const rows: CounterRow[] = [];
  let failures = 0;
  for (const [name, a] of after.counters) {
    const bv = b.get(name)!;
    const delta = a - bv;
    if (delta < 0n)
      throw new TraceInputError(
        after.file,
        0,
        `counter ${name} went down (${bv} → ${a}): AFTER must be read after BEFORE, from the same GT, without a reset in between`,
      );
    const m = model.get(name) ?? 0;
    let verdict: CounterVerdict;
    if (name.endsWith('_us')) {
      if (opts.usTolerancePct === undefined) verdict = 'info';
      else {
        const diff = Math.abs(Number(delta) - m);
        verdict = diff <= (Math.abs(m) * opts.usTolerancePct) / 100 ? 'ok' : 'over_tolerance';
      }
    } else verdict = delta === BigInt(Math.round(m)) ? 'ok' : 'differs';
    if (verdict === 'differs' || verdict === 'over_tolerance') failures++;
    rows.push({ name, before: bv, after: a, delta, model: m, verdict });
  }
  return { gt: opts.gt, kernel: opts.kernel, usTolerancePct: opts.usTolerancePct, rows, failures };
}
