/**
 * DOC: `svmsim compare` — one trace, many kernels and platforms, one table
 *
 * Reads the trace once and steps one simulator per combination of the list-valued options
 * (`--kernel 6.15,6.18`, `--vram 4G,16G`, `--set need64k=true,false`, repeatable), in lockstep,
 * so a long recording is parsed once whatever the number of combinations.
 */

import { statNames } from '../core/xe-gt-stats.js';
import { Simulator } from '../core/simulator.js';
import type { Platform } from '../core/platform.js';
import { renderCompare, type CompareColumn } from '../report/compare.js';
import { parsePlatformSettings, PLATFORM_ALIASES, type TraceFormat } from '../trace/index.js';
import { openInput } from './input.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import { thrashOptions } from './options.js';
import { buildPlatform, checkModelMemory, PROGRESS_EVERY } from './replay.js';

export interface CompareOpts {
  kernel?: string;
  vram?: string;
  set: string[];
  format: 'table' | 'markdown' | 'csv' | 'json';
  inputFormat?: TraceFormat;
  all?: boolean;
  output?: string;
  thrashThreshold: string;
  thrashWindow: string;
}

/** Axes of the comparison: knob → values (as written). */
export function axes(o: Pick<CompareOpts, 'kernel' | 'vram' | 'set'>): [string, string[]][] {
  const out: [string, string[], string][] = [];
  const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  if (o.kernel !== undefined) out.push(['kernel', split(o.kernel), `--kernel ${o.kernel}`]);
  if (o.vram !== undefined) out.push(['vram', split(o.vram), `--vram ${o.vram}`]);
  for (const kv of o.set) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${kv}: expected knob=value[,value...]`);
    out.push([kv.slice(0, eq).trim(), split(kv.slice(eq + 1)), `--set ${kv}`]);
  }
  for (const [k, vs] of out) if (vs.length === 0) throw new UsageError(`--${k}: no values`);
  // One axis per knob: `--set vram=1M --vram 4M,8M` (or a knob and its alias) is refused, not merged.
  const seen = new Map<string, string>();
  for (const [k, , flag] of out) {
    const name = Object.hasOwn(PLATFORM_ALIASES, k) ? PLATFORM_ALIASES[k] : k;
    const before = seen.get(name);
    if (before !== undefined) throw new UsageError(`platform knob "${name}" is given twice (${before} and ${flag}); give all its values in one list`);
    seen.set(name, flag);
  }
  return out.map(([k, vs]) => [k, vs]);
}

/** Cartesian product of the axes. */
export function combinations(ax: [string, string[]][]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [k, vs] of ax) out = out.flatMap((c) => vs.map((v) => Object.assign(Object.create(null) as Record<string, string>, c, { [k]: v })));
  return out;
}

/** The platform and label of each combination (trace header, then the combination's knobs). */
export function configurations(combos: Record<string, string>[], fromTrace: Partial<Platform>): { label: string; platform: Platform }[] {
  return combos.map((c) => {
    const platform = buildPlatform(fromTrace, parsePlatformSettings(c, 'command line'));
    const label = Object.keys(c).length === 0 ? platform.kernel : Object.entries(c).map(([k, v]) => (k === 'kernel' ? v : `${k}=${v}`)).join(' ');
    return { label, platform };
  });
}

export async function runCompare(trace: string, o: CompareOpts, io: CliIo, detect: (f: string, x?: string) => TraceFormat | undefined): Promise<void> {
  const combos = combinations(axes(o));
  if (combos.length > 64) throw new UsageError(`${combos.length} combinations: at most 64`);
  const thrash = thrashOptions(o);
  const format = detect(trace, o.inputFormat);
  const handle = await openInput(io, trace, format);

  const sims = configurations(combos, handle.platform).map(({ label, platform }) => ({ label, sim: new Simulator(platform, { record: false, thrash }) }));
  let events = 0;
  for (const e of handle.events) {
    events++;
    for (const s of sims) s.sim.step(e.core);
    if (e.core.npages > 512 || events % PROGRESS_EVERY === 0) checkModelMemory();
  }
  const columns: CompareColumn[] = sims.map(({ label, sim }) => {
    const snap = sim.snapshot();
    return { label, counters: new Map(snap.stats[0].counters), metrics: snap.metrics, thrashing: snap.thrashing };
  });
  const text = renderCompare({ events, counterOrder: statNames('6.18'), columns, all: o.all ?? false }, o.format);
  if (o.output !== undefined) await io.writeFileAtomic(o.output, text);
  else io.stdout(text);
}
