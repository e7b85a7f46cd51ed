/**
 * DOC: Replay driver
 *
 * Glue between a parsed trace, the simulator and a reporter: builds the platform (defaults for
 * the kernel, then the trace header, then command-line overrides), replays every event in order
 * and hands each result to the reporter. No formatting here, no exit codes.
 */

import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import type { CoreEvent } from '../core/events.js';
import { ModelMemoryError } from './errors.js';
import { defaultPlatform, type KernelVersion, type Platform } from '../core/platform.js';
import { Simulator, type SimulatorOptions } from '../core/simulator.js';
import type { ThrashOptions } from '../core/metrics.js';
import type { EventResult } from '../core/decisions.js';
import type { EventEcho, Reporter } from '../report/reporter.js';
import { ByteEvent, eventPuller, type ParsedEvent } from '../trace/index.js';

/** defaults(kernel) ← trace header ← command line. The kernel decides the version defaults. */
export function buildPlatform(fromTrace: Partial<Platform>, fromCli: Partial<Platform>): Platform {
  const kernel: KernelVersion = fromCli.kernel ?? fromTrace.kernel ?? '6.18';
  return { ...defaultPlatform(kernel), ...fromTrace, ...fromCli, kernel };
}

/** The fields of an event without op-specific fields (shared: readers never write it). */
const NO_FIELDS: [string, string][] = [];

/** One-field echoes by key and value (a handful of enum values): shared, readers never write them. */
const ONE_FIELD = new Map<string, Map<string, [string, string][]>>();
function oneField(key: string, value: string): [string, string][] {
  let byValue = ONE_FIELD.get(key);
  if (byValue === undefined) ONE_FIELD.set(key, (byValue = new Map()));
  let f = byValue.get(value);
  if (f === undefined) {
    f = [[key, value]];
    if (byValue.size < 64) byValue.set(value, f);
  }
  return f;
}

/** An mmap's echo by prot and kind (a handful of each): shared, readers never write them. */
const MMAP_FIELDS = new Map<string, Map<string, [string, string][]>>();
function mmapFields(prot: string, kind: string): [string, string][] {
  let byKind = MMAP_FIELDS.get(prot);
  if (byKind === undefined && MMAP_FIELDS.size < 64) MMAP_FIELDS.set(prot, (byKind = new Map()));
  let f = byKind?.get(kind);
  if (f === undefined) {
    f = [
      ['prot', prot],
      ['kind', kind],
    ];
    if (byKind !== undefined && byKind.size < 64) byKind.set(kind, f);
  }
  return f;
}

/** Op-specific fields of an event, for the report (shared arrays: never write them). */
export function echoFields(ev: CoreEvent): [string, string][] {
  switch (ev.op) {
    case 'mmap':
      return mmapFields(ev.prot, ev.kind);
    case 'mprotect':
      return oneField('prot', ev.prot);
    case 'madvise':
      return oneField('advice', ev.advice);
    case 'gpu_fault':
      return oneField('access', ev.access);
    case 'xe_prefetch':
      return oneField('region', ev.region);
    case 'xe_madvise':
      return ev.preferred !== undefined
        ? oneField('preferred', ev.preferred)
        : ev.atomic !== undefined
          ? oneField('atomic', ev.atomic)
          : NO_FIELDS;
    default:
      return NO_FIELDS;
  }
}

/**
 * An event's echo, taken from the core event's page numbers: the bigint byte address is made
 * only when a reporter reads `addr` (the JSON writers print the page numbers).
 */
class Echo implements EventEcho {
  readonly pid: number | undefined;
  constructor(
    readonly line: number,
    readonly t: number,
    readonly op: string,
    readonly page: number,
    readonly offset: number,
    /** The size as a number when the reader has it (then `big` is undefined: made only when read). */
    readonly sizeNumber: number | undefined,
    private readonly big: bigint | undefined,
    readonly fields: [string, string][],
    pid: number | undefined,
  ) {
    this.pid = pid;
  }
  get addr(): bigint {
    return (BigInt(this.page) << 12n) + BigInt(this.offset);
  }
  get size(): bigint {
    return this.big ?? BigInt(this.sizeNumber ?? 0);
  }
}

function echoOf(e: ParsedEvent): EventEcho {
  const c = e.core;
  let fields = echoFields(c);
  if (e.implicit) fields = [...fields, ['implicit', 'yes']];
  // (a reader's size as a number when it has one: no bigint per event for the JSON writers)
  const n = e.sizeNumber;
  return n !== undefined
    ? new Echo(e.line, c.t, c.op, c.page, c.offset, n, undefined, fields, c.pid)
    : new Echo(e.line, c.t, c.op, c.page, c.offset, undefined, e.size, fields, c.pid);
}

const GPU_OPS = new Set(['gpu_read', 'gpu_write', 'gpu_atomic', 'gpu_fault']);

/**
 * Watches a replay for a faults-only recording: a trace that maps nothing at all, whose GPU
 * accesses fail with -ENOENT (no CPU VMA). `first()` is the first such failure, or undefined when
 * the trace has an mmap anywhere (then the failures are the trace's own business).
 */
export function unmappedFaultWatch(): {
  /** Sees an event and its result; true once the trace has mapped something (then nothing more matters). */
  see: (e: ParsedEvent, r: EventResult) => boolean;
  first: () => UnmappedFault | undefined;
} {
  let mapped = false;
  let first: UnmappedFault | undefined;
  return {
    see: (e, r) => {
      if (e.core.op === 'mmap') mapped = true;
      else if (
        !mapped &&
        first === undefined &&
        GPU_OPS.has(e.core.op) &&
        r.outcome === 'error' &&
        r.errno === 'ENOENT'
      ) {
        first = { seq: r.seq, line: e.line, op: e.core.op, addr: e.addr };
      }
      return mapped;
    },
    first: () => (mapped ? undefined : first),
  };
}

export interface UnmappedFault {
  seq: number;
  line: number;
  op: string;
  addr: bigint;
}

/** The stderr note about implicit mappings: what --implicit-mmap added, or a hint to use it. */
export function implicitMmapNote(
  stats: { added: number; first?: { addr: bigint; line: number } },
  unmapped: UnmappedFault | undefined,
): string {
  if (stats.added > 0) {
    const f = stats.first!;
    return `svmsim: --implicit-mmap: added ${stats.added} anonymous rw 2M mapping${stats.added === 1 ? '' : 's'} (the first, [0x${f.addr.toString(16)}, 0x${(f.addr + (1n << 21n)).toString(16)}), before line ${f.line}); they are marked implicit=yes\n`;
  }
  if (unmapped !== undefined) {
    return (
      `svmsim: warning: #${unmapped.seq} ${unmapped.op} at 0x${unmapped.addr.toString(16)} (line ${unmapped.line}) failed with -ENOENT: nothing is mapped there, and the trace maps nothing at all.\n` +
      'svmsim: a faults-only recording? Replay with --implicit-mmap to add an anonymous rw 2M mapping around every touched address.\n'
    );
  }
  return '';
}

/** Called every PROGRESS_EVERY events with the count so far (for a progress display; every EARLY_TICK events before EARLY_EVENTS). */
export const PROGRESS_EVERY = 65536;
const EARLY_TICK = 4096;
const EARLY_EVENTS = 1 << 20;

export interface ReplayOptions {
  checkInvariants?: boolean;
  onProgress?: (events: number) => void;
  thrash?: ThrashOptions;
  /**
   * Sees every event with its result (e.g. the faults-only watch), until it returns true: then
   * it has seen enough and is called no more.
   */
  onResult?: (e: ParsedEvent, r: EventResult) => boolean;
  /**
   * Warm the model up first (warmUpModel()): for a long trace, where it saves a recompile of the
   * hot functions; for a short one it costs more than it saves (~10 ms).
   */
  warmUp?: boolean;
}

/** Replay events through a fresh simulator, reporting as it goes. */
export function replay(
  events: Iterable<ParsedEvent>,
  platform: Platform,
  reporter: Reporter,
  opts: ReplayOptions = {},
): Simulator {
  const r = replayer(events, platform, reporter, opts);
  while (r.run()) r.tick();
  return r.finish();
}

/**
 * The same replay, letting the event loop run (`await pause()`) every PROGRESS_EVERY events, so
 * that signals (Ctrl-C removing temporary output files) are handled during a long replay.
 */
export async function replayYielding(
  events: Iterable<ParsedEvent>,
  platform: Platform,
  reporter: Reporter,
  opts: ReplayOptions & { pause: () => Promise<void> },
): Promise<Simulator> {
  const r = replayer(events, platform, reporter, opts);
  while (r.run()) {
    r.tick();
    await opts.pause();
  }
  return r.finish();
}

/**
 * The model's memory grows with the distinct memory a trace touches (state per touched 2M block
 * and per range). A hostile trace could touch terabytes, one 64G access at a time, until V8 dies
 * out of memory (a crash, not an exit code). The heap is checked every PROGRESS_EVERY events and
 * after every event of more than 2M, and a replay whose heap passes 80% of V8's limit (at least 128 MB below it) stops
 * with exit 2. (The check reads V8's statistics, about a microsecond: it never runs per event.)
 */
export function checkModelMemory(): void {
  const h = getHeapStatistics();
  if (h.used_heap_size > Math.min(h.heap_size_limit * 0.8, h.heap_size_limit - (128 << 20))) {
    const mb = (n: number) => `${Math.round(n / 2 ** 20)} MB`;
    throw new ModelMemoryError(
      `the model state outgrew ${mb(h.used_heap_size)} of the ${mb(h.heap_size_limit)} heap: the trace touches more distinct memory than this machine can model (see docs/reliability.md "Limits"; node --max-old-space-size raises the heap)`,
    );
  }
}

/** Size of V8's young generation (both semi-spaces) past which a replay does not let it grow. */
const YOUNG_GENERATION_CAP = 16 << 20;
/** The --semi-space-growth-factor last set (V8's default: 2). */
let youngGrowthFactor = 2;

/**
 * V8 doubles its young generation (16 MB to 32 MB on 64-bit) once the bytes that survived young
 * collections since its last growth exceed its size. In a replay that happens sooner or later
 * whatever the trace (the model's state is promoted a little at a time): atomic `--summary` at
 * ~4M events, `--format jsonl` at ~9M. Peak RSS then depended on the trace length by one step of
 * 10-16 MB, for no CPU gained (atomic 10M, 3 interleaved runs each, `--max-semi-space-size=8`
 * against V8's default: summary 4.2-6.3 s against 4.6-5.3 s CPU and 86 against 96-102 MB; jsonl
 * 12.5-14.4 s against 13.0-13.9 s and 105-107 against 120-123 MB; bench/results.md, engineer mem).
 * Called every PROGRESS_EVERY events: while the young generation is at 16 MB or more, V8 may not
 * grow it (it reads --semi-space-growth-factor at each growth; a factor of 1 grows nothing); below
 * that it grows as usual (V8 also shrinks it, e.g. when the process is starved of CPU and its
 * allocation rate per wall-clock ms drops: a young generation stuck at 2 MB would cost CPU).
 * It only changes when V8 collects, never what a replay computes.
 */
function capYoungGeneration(): void {
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name !== 'new_space') continue;
    const factor = s.space_size >= YOUNG_GENERATION_CAP ? 1 : 2;
    if (factor !== youngGrowthFactor) {
      setFlagsFromString(`--semi-space-growth-factor=${factor}`);
      youngGrowthFactor = factor;
    }
  }
}

/** The pages of warmUpModel()'s two mappings (0x7f0000000000 and 8 MiB above it). */
const WARM_A = 0x7f0000000;
const WARM_B = WARM_A + 2048;

/**
 * Replay a small made-up trace through a throwaway simulator of the same platform and options,
 * before the real one. V8 optimises the model's hot functions (dispatch, the VMA lookup, ...)
 * after a few thousand events, with the type feedback of the code those events ran: a branch
 * first taken later — the first munmap, the first VMA lookup that misses its cache — deoptimises
 * them, and the recompile costs tens of ms of CPU. These ~300 events take the common branches
 * first (mmap, CPU and GPU accesses that fault, migrate and hit, munmap whole and in part, then
 * accesses again), in ByteEvent, the readers' one event shape. (Fewer did not do: V8 records
 * type feedback for a function only after it has run for a while, and the munmaps must come
 * after that.) The simulator keeps no state outside itself: the real replay starts as fresh as
 * without it.
 */
function warmUpModel(platform: Platform, opts: SimulatorOptions): void {
  const sim = new Simulator(platform, { ...opts, checkInvariants: false });
  const ev = new ByteEvent();
  let t = 0;
  const step = (op: string, page: number, npages: number) => {
    t += 1000;
    const e = ev.fill(op, t, page, 0, npages, true, 0, npages * 4096);
    if (op === 'mmap') {
      e.prot = 'rw';
      e.kind = 'anon';
    }
    sim.step(e.core);
  };
  try {
    warmUpSteps(step);
  } catch {
    // Made-up events that break a model invariant on some platform are not the trace's business:
    // the real replay reports what its own events do.
  }
}

/** warmUpModel()'s made-up trace: two anonymous mappings, accesses, munmaps, accesses again. */
function warmUpSteps(step: (op: string, page: number, npages: number) => void): void {
  step('mmap', WARM_A, 1024);
  step('mmap', WARM_B, 512);
  for (let i = 0; i < 40; i++) {
    step('cpu_write', WARM_A + i, 1);
    step('cpu_read', WARM_B + i, 1);
    step('gpu_read', WARM_A + 600 + i, 1);
    step('gpu_write', WARM_A + i, 1);
    step('cpu_read', WARM_A + i, 1);
    step('gpu_read', WARM_B + 8 * i, 1);
    if (i % 8 === 0) step('gpu_atomic', WARM_A + 900 + i, 1);
  }
  step('munmap', WARM_B, 512);
  step('munmap', WARM_A + 512, 512);
  for (let i = 0; i < 20; i++) {
    step('cpu_read', WARM_A + i, 1);
    step('gpu_read', WARM_A + i, 1);
    step('cpu_write', WARM_B + i, 1);
  }
}

/**
 * A replay in steps: run() replays the next PROGRESS_EVERY events (false at the end), tick()
 * checks the heap and reports progress after each, finish() reports the end. run() holds the
 * loop alone: no code that runs only every PROGRESS_EVERY events (V8 optimises the loop before
 * it ever ran such code, and the first time would deoptimise it).
 */
function replayer(events: Iterable<ParsedEvent>, platform: Platform, reporter: Reporter, opts: ReplayOptions) {
  const wants = reporter.wantsEvents;
  const simOpts: SimulatorOptions = {
    checkInvariants: opts.checkInvariants ?? false,
    record: wants,
    thrash: opts.thrash,
    debugVm: reporter.wantsDebugVm === true,
  };
  if (opts.warmUp === true) warmUpModel(platform, simOpts);
  const sim = new Simulator(platform, simOpts);
  reporter.begin(platform);
  const onProgress = opts.onProgress;
  let onResult = opts.onResult;
  // The loop keeps nothing of an event once the next is read (the model takes its fields, the
  // reporter an echo of them, onResult what it needs at once): a reader may reuse one object.
  const next = eventPuller(events, true);
  let n = 0;
  // Ticks come every EARLY_TICK events for the first EARLY_EVENTS: V8 grows its young generation
  // fastest while the model's state builds up, and may double it twice within PROGRESS_EVERY
  // events, past the 16 MB that capYoungGeneration() keeps it to.
  let chunk = EARLY_TICK;
  capYoungGeneration();
  return {
    run(): boolean {
      for (let k = 0; k < chunk; k++) {
        const e = next();
        if (e === undefined) return false;
        const res = sim.step(e.core);
        if (onResult?.(e, res)) onResult = undefined;
        if (wants) reporter.event(echoOf(e), res);
        if (e.core.npages > 512) checkModelMemory();
      }
      return true;
    },
    tick(): void {
      n += chunk;
      chunk = n < EARLY_EVENTS ? EARLY_TICK : PROGRESS_EVERY;
      checkModelMemory();
      capYoungGeneration();
      if (onProgress !== undefined) onProgress(n);
    },
    finish(): Simulator {
      reporter.end(sim.snapshot());
      return sim;
    },
  };
}

/**
 * Replay events through one fresh simulator per platform in lockstep (the trace is read once),
 * each reporting to its own reporter, as replay() does for one.
 */
export function replayAll(
  events: Iterable<ParsedEvent>,
  targets: { platform: Platform; reporter: Reporter }[],
  opts: { onProgress?: (events: number) => void; thrash?: ThrashOptions } = {},
): Simulator[] {
  if (targets.length === 1) return [replay(events, targets[0].platform, targets[0].reporter, opts)];
  const runs = targets.map((t) => ({
    ...t,
    sim: new Simulator(t.platform, { record: t.reporter.wantsEvents, thrash: opts.thrash }),
  }));
  for (const r of runs) r.reporter.begin(r.platform);
  let n = 0;
  for (const e of events) {
    const echo = echoOf(e);
    for (const r of runs) {
      const res = r.sim.step(e.core);
      if (r.reporter.wantsEvents) r.reporter.event(echo, res);
    }
    if (e.core.npages > 512) checkModelMemory();
    if (++n % PROGRESS_EVERY === 0) {
      checkModelMemory();
      capYoungGeneration();
      opts.onProgress?.(n);
    }
  }
  for (const r of runs) r.reporter.end(r.sim.snapshot());
  return runs.map((r) => r.sim);
}
