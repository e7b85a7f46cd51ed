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

/** Event indices kept per streak. */
const MAX_EVENTS = 32;

function newEvents(): number[] {
  return new Array<number>(MAX_EVENTS).fill(0);
}

const NO_MOVE = 0;
const TO_VRAM = 1;
const TO_RAM = 2;

/** One allocation's migration history: the current streak and the best one so far. */
class Track {
  npages: number;
  /** Direction of the last move (NO_MOVE, TO_VRAM, TO_RAM) and when. */
  last = NO_MOVE;
  lastNs = 0;
  /**
   * Current streak: moves, pages moved, event indices (the first `nevents`, at most 32). The
   * first two indices are kept in `ev0`/`ev1` until a third comes or the streak becomes a
   * verdict: most allocations migrate once or twice, and then no array is made for them.
   */
  moves = 0;
  pages = 0;
  ev0 = 0;
  ev1 = 0;
  events: number[] | null = null;
  nevents = 0;
  /**
   * Best streak (-1: none yet). Its events are the first `bestLen` of `bestEvents`, which may be
   * the current streak's own array (a continuing streak only appends): a new streak gets a fresh
   * array then, so the verdict keeps what it saw.
   */
  bestCycles = -1;
  bestNpages = 0;
  bestPages = 0;
  bestEvents: number[] | null = null;
  bestLen = 0;

  constructor(
    readonly start: number,
    npages: number,
  ) {
    this.npages = npages;
  }

  /** The current streak's event indices as an array (made on first need). */
  eventArray(): number[] {
    let a = this.events;
    if (a === null) {
      a = newEvents();
      a[0] = this.ev0;
      a[1] = this.ev1;
      this.events = a;
    }
    return a;
  }

  /** Append an event index to the current streak (the first MAX_EVENTS are kept). */
  addEvent(seq: number): void {
    const n = this.nevents;
    if (n >= MAX_EVENTS) return;
    if (this.events !== null || n >= 2) this.eventArray()[n] = seq;
    else if (n === 0) this.ev0 = seq;
    else this.ev1 = seq;
    this.nevents = n + 1;
  }
}

/**
 * What the tracker needs of an allocation (a VRAM BO): its span and a slot where it keeps the
 * index of its track (-1 before its first migration), so that later migrations skip the hash
 * lookup. The allocation keeps an index, not the track: a track the sweep dropped must become
 * garbage even while its BO lives (a reference kept ~150 B per live range alive).
 */
export interface ThrashSubject {
  readonly start: number;
  readonly npages: number;
  thrashIx: number;
}

/**
 * Per-range migration history and thrashing verdicts. Tracks are found by allocation start in an
 * open-addressing table (start pages are ≥ 2^31, i.e. doubles: a Map would hash a heap number
 * per migration); stale tracks are swept every PRUNE_EVERY migrations, which rebuilds the table.
 */
export class ThrashTracker {
  private tracks: Track[] = [];
  /** Hash table: slot → 1 + index into `tracks` (0 empty); `keys` holds the starts. */
  private slots = new Int32Array(64);
  private keys = new Float64Array(64);
  private untilPrune = PRUNE_EVERY;
  /** Index in `tracks` of the track find() returned last. */
  private foundIx = 0;

  constructor(readonly opts: ThrashOptions = DEFAULT_THRASH) {}

  private static hash(start: number, mask: number): number {
    let h = Math.imul((start >>> 0) ^ Math.imul((start / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & mask;
  }

  private find(start: number, npages: number): Track {
    const mask = this.slots.length - 1;
    let i = ThrashTracker.hash(start, mask);
    for (;;) {
      const s = this.slots[i];
      if (s === 0) break;
      if (this.keys[i] === start) {
        this.foundIx = s - 1;
        return this.tracks[s - 1];
      }
      i = (i + 1) & mask;
    }
    const tr = new Track(start, npages);
    this.foundIx = this.tracks.length;
    this.tracks.push(tr);
    this.slots[i] = this.tracks.length;
    this.keys[i] = start;
    if (this.tracks.length * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return tr;
  }

  /** Rebuild the table for the live tracks, with `size` slots (a power of two). */
  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.keys = new Float64Array(size);
    const mask = size - 1;
    for (let t = 0; t < this.tracks.length; t++) {
      const start = this.tracks[t].start;
      let i = ThrashTracker.hash(start, mask);
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = t + 1;
      this.keys[i] = start;
    }
  }

  /** A migration of the allocation starting at `start`. */
  migrated(start: number, npages: number, to: 'vram' | 'ram', pages: number, seq: number, nowNs: number): void {
    if (--this.untilPrune === 0) this.prune(nowNs);
    this.move(this.find(start, npages), npages, to === 'vram', pages, seq, nowNs);
  }

  /**
   * A migration of allocation `a` (the same as migrated(a.start, a.npages, ...)): its track is
   * looked up once and its index kept in `a.thrashIx`. A sweep renumbers the tracks, so the index
   * is checked: the tracker holds at most one track per start, and the one at that index with the
   * allocation's start is the one find() would return.
   */
  migratedAlloc(a: ThrashSubject, toVram: boolean, pages: number, seq: number, nowNs: number): void {
    if (--this.untilPrune === 0) this.prune(nowNs);
    const ix = a.thrashIx;
    let tr = ix >= 0 && ix < this.tracks.length ? this.tracks[ix] : undefined;
    if (tr === undefined || tr.start !== a.start) {
      tr = this.find(a.start, a.npages);
      a.thrashIx = this.foundIx;
    }
    this.move(tr, a.npages, toVram, pages, seq, nowNs);
  }

  private move(tr: Track, npages: number, toVram: boolean, pages: number, seq: number, nowNs: number): void {
    const dir = toVram ? TO_VRAM : TO_RAM;
    const continues = tr.last !== NO_MOVE && tr.last !== dir && nowNs - tr.lastNs <= this.opts.windowNs;
    if (!continues) {
      tr.moves = 0;
      tr.pages = 0;
      tr.nevents = 0;
      if (tr.bestEvents === tr.events) tr.events = null;
    }
    tr.last = dir;
    tr.lastNs = nowNs;
    tr.npages = npages;
    tr.moves++;
    tr.pages += pages;
    tr.addEvent(seq);
    // A streak that starts in VRAM: moves 1 = to VRAM, then each RAM+VRAM pair is one round trip.
    const cycles = Math.floor((tr.moves - 1) / 2);
    if (cycles >= this.opts.threshold && cycles >= tr.bestCycles) {
      tr.bestCycles = cycles;
      tr.bestNpages = tr.npages;
      tr.bestPages = tr.pages;
      tr.bestEvents = tr.eventArray();
      tr.bestLen = tr.nevents;
    }
  }

  /**
   * Forget tracks that can neither continue their streak (last move older than the window) nor
   * report one (no verdict): memory follows the ranges migrating within the window, not the trace.
   */
  private prune(nowNs: number): void {
    this.untilPrune = PRUNE_EVERY;
    this.tracks = this.tracks.filter((tr) => tr.bestCycles >= 0 || nowNs - tr.lastNs <= this.opts.windowNs);
    let size = 64;
    while (size < this.tracks.length * 4) size *= 2;
    this.rehash(size);
  }

  /** Thrashing ranges, by start. */
  verdicts(): Thrashing[] {
    const out: Thrashing[] = [];
    for (const tr of this.tracks) {
      if (tr.bestCycles < 0) continue;
      out.push({
        start: tr.start,
        npages: tr.bestNpages,
        cycles: tr.bestCycles,
        bytes: BigInt(tr.bestPages) << 12n,
        events: tr.bestEvents!.slice(0, tr.bestLen),
      });
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** Number of ranges tracked (for tests). */
  get size(): number {
    return this.tracks.length;
  }
}
