/**
 * DOC: `svmsim compare` — traces × kernels × platforms, one table per trace
 *
 * The grid: every trace given × every combination of the list-valued options (`--kernel
 * 6.15,6.18`, `--vram 4G,16G`, `--set need64k=true,false`, repeatable). Each cell is one replay
 * ("job") summarised as a column: GT0 counters, metrics, thrashing ranges.
 *
 * - Files: the jobs run on all cores (`--jobs`, default the available parallelism) through
 *   `CliIo.runCompareJobs` — worker threads, each replaying one job at a time from the file, so
 *   the CPU cost is that of the separate replays. Without workers (tests, one core) the jobs of a
 *   trace are replayed in lockstep from one parse.
 * - stdin (`-`) streams like `replay`: one pass, every combination stepped in lockstep.
 * - `--shard I/N` (1 ≤ I ≤ N) runs the I-th of N contiguous, deterministic slices of the job list
 *   (trace-major, combinations in option order) and writes a partial result (JSON);
 *   `compare --merge PART...` checks the parts belong to one grid and cover it exactly once, and
 *   prints exactly what the unsharded run prints (docs/sharding.md: GitHub Actions, Kubernetes).
 */

import { statSync } from 'node:fs';
import { statNames, type StatName } from '../core/xe-gt-stats.js';
import { Simulator } from '../core/simulator.js';
import type { Metrics, ThrashOptions } from '../core/metrics.js';
import type { Platform } from '../core/platform.js';
import { renderCompareTraces, type CompareColumn } from '../report/compare.js';
import {
  eventPuller,
  openTrace,
  parsePlatformSettings,
  PLATFORM_ALIASES,
  type TraceFormat,
  type TraceHandle,
} from '../trace/index.js';
import { openInput } from './input.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import type { CompareOpts } from './commands.js';
import { checkKnobUnit, knobValue } from './settings.js';
import { thrashOptions } from './options.js';
import { buildPlatform, checkModelMemory, PROGRESS_EVERY } from '../replay/replay.js';

/** One replay of the grid: a trace under one combination of settings. */
export interface CompareJob {
  trace: string;
  format?: TraceFormat;
  settings: Record<string, string>;
  thrash: ThrashOptions;
}

/** What a job contributes: its column and the trace's event count. */
export interface CompareJobResult {
  events: number;
  /** Kernel of the platform (the column label when no option varies). */
  kernel: string;
  counters: [StatName, number][];
  metrics: Metrics;
  thrashing: number;
}

/** Axes of the comparison: knob → values (as written). */
export function axes(o: Pick<CompareOpts, 'kernel' | 'vram' | 'set'>): [string, string[]][] {
  const out: [string, string[], string][] = [];
  const split = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (o.kernel !== undefined) out.push(['kernel', split(o.kernel), `--kernel ${o.kernel}`]);
  if (o.vram !== undefined) out.push(['vram', split(o.vram), `--vram ${o.vram}`]);
  for (const kv of o.set) {
    const [k, v] = knobValue(kv, 'knob=value[,value...]');
    const vs = split(v);
    for (const x of vs) checkKnobUnit(k, x, `--set ${kv}`);
    out.push([k, vs, `--set ${kv}`]);
  }
  for (const [k, vs] of out) if (vs.length === 0) throw new UsageError(`--${k}: no values`);
  // One axis per knob: `--set vram=1M --vram 4M,8M` (or a knob and its alias) is refused, not merged.
  const seen = new Map<string, string>();
  for (const [k, , flag] of out) {
    const name = Object.hasOwn(PLATFORM_ALIASES, k) ? PLATFORM_ALIASES[k] : k;
    const before = seen.get(name);
    if (before !== undefined)
      throw new UsageError(
        `platform knob "${name}" is given twice (${before} and ${flag}); give all its values in one list`,
      );
    seen.set(name, flag);
  }
  return out.map(([k, vs]) => [k, vs]);
}

/** Cartesian product of the axes. */
export function combinations(ax: [string, string[]][]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [k, vs] of ax)
    out = out.flatMap((c) =>
      vs.map((v) => Object.assign(Object.create(null) as Record<string, string>, c, { [k]: v })),
    );
  return out;
}

/** The platform and label of each combination (trace header, then the combination's knobs). */
export function configurations(
  combos: Record<string, string>[],
  fromTrace: Partial<Platform>,
): { label: string; platform: Platform }[] {
  return combos.map((c) => {
    const platform = buildPlatform(fromTrace, parsePlatformSettings(c, 'command line'));
    return { label: label(c, platform.kernel), platform };
  });
}

/** Column label of a combination: its knob values, or the kernel when no option varies. */
function label(settings: Record<string, string>, kernel: string): string {
  return Object.keys(settings).length === 0
    ? kernel
    : Object.entries(settings)
        .map(([k, v]) => (k === 'kernel' ? v : `${k}=${v}`))
        .join(' ');
}

function jobResult(sim: Simulator, events: number): CompareJobResult {
  const snap = sim.snapshot();
  return {
    events,
    kernel: sim.platform.kernel,
    counters: snap.stats[0].counters,
    metrics: snap.metrics,
    thrashing: snap.thrashing.length,
  };
}

/** Replay several combinations of one trace in lockstep, from one pass over its events. */
function replayLockstep(handle: TraceHandle, jobs: CompareJob[]): CompareJobResult[] {
  const sims = jobs.map(
    (j) =>
      new Simulator(configurations([j.settings], handle.platform)[0].platform, { record: false, thrash: j.thrash }),
  );
  // Each event is done with before the next is read: the reader may reuse one event object.
  const next = eventPuller(handle.events, true);
  let events = 0;
  for (let e = next(); e !== undefined; e = next()) {
    events++;
    for (const s of sims) s.step(e.core);
    if (e.core.npages > 512 || events % PROGRESS_EVERY === 0) checkModelMemory();
  }
  return sims.map((s) => jobResult(s, events));
}

/** One job, from its file (what a worker thread runs). */
export function runCompareJob(job: CompareJob): CompareJobResult {
  return replayLockstep(openTrace(job.trace, job.trace, job.format), [job])[0];
}

/** The grid of a compare run, as recorded in partial results (parts must agree on it). */
interface Grid {
  traces: string[];
  axes: [string, string[]][];
  inputFormat: string | null;
  thrash: ThrashOptions;
}

/** A partial result: the jobs of one shard. */
interface Part {
  svmsim_compare_part: 1;
  grid: Grid;
  shard: [number, number];
  results: { job: number; label: string; result: CompareJobResult }[];
}

/** --shard I/N: the jobs of slice I (1-based) of N, contiguous and deterministic. */
export function shardRange(total: number, i: number, n: number): [number, number] {
  return [Math.floor(((i - 1) * total) / n), Math.floor((i * total) / n)];
}

export async function runCompare(
  traces: string[],
  o: CompareOpts,
  io: CliIo,
  detect: (f: string, x?: string) => TraceFormat | undefined,
): Promise<void> {
  if (o.merge) return runMerge(traces, o, io);
  if (traces.length === 0) throw new UsageError('compare: expected a trace (or --merge PART...)');
  if (traces.filter((t) => t === '-').length > 0 && traces.length > 1)
    throw new UsageError('compare: stdin (-) can only be the one trace');
  const ax = axes(o);
  const combos = combinations(ax);
  if (combos.length > 64) throw new UsageError(`${combos.length} combinations: at most 64`);
  for (const c of combos) parsePlatformSettings(c, 'command line');
  const thrash = thrashOptions(o);
  const grid: Grid = { traces, axes: ax, inputFormat: o.inputFormat ?? null, thrash };
  const jobs: CompareJob[] = traces.flatMap((trace) =>
    combos.map((settings) => ({ trace, format: detect(trace, o.inputFormat), settings, thrash })),
  );
  const [from, to] = o.shard === undefined ? [0, jobs.length] : shardRange(jobs.length, ...o.shard);
  const mine = jobs.slice(from, to);
  const results = await runJobs(mine, o, io);
  const done = results.map((result, k) => ({ job: from + k, label: label(mine[k].settings, result.kernel), result }));
  let text: string;
  if (o.shard !== undefined) {
    const part: Part = { svmsim_compare_part: 1, grid, shard: o.shard, results: done };
    text = JSON.stringify(part) + '\n';
  } else text = render(grid, combos.length, done, o);
  if (o.output !== undefined) await io.writeFileAtomic(o.output, text);
  else io.stdout(text);
}

/** Run jobs: stdin in lockstep from one stream; files on worker threads when there are several. */
async function runJobs(jobs: CompareJob[], o: CompareOpts, io: CliIo): Promise<CompareJobResult[]> {
  if (jobs.length === 0) return [];
  if (jobs[0].trace === '-') return replayLockstep(await openInput(io, '-', jobs[0].format), jobs);
  const workers = o.jobs;
  // Open every trace here first: a missing file or bad header fails before any worker starts.
  const handles = new Map<string, TraceHandle>();
  for (const j of jobs) if (!handles.has(j.trace)) handles.set(j.trace, await openInput(io, j.trace, j.format));
  // Workers re-open the files: only regular files (a FIFO or a process substitution reads once).
  const regular = jobs.every((j) => statSync(j.trace).isFile());
  if (io.runCompareJobs !== undefined && jobs.length > 1 && workers !== 1 && regular)
    return io.runCompareJobs(jobs, workers);
  // In-process: the jobs of each trace in lockstep from one parse.
  const out: CompareJobResult[] = [];
  for (const [trace, handle] of handles)
    out.push(
      ...replayLockstep(
        handle,
        jobs.filter((j) => j.trace === trace),
      ),
    );
  return out;
}

function render(grid: Grid, perTrace: number, done: Part['results'], o: CompareOpts): string {
  const sections = grid.traces.map((trace, t) => {
    const cells = done.slice(t * perTrace, (t + 1) * perTrace);
    const columns: CompareColumn[] = cells.map((c) => ({
      label: c.label,
      counters: new Map(c.result.counters),
      metrics: c.result.metrics,
      thrashing: c.result.thrashing,
    }));
    return {
      trace,
      result: { events: cells[0].result.events, counterOrder: statNames('6.18'), columns, all: o.all ?? false },
    };
  });
  return renderCompareTraces(sections, o.format);
}

/** compare --merge PART...: the unsharded output from partial results. */
async function runMerge(files: string[], o: CompareOpts, io: CliIo): Promise<void> {
  if (files.length === 0)
    throw new UsageError('compare --merge: expected the partial results (files written with --shard I/N)');
  const parts: Part[] = [];
  for (const f of files) {
    let p: Part;
    try {
      p = JSON.parse(await io.readText(f)) as Part;
    } catch {
      throw new UsageError(`${f}: not a partial result of compare --shard`);
    }
    if (p?.svmsim_compare_part !== 1 || !Array.isArray(p.results))
      throw new UsageError(`${f}: not a partial result of compare --shard`);
    parts.push(p);
  }
  const grid = parts[0].grid;
  const n = parts[0].shard[1];
  for (const [k, p] of parts.entries()) {
    if (JSON.stringify(p.grid) !== JSON.stringify(grid))
      throw new UsageError(`${files[k]}: from a different compare (traces, options) than ${files[0]}`);
    if (p.shard[1] !== n)
      throw new UsageError(`${files[k]}: shard ${p.shard.join('/')}, but ${files[0]} is one of ${n}`);
  }
  const seen = new Set<number>();
  for (const [k, p] of parts.entries()) {
    if (seen.has(p.shard[0])) throw new UsageError(`${files[k]}: shard ${p.shard.join('/')} given twice`);
    seen.add(p.shard[0]);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0)
    throw new UsageError(
      `compare --merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')}`,
    );
  const done = parts.flatMap((p) => p.results).sort((a, b) => a.job - b.job);
  const perTrace = combinations(grid.axes).length;
  const text = render(grid, perTrace, done, o);
  if (o.output !== undefined) await io.writeFileAtomic(o.output, text);
  else io.stdout(text);
}
