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

import { resized } from './columns.js';

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

/** Event indices kept per streak. */
const MAX_EVENTS = 32;
/** Event arrays of swept tracks kept for reuse (about 280 B each). */
const MAX_SPARE_EVENTS = 4096;

function newEvents(): number[] {
  return new Array<number>(MAX_EVENTS).fill(0);
}

const NO_MOVE = 0;
const TO_VRAM = 1;
const TO_RAM = 2;

/**
 * What the tracker needs of the allocations (the VRAM BOs, drm-pagemap's columns, indexed by BO
 * slot): each one's span and a cell where it keeps the row of its track (-1 before its first
 * migration), so that later migrations skip the hash lookup. The allocation keeps a row number,
 * not the track: a track the sweep dropped must not stay alive while its BO lives.
 */
export interface ThrashColumns {
  readonly boStart: Float64Array;
  readonly boNpages: Int32Array;
  readonly boThrash: Int32Array;
}

/**
 * Per-range migration history and thrashing verdicts. One track per allocation start, kept as a
 * row of typed-array columns (index t; no object per track: start pages are ≥ 2^31, doubles that
 * an object field would box), found by start in an open-addressing table; stale tracks are swept
 * every PRUNE_EVERY migrations, which compacts the rows and rebuilds the table.
 *
 * A track holds its last move (direction and time), the current streak (moves, pages moved, the
 * first MAX_EVENTS event indices) and the best streak so far (bestCycles -1: none yet). The first
 * two event indices of a streak are kept in `ev0`/`ev1` until a third comes or the streak becomes
 * a verdict: most allocations migrate once or twice, and then no array is made for them. The best
 * streak's events are the first `bestLen` of its array, which may be the current streak's own (a
 * continuing streak only appends): a new streak gets a fresh array then, so the verdict keeps what
 * it saw.
 */
export class ThrashTracker {
  /** Rows in use and allocated. */
  private n = 0;
  private cap = 0;
  private tStart = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tLastNs = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tPages = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tBestPages = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tEv0 = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tEv1 = new Float64Array(0) as Float64Array<ArrayBuffer>;
  private tNpages = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tBestNpages = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tMoves = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tNevents = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tBestCycles = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tBestLen = new Int32Array(0) as Int32Array<ArrayBuffer>;
  private tLast = new Uint8Array(0) as Uint8Array<ArrayBuffer>;
  private tEvents: (number[] | null)[] = [];
  /**
   * Event arrays of swept tracks, for the next streaks that need one: made afresh, each lived a
   * whole sweep (promoted) and died with its track, dead data in the old generation until a full
   * collection (random 10M jsonl: the old generation grew ~1.7 MB per million events).
   * Only the first `n` entries of an array are ever read, so a reused one needs no clearing.
   */
  private readonly spareEvents: number[][] = [];
  private tBestEvents: (number[] | null)[] = [];
  /** Hash table: slot → 1 + row (0 empty); `keys` holds the starts. */
  private slots = new Int32Array(64);
  private keys = new Float64Array(64);
  private untilPrune = PRUNE_EVERY;
  /** The start find() looks for. */
  private readonly want = new Float64Array(1);
  private readonly windowNs: number;
  private readonly threshold: number;

  constructor(readonly opts: ThrashOptions = DEFAULT_THRASH) {
    this.windowNs = opts.windowNs;
    this.threshold = opts.threshold;
    this.resize(64);
  }

  private static hash(start: number, mask: number): number {
    let h = Math.imul((start >>> 0) ^ Math.imul((start / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & mask;
  }

  /** Reallocate the columns for `cap` rows, keeping the first `n`. */
  private resize(cap: number): void {
    const n = this.n;
    this.tStart = resized(this.tStart, cap, n);
    this.tLastNs = resized(this.tLastNs, cap, n);
    this.tPages = resized(this.tPages, cap, n);
    this.tBestPages = resized(this.tBestPages, cap, n);
    this.tEv0 = resized(this.tEv0, cap, n);
    this.tEv1 = resized(this.tEv1, cap, n);
    this.tNpages = resized(this.tNpages, cap, n);
    this.tBestNpages = resized(this.tBestNpages, cap, n);
    this.tMoves = resized(this.tMoves, cap, n);
    this.tNevents = resized(this.tNevents, cap, n);
    this.tBestCycles = resized(this.tBestCycles, cap, n);
    this.tBestLen = resized(this.tBestLen, cap, n);
    this.tLast = resized(this.tLast, cap, n);
    this.cap = cap;
  }

  /**
   * The row of the track of the start in `want[0]`, made (empty) when there is none. (The start
   * comes in a Float64Array: a double passed to a call that is not inlined is boxed.)
   */
  private find(npages: number): number {
    const start = this.want[0];
    const mask = this.slots.length - 1;
    let i = ThrashTracker.hash(start, mask);
    for (;;) {
      const s = this.slots[i];
      if (s === 0) break;
      if (this.keys[i] === start) return s - 1;
      i = (i + 1) & mask;
    }
    const t = this.n;
    if (t === this.cap) this.resize(this.cap * 2);
    this.n = t + 1;
    this.tStart[t] = start;
    this.tNpages[t] = npages;
    this.tLast[t] = NO_MOVE;
    this.tLastNs[t] = 0;
    this.tMoves[t] = 0;
    this.tPages[t] = 0;
    this.tEv0[t] = 0;
    this.tEv1[t] = 0;
    this.tNevents[t] = 0;
    this.tBestCycles[t] = -1;
    this.tBestNpages[t] = 0;
    this.tBestPages[t] = 0;
    this.tBestLen[t] = 0;
    this.tEvents[t] = null;
    this.tBestEvents[t] = null;
    this.slots[i] = t + 1;
    this.keys[i] = start;
    if (this.n * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return t;
  }

  /**
   * Rebuild the table for the live tracks, with `size` slots (a power of two): in the table it
   * has when that is its size (a sweep), else in a new one.
   */
  private rehash(size: number): void {
    if (this.slots.length === size) this.slots.fill(0);
    else {
      this.slots = new Int32Array(size);
      this.keys = new Float64Array(size);
    }
    const mask = size - 1;
    for (let t = 0; t < this.n; t++) {
      const start = this.tStart[t];
      let i = ThrashTracker.hash(start, mask);
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = t + 1;
      this.keys[i] = start;
    }
  }

  /** A migration of the allocation starting at `start`. */
  migrated(start: number, npages: number, to: 'vram' | 'ram', pages: number, seq: number, nowNs: number): void {
    if (--this.untilPrune === 0) this.prune(nowNs);
    this.want[0] = start;
    this.move(this.find(npages), npages, to === 'vram', pages, seq, nowNs);
  }

  /**
   * A migration of allocation `bo` of `a` (the same as migrated(a.boStart[bo], a.boNpages[bo],
   * ...)): its track is looked up once and its row kept in `a.boThrash[bo]`. A sweep renumbers the
   * tracks, so the row is checked: the tracker holds at most one track per start, and the one at
   * that row with the allocation's start is the one find() would return.
   */
  migratedAlloc(a: ThrashColumns, bo: number, toVram: boolean, pages: number, seq: number, nowNs: number): void {
    if (--this.untilPrune === 0) this.prune(nowNs);
    const start = a.boStart[bo];
    const npages = a.boNpages[bo];
    let t = a.boThrash[bo];
    if (t < 0 || t >= this.n || this.tStart[t] !== start) {
      this.want[0] = start;
      t = this.find(npages);
      a.boThrash[bo] = t;
    }
    this.move(t, npages, toVram, pages, seq, nowNs);
  }

  private move(t: number, npages: number, toVram: boolean, pages: number, seq: number, nowNs: number): void {
    const dir = toVram ? TO_VRAM : TO_RAM;
    const last = this.tLast[t];
    let moves: number;
    let total: number;
    let ne: number;
    if (last !== NO_MOVE && last !== dir && nowNs - this.tLastNs[t] <= this.windowNs) {
      moves = this.tMoves[t] + 1;
      total = this.tPages[t] + pages;
      ne = this.tNevents[t];
    } else {
      // A new streak.
      moves = 1;
      total = pages;
      ne = 0;
      if (this.tBestEvents[t] === this.tEvents[t]) this.tEvents[t] = null;
    }
    this.tLast[t] = dir;
    this.tLastNs[t] = nowNs;
    this.tNpages[t] = npages;
    this.tMoves[t] = moves;
    this.tPages[t] = total;
    // The first MAX_EVENTS event indices of the streak.
    if (ne < MAX_EVENTS) {
      const ev = this.tEvents[t];
      if (ev !== null) ev[ne] = seq;
      else if (ne === 0) this.tEv0[t] = seq;
      else if (ne === 1) this.tEv1[t] = seq;
      else this.eventArray(t)[ne] = seq;
      this.tNevents[t] = ++ne;
    }
    // A streak that starts in VRAM: moves 1 = to VRAM, then each RAM+VRAM pair is one round trip.
    const cycles = (moves - 1) >> 1;
    if (cycles >= this.threshold && cycles >= this.tBestCycles[t]) {
      this.tBestCycles[t] = cycles;
      this.tBestNpages[t] = npages;
      this.tBestPages[t] = total;
      this.tBestEvents[t] = this.eventArray(t);
      this.tBestLen[t] = ne;
    }
  }

  /** The current streak's event indices of track `t` as an array (made on first need). */
  private eventArray(t: number): number[] {
    let a = this.tEvents[t];
    if (a === null) {
      a = this.spareEvents.pop() ?? newEvents();
      a[0] = this.tEv0[t];
      a[1] = this.tEv1[t];
      this.tEvents[t] = a;
    }
    return a;
  }

  /**
   * Forget tracks that can neither continue their streak (last move older than the window) nor
   * report one (no verdict): memory follows the ranges migrating within the window, not the trace.
   * The rows kept move down in order.
   *
   * The columns and the table keep the size the sweep found them at while the rows tracked
   * before it (`seen`) still need at least a quarter of it: a trace that migrates the same
   * allocations again between sweeps (2,048 2M allocations of a 4G buffer, a few hundred kept
   * by each sweep) would otherwise shrink them at every sweep and regrow them by doubling after
   * it — 13 columns and the table reallocated 5-6 times per 65,536 migrations, a few MB of dead
   * ArrayBuffers per million events that only a full collection frees (bench/results.md, engineer
   * mem). A burst of tracks that does not come back is released at the next sweep.
   */
  private prune(nowNs: number): void {
    this.untilPrune = PRUNE_EVERY;
    const seen = this.n;
    let k = 0;
    for (let t = 0; t < this.n; t++) {
      if (this.tBestCycles[t] < 0 && nowNs - this.tLastNs[t] > this.windowNs) {
        // (No verdict: its array is the current streak's alone.)
        const ev = this.tEvents[t];
        if (ev !== null && this.spareEvents.length < MAX_SPARE_EVENTS) this.spareEvents.push(ev);
        continue;
      }
      if (k !== t) {
        this.tStart[k] = this.tStart[t];
        this.tLastNs[k] = this.tLastNs[t];
        this.tPages[k] = this.tPages[t];
        this.tBestPages[k] = this.tBestPages[t];
        this.tEv0[k] = this.tEv0[t];
        this.tEv1[k] = this.tEv1[t];
        this.tNpages[k] = this.tNpages[t];
        this.tBestNpages[k] = this.tBestNpages[t];
        this.tMoves[k] = this.tMoves[t];
        this.tNevents[k] = this.tNevents[t];
        this.tBestCycles[k] = this.tBestCycles[t];
        this.tBestLen[k] = this.tBestLen[t];
        this.tLast[k] = this.tLast[t];
        this.tEvents[k] = this.tEvents[t];
        this.tBestEvents[k] = this.tBestEvents[t];
      }
      k++;
    }
    this.tEvents.length = k;
    this.tBestEvents.length = k;
    this.n = k;
    // Sizes for the kept rows alone (columns at most half full, the table at most a quarter),
    // or for the rows seen when that is more.
    let cap = 64;
    while (cap < Math.max(k * 2, seen)) cap *= 2;
    if (seen * 4 >= this.cap) cap = Math.max(cap, this.cap);
    if (cap < this.cap) this.resize(cap);
    let size = 64;
    while (size < Math.max(k * 4, seen * 2)) size *= 2;
    if (seen * 8 >= this.slots.length) size = Math.max(size, this.slots.length);
    this.rehash(size);
  }

  /** Thrashing ranges, by start. */
  verdicts(): Thrashing[] {
    const out: Thrashing[] = [];
    for (let t = 0; t < this.n; t++) {
      if (this.tBestCycles[t] < 0) continue;
      out.push({
        start: this.tStart[t],
        npages: this.tBestNpages[t],
        cycles: this.tBestCycles[t],
        bytes: BigInt(this.tBestPages[t]) << 12n,
        events: this.tBestEvents[t]!.slice(0, this.tBestLen[t]),
      });
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** Number of ranges tracked (for tests). */
  get size(): number {
    return this.n;
  }
}
