/**
 * DOC: Derived metrics and thrashing detection
 *
 * Kernel-independent figures that the debugfs counters do not give on every version (6.15 has no
 * SVM counter at all): GPU faults handled and failed, migrations and pages moved each way, BO
 * evictions, TLB invalidations sent, and the cost-model time spent copying. They are counted where
 * the model does the work, whatever the kernel profile, so `svmsim compare` can put versions side
 * by side.
 *
 * Thrashing follows the spirit of NVIDIA UVM's detector (uvm_perf_thrashing: a page is thrashing
 * once it has been migrated `threshold` times, default 3, each migration within `lapse` of the
 * previous one, default 500 us): here per range, a round trip is VRAM→RAM→VRAM, and a range
 * thrashes when it makes `threshold` round trips with every migration within `windowNs` of the
 * one before. The detector keeps, per range, the migrations that drove it.
 */

export interface Metrics {
  /** Handler invocations (svm_pagefault_count on every version). */
  gpuFaults: number;
  /** Faults that ended in an error. */
  failedFaults: number;
  migrationsToVram: number;
  /** Pages copied RAM→VRAM (pages with a source). */
  pagesToVram: number;
  migrationsToRam: number;
  pagesToRam: number;
  /** TTM evictions of SVM BOs. */
  evictions: number;
  /** Range-based TLB invalidations sent (per GT0; notifier callbacks, madvise zaps, GC unbinds). */
  tlbInvalidations: number;
  /** Cost-model microseconds spent copying, both directions. */
  copyUs: number;
}

export function newMetrics(): Metrics {
  return {
    gpuFaults: 0,
    failedFaults: 0,
    migrationsToVram: 0,
    pagesToVram: 0,
    migrationsToRam: 0,
    pagesToRam: 0,
    evictions: 0,
    tlbInvalidations: 0,
    copyUs: 0,
  };
}

export interface ThrashOptions {
  /** Round trips (VRAM→RAM→VRAM) that make a range thrash. Default 3. */
  threshold: number;
  /** Largest gap between consecutive migrations of a thrashing range, in ns. Default 500 us. */
  windowNs: number;
}

export const DEFAULT_THRASH: ThrashOptions = { threshold: 3, windowNs: 500_000 };

export interface Thrashing {
  start: number;
  /** Pages of the range (the allocation size). */
  npages: number;
  /** Round trips completed in the longest qualifying streak. */
  cycles: number;
  /** Bytes moved by the migrations of that streak, both directions. */
  bytes: bigint;
  /** Event indices of the migrations in the streak (first 32). */
  events: number[];
  /** Owning process, when the trace has more than one. */
  pid?: number;
}

/** Migrations between two sweeps of stale tracks. */
const PRUNE_EVERY = 1 << 16;

interface Track {
  npages: number;
  /** Current streak. */
  last: 'vram' | 'ram' | undefined;
  lastNs: number;
  moves: number;
  pages: number;
  events: number[];
  best?: Thrashing;
}

/** Per-range migration history and thrashing verdicts. */
export class ThrashTracker {
  private readonly tracks = new Map<number, Track>();
  private untilPrune = PRUNE_EVERY;

  constructor(readonly opts: ThrashOptions = DEFAULT_THRASH) {}

  /** A migration of the allocation starting at `start`. */
  migrated(start: number, npages: number, to: 'vram' | 'ram', pages: number, seq: number, nowNs: number): void {
    if (--this.untilPrune === 0) this.prune(nowNs);
    let tr = this.tracks.get(start);
    if (tr === undefined) {
      tr = { npages, last: undefined, lastNs: 0, moves: 0, pages: 0, events: [] };
      this.tracks.set(start, tr);
    }
    const continues = tr.last !== undefined && tr.last !== to && nowNs - tr.lastNs <= this.opts.windowNs;
    if (!continues) {
      tr.moves = 0;
      tr.pages = 0;
      tr.events = [];
    }
    tr.last = to;
    tr.lastNs = nowNs;
    tr.npages = npages;
    tr.moves++;
    tr.pages += pages;
    if (tr.events.length < 32) tr.events.push(seq);
    // A streak that starts in VRAM: moves 1 = to VRAM, then each RAM+VRAM pair is one round trip.
    const cycles = Math.floor((tr.moves - 1) / 2);
    if (cycles >= this.opts.threshold && (tr.best === undefined || cycles >= tr.best.cycles)) {
      tr.best = { start, npages: tr.npages, cycles, bytes: BigInt(tr.pages) << 12n, events: [...tr.events] };
    }
  }

  /**
   * Forget tracks that can neither continue their streak (last move older than the window) nor
   * report one (no verdict): memory follows the ranges migrating within the window, not the trace.
   */
  private prune(nowNs: number): void {
    this.untilPrune = PRUNE_EVERY;
    for (const [start, tr] of this.tracks) if (tr.best === undefined && nowNs - tr.lastNs > this.opts.windowNs) this.tracks.delete(start);
  }

  /** Thrashing ranges, by start. */
  verdicts(): Thrashing[] {
    const out: Thrashing[] = [];
    for (const tr of this.tracks.values()) if (tr.best !== undefined) out.push(tr.best);
    return out.sort((a, b) => a.start - b.start);
  }

  /** Number of ranges tracked (for tests). */
  get size(): number {
    return this.tracks.size;
  }
}
