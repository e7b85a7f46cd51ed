/**
 * DOC: HTML report data — binned and sampled while the replay streams
 *
 * `ReportCollector` is a Reporter: the replay driver hands it every event's decisions, and it keeps
 * only what the charts of `svmsim report` draw, in memory bounded whatever the trace length:
 *
 * - Time series in at most MAX_BINS bins. A bin covers `width` units of x (ns of trace time, or
 *   events); when an x lands past the last bin, neighbouring bins merge pairwise and the width
 *   doubles. Counts (migrated pages, faults, evictions) add up; VRAM use keeps, per bin, the
 *   composition at the bin's peak. Two binnings run side by side, by trace time and by event
 *   index; the report uses time when the trace has times, else the event index.
 * - Per range (keyed by [start, end)): a count of its activity (faults, migrations,
 *   invalidations, removals) and its current state; for the first MAX_TRACKED ranges created,
 *   also a state bitmask per bin from their creation.
 * - Up to MAX_MARKS marks per range for a candidate set of the busiest ranges so far (2N + 16
 *   for N lanes, at least 128): a range more than twice as busy as the least busy candidate
 *   replaces it; its marks (and, past MAX_TRACKED ranges, its state bins) start there
 *   (`fromBin`). Marks beyond MAX_MARKS are thinned deterministically (every other one kept,
 *   then every 4th new one, ...). A mark's texts (hover and click) are rendered when it is
 *   pushed, skipped ones never: a mark holds two strings, not its event's decision records.
 */

import type { Decision, EventResult } from '../core/decisions.js';
import type { Platform } from '../core/platform.js';
import type { FinalState } from '../core/simulator.js';
import { describe } from './describe.js';
import { humanPages, span } from './format.js';
import { eventHead, shownDecisions, type EventEcho, type Reporter } from './reporter.js';
import { SERIES, STATE_BITS, type LaneDoc, type MarkKind, type RunDoc, type SeriesName } from './html/types.js';

/** Bins per time series (and per lane). */
export const MAX_BINS = 1024;
/** Marks kept per lane. */
export const MAX_MARKS = 200;
/** Ranges whose state per bin is kept from their creation (2 KiB each); later ones from when they become candidates. */
const MAX_TRACKED = 4096;

const LEVELS: SeriesName[] = ['vram4k', 'vram64k', 'vram2m', 'vramOther'];
const SUMS = SERIES.filter((s) => !LEVELS.includes(s));

/** Per-lane history in one binning. */
interface LaneBins {
  bits: Uint8Array;
  /** Last bin filled with the lane's state. */
  last: number;
  from: number;
}

/** One binning of x: series bins and the candidate lanes' state bins. */
export class Binning {
  width: number;
  /** Bins in use. */
  n = 0;
  readonly sums = new Map<SeriesName, Float64Array>();
  readonly levels = new Map<SeriesName, Float64Array>();
  /** Peak VRAM total seen in each bin (for the levels). */
  private readonly peak = new Float64Array(MAX_BINS).fill(-1);
  readonly lanes = new Set<LaneBins>();

  constructor(width: number) {
    this.width = width;
    for (const s of SUMS) this.sums.set(s, new Float64Array(MAX_BINS));
    for (const s of LEVELS) this.levels.set(s, new Float64Array(MAX_BINS).fill(Number.NaN));
  }

  /** The bin of x, merging bins until it fits. */
  bin(x: number): number {
    let b = Math.floor(x / this.width);
    while (b >= MAX_BINS) {
      this.merge();
      b = Math.floor(x / this.width);
    }
    if (b >= this.n) this.n = b + 1;
    return b;
  }

  private merge(): void {
    const half = MAX_BINS / 2;
    for (const a of this.sums.values()) {
      for (let i = 0; i < half; i++) a[i] = a[2 * i] + a[2 * i + 1];
      a.fill(0, half);
    }
    const lv = [...this.levels.values()];
    for (let i = 0; i < half; i++) {
      // The pair's peak (a bin without changes holds the state carried into it, never above the other's peak).
      const j = this.peak[2 * i + 1] > this.peak[2 * i] ? 2 * i + 1 : 2 * i;
      this.peak[i] = this.peak[j];
      for (const a of lv) a[i] = a[j];
    }
    this.peak.fill(-1, half);
    for (const a of lv) a.fill(Number.NaN, half);
    for (const l of this.lanes) {
      for (let i = 0; i < half; i++) l.bits[i] = l.bits[2 * i] | l.bits[2 * i + 1];
      l.bits.fill(0, half);
      l.last >>= 1;
      l.from >>= 1;
    }
    this.width *= 2;
    this.n = Math.ceil(this.n / 2);
  }

  /** Record the VRAM composition `v` (bytes per level) in bin b if it is the bin's peak so far. */
  level(b: number, v: number[]): void {
    const total = v[0] + v[1] + v[2] + v[3];
    if (total <= this.peak[b]) return;
    this.peak[b] = total;
    LEVELS.forEach((s, i) => {
      this.levels.get(s)![b] = v[i];
    });
  }

  /** The lane was in state `bits` until bin b (inclusive). */
  fill(l: LaneBins, b: number, bits: number): void {
    for (let i = l.last + 1; i <= b; i++) l.bits[i] |= bits;
    if (b > l.last) l.last = b;
    l.bits[b] |= bits;
  }
}

interface Mark {
  seq: number;
  t: number;
  kind: MarkKind;
  /** The texts shown on hover (the marked decision) and on click (the whole event): [at, at + len) of the TextArena. */
  hoverAt: number;
  hoverLen: number;
  clickAt: number;
  clickLen: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Mark texts as UTF-8 in one byte arena rather than as strings: the marks of thinned-out and
 * replaced candidates come and go all through a replay, and as strings they were promoted and
 * filled V8's old generation with dead text (peak RSS grew with the trace). Dead bytes are counted;
 * when the arena is full and at least half dead it is compacted (the caller rewrites the live
 * marks' offsets), so it holds about twice the live marks' text.
 */
class TextArena {
  bytes: Uint8Array;
  used = 0;
  /** Bytes of live texts. */
  live = 0;

  constructor(bytes: number) {
    this.bytes = new Uint8Array(bytes);
  }

  /** Whether `need` more bytes fit without compacting. */
  fits(need: number): boolean {
    return this.used + need <= this.bytes.length;
  }

  add(text: string): [number, number] {
    if (!this.fits(text.length * 3)) this.grow(text.length * 3);
    const at = this.used;
    const n = encoder.encodeInto(text, this.bytes.subarray(at)).written;
    this.used += n;
    this.live += n;
    return [at, n];
  }

  get(at: number, len: number): string {
    return decoder.decode(this.bytes.subarray(at, at + len));
  }

  private grow(need: number): void {
    let cap = this.bytes.length * 2;
    while (cap < this.used + need) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.bytes.subarray(0, this.used));
    this.bytes = b;
  }
}

/** A range's state per bin, on both axes. */
interface RangeBins {
  byTime: LaneBins;
  bySeq: LaneBins;
  /** Kept from the range's creation (else from when it became a candidate). */
  fromStart: boolean;
}

interface Candidate {
  marks: Mark[];
  stride: number;
  seen: number;
}

interface RangeRec {
  start: number;
  end: number;
  state: number;
  activity: number;
  bins?: RangeBins;
  cand?: Candidate;
}

const B32 = '0123456789abcdefghijklmnopqrstuv';

/** Whether a range with this activity takes the place of the least busy candidate. */
const replaces = (activity: number, min: number) => activity > 2 * min && activity >= min + 2;

/** Collects one configuration's report data during a replay. */
export class ReportCollector implements Reporter {
  readonly wantsEvents = true;
  private readonly byTime = new Binning(1000);
  private readonly bySeq = new Binning(1);
  /** Every range seen, by key (start and size class). */
  private readonly ranges = new Map<number, RangeRec>();
  /** Live ranges by start page. */
  private readonly live = new Map<number, RangeRec>();
  private readonly cands = new Set<RangeRec>();
  /** Ranges with state bins. */
  private tracked = 0;
  /** Kinds already marked on each range in the current event (one mark per kind per event). */
  private readonly marked = new Map<RangeRec, number>();
  private readonly maxCands: number;
  /** Texts of the kept marks. */
  private arena: TextArena;
  /** Times the arena was compacted (tests). */
  compactions = 0;
  /** The click text of the last marked event, and where it is in the arena (-1: not yet). */
  private clickOf?: EventResult;
  private click = '';
  private clickAt = -1;
  private clickLen = 0;
  private minActivity = 0;
  private capacity = 0n;
  /** VRAM bytes by BO size class: 4K, 64K, 2M, other. */
  private readonly vram = [0, 0, 0, 0];
  private bt = 0;
  private bs = 0;
  private t = 0;
  private seq = 0;
  /** Whether any event had a time. */
  hasTime = false;
  final?: FinalState;

  /** `arenaBytes`: the mark text arena's first size (tests use a tiny one to compact often). */
  constructor(
    readonly label: string,
    readonly laneCount: number,
    private readonly arenaBytes = 1 << 20,
  ) {
    this.maxCands = Math.max(2 * laneCount + 16, 128);
    this.arena = new TextArena(arenaBytes);
  }

  begin(p: Platform): void {
    this.capacity = p.dgfx ? p.vramBytes : 0n;
  }

  event(echo: EventEcho, res: EventResult): void {
    const t = res.t;
    if (t !== 0) this.hasTime = true;
    this.t = t;
    this.seq = res.seq;
    this.bt = this.byTime.bin(t);
    this.bs = this.bySeq.bin(res.seq);
    const ds = res.decisions;
    let faults: { lane?: RangeRec; pages: number; di: number }[] | undefined;
    const marked = this.marked;
    if (marked.size > 0) marked.clear();
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i];
      switch (d.code) {
        case 'fault':
        case 'no_gpu_vma': // the handler's other way in (handle_pagefault without a GPU VMA): always fails
          (faults ??= []).push({ pages: 0, di: i });
          break;
        case 'range': {
          const r = this.rangeFor(d.range.start, d.range.end, d.created);
          if (faults !== undefined) {
            const f = faults[faults.length - 1];
            f.lane = r;
            f.pages = d.range.end - d.range.start;
          }
          break;
        }
        case 'migrate_to_vram':
          if (d.ok) {
            this.add('toVramMiB', d.copiedPages / 256);
            this.mark(this.live.get(d.range.start), 2, i, echo, res, marked);
          }
          break;
        case 'migrate_to_ram':
          this.add('toRamMiB', d.pages / 256);
          this.mark(this.containing(d.start, d.end), 3, i, echo, res, marked);
          break;
        case 'invalidate':
        case 'madvise_zap':
          for (const z of d.zapped) {
            const r = this.live.get(z.start);
            if (r === undefined) continue;
            this.mark(r, 4, i, echo, res, marked);
            this.setState(r, STATE_BITS.invalid);
          }
          break;
        case 'bind': {
          const r = this.live.get(d.range.start);
          if (r !== undefined) this.setState(r, STATE_BITS[d.location]);
          break;
        }
        case 'gc_range':
        case 'madvise_range_remove': {
          const r = this.live.get(d.range.start);
          if (r === undefined || r.end !== d.range.end) break;
          this.mark(r, 5, i, echo, res, marked);
          this.setState(r, STATE_BITS.destroyed);
          this.live.delete(r.start);
          break;
        }
        case 'bo_alloc':
        case 'bo_free':
          this.vramChange(d);
          break;
        case 'bo_evict':
          this.add('evictions', 1);
          break;
        default:
      }
    }
    if (faults !== undefined) {
      faults.forEach((f, k) => {
        const failed = res.outcome === 'error' && k === faults!.length - 1;
        this.add(failed ? 'faultsFailed' : f.pages >= 512 ? 'faults2m' : f.pages >= 16 ? 'faults64k' : 'faults4k', 1);
        this.mark(f.lane, failed ? 1 : 0, f.di, echo, res, undefined);
      });
    }
  }

  end(final: FinalState): void {
    this.final = final;
    // Every lane's state runs to the last bin.
    for (const r of this.cands) {
      this.byTime.fill(r.bins!.byTime, this.byTime.n - 1, r.state);
      this.bySeq.fill(r.bins!.bySeq, this.bySeq.n - 1, r.state);
    }
  }

  private add(s: SeriesName, v: number): void {
    this.byTime.sums.get(s)![this.bt] += v;
    this.bySeq.sums.get(s)![this.bs] += v;
  }

  private vramChange(d: Extract<Decision, { code: 'bo_alloc' | 'bo_free' }>): void {
    this.byTime.level(this.bt, this.vram);
    this.bySeq.level(this.bs, this.vram);
    const bytes = Number(d.bytes);
    const cls = bytes === 4096 ? 0 : bytes === 65536 ? 1 : bytes === 2 << 20 ? 2 : 3;
    this.vram[cls] += d.code === 'bo_alloc' ? bytes : -bytes;
    this.byTime.level(this.bt, this.vram);
    this.bySeq.level(this.bs, this.vram);
  }

  private rangeFor(start: number, end: number, created: boolean): RangeRec {
    const n = end - start;
    const key = start * 4 + (n === 1 ? 0 : n === 16 ? 1 : n === 512 ? 2 : 3);
    let r = this.ranges.get(key);
    if (r === undefined) {
      r = { start, end, state: STATE_BITS.invalid, activity: 0 };
      this.ranges.set(key, r);
      if (this.tracked < MAX_TRACKED) this.track(r, true);
    } else if (created) this.setState(r, STATE_BITS.invalid);
    if (created || !this.live.has(start)) this.live.set(start, r);
    return r;
  }

  /** The live range holding the window [start, end) (ranges are aligned to their size). */
  private containing(start: number, end: number): RangeRec | undefined {
    for (const n of [512, 16, 1]) {
      const r = this.live.get(start - (start % n));
      if (r !== undefined && r.end >= end) return r;
    }
    return undefined;
  }

  private setState(r: RangeRec, bits: number): void {
    if (r.state === bits) return;
    const c = r.bins;
    if (c !== undefined) {
      // Up to the previous bin the old state; this bin has both.
      this.byTime.fill(c.byTime, this.bt, r.state);
      this.bySeq.fill(c.bySeq, this.bs, r.state);
      c.byTime.bits[this.bt] |= bits;
      c.bySeq.bits[this.bs] |= bits;
    }
    r.state = bits;
  }

  private mark(
    r: RangeRec | undefined,
    kind: MarkKind,
    di: number,
    echo: EventEcho,
    res: EventResult,
    once: Map<RangeRec, number> | undefined,
  ): void {
    if (r === undefined) return;
    if (once !== undefined) {
      const kinds = once.get(r) ?? 0;
      if (kinds & (1 << kind)) return;
      once.set(r, kinds | (1 << kind));
    }
    r.activity++;
    const c = r.cand ?? this.promote(r);
    if (c === undefined) return;
    if (c.seen++ % c.stride !== 0) return;
    if (c.marks.length >= MAX_MARKS) {
      for (let i = 1; i < c.marks.length; i += 2) this.free(c.marks[i]);
      c.marks = c.marks.filter((_, i) => i % 2 === 0);
      c.stride *= 2;
      if ((c.seen - 1) % c.stride !== 0) return;
    }
    c.marks.push(this.texts(kind, di, echo, res));
  }

  /**
   * A kept mark, its texts rendered now (the event's head and click text once per event) into the
   * TextArena: a mark holding its EventResult until the end kept the model's decision objects
   * alive, and those of marks thinned out or dropped with their candidate filled the old generation
   * (report peak RSS 321 MB at 2M sparse events, 163 MB at 200K).
   */
  private texts(kind: MarkKind, di: number, echo: EventEcho, res: EventResult): Mark {
    const hover = `${eventHead(echo, res)}\nline ${echo.line}: ${describe(res.decisions[di])}`;
    if (this.clickOf !== res) {
      this.clickOf = res;
      this.click = [
        `${eventHead(echo, res)}   (trace line ${echo.line})`,
        ...shownDecisions(res).map((d) => '    ' + describe(d)),
      ].join('\n');
      this.clickAt = -1;
    }
    if (!this.arena.fits((hover.length + this.click.length) * 3) && this.compact()) this.clickAt = -1;
    if (this.clickAt < 0) [this.clickAt, this.clickLen] = this.arena.add(this.click);
    else this.arena.live += this.clickLen; // one more mark holds the event's click text
    const [hoverAt, hoverLen] = this.arena.add(hover);
    return { seq: this.seq, t: this.t, kind, hoverAt, hoverLen, clickAt: this.clickAt, clickLen: this.clickLen };
  }

  private free(m: Mark): void {
    this.arena.live -= m.hoverLen + m.clickLen;
  }

  /** Copy the live marks' texts into a fresh arena when at least half of this one is dead (whether it did). */
  private compact(): boolean {
    const old = this.arena;
    if (old.live * 2 > old.used) return false; // mostly live: add() grows it
    const a = new TextArena(this.arenaBytes);
    for (const r of this.cands)
      for (const m of r.cand!.marks) {
        [m.hoverAt, m.hoverLen] = a.add(old.get(m.hoverAt, m.hoverLen));
        [m.clickAt, m.clickLen] = a.add(old.get(m.clickAt, m.clickLen));
      }
    this.arena = a;
    this.compactions++;
    return true;
  }

  /**
   * Make r a candidate if there is room, or if it is clearly busier than the least busy candidate
   * (more than twice as busy, and by at least 2): with ranges about as busy as each other the
   * candidates stay put and keep whole histories instead of taking turns.
   */
  private promote(r: RangeRec): Candidate | undefined {
    if (this.cands.size >= this.maxCands) {
      if (!replaces(r.activity, this.minActivity)) return undefined;
      let min: RangeRec | undefined;
      for (const c of this.cands) if (min === undefined || c.activity < min.activity) min = c;
      this.minActivity = min!.activity;
      if (!replaces(r.activity, this.minActivity)) return undefined;
      for (const m of min!.cand!.marks) this.free(m);
      this.cands.delete(min!);
      min!.cand = undefined;
      if (!min!.bins!.fromStart) this.untrack(min!);
    }
    if (r.bins === undefined) this.track(r, false);
    const c: Candidate = { marks: [], stride: 1, seen: 0 };
    this.cands.add(r);
    r.cand = c;
    return c;
  }

  /** Start keeping r's state per bin, from now. */
  private track(r: RangeRec, fromStart: boolean): void {
    const lane = (b: number): LaneBins => ({ bits: new Uint8Array(MAX_BINS), last: b, from: b });
    const bins: RangeBins = { byTime: lane(this.bt), bySeq: lane(this.bs), fromStart };
    bins.byTime.bits[this.bt] = r.state;
    bins.bySeq.bits[this.bs] = r.state;
    this.byTime.lanes.add(bins.byTime);
    this.bySeq.lanes.add(bins.bySeq);
    r.bins = bins;
    this.tracked++;
  }

  private untrack(r: RangeRec): void {
    this.byTime.lanes.delete(r.bins!.byTime);
    this.bySeq.lanes.delete(r.bins!.bySeq);
    r.bins = undefined;
    this.tracked--;
  }

  /** The run's data on the chosen axis. */
  doc(axis: 'time' | 'seq'): RunDoc {
    const bin = axis === 'time' ? this.byTime : this.bySeq;
    const n = bin.n;
    const scale = axis === 'time' ? 1e-6 : 1;
    const series = {} as RunDoc['series'];
    const round = (v: number) => Math.round(v * 1000) / 1000;
    for (const s of SUMS) series[s] = Array.from(bin.sums.get(s)!.subarray(0, n), round);
    for (const s of LEVELS)
      series[s] = Array.from(bin.levels.get(s)!.subarray(0, n), (v) => (Number.isNaN(v) ? null : round(v / 2 ** 20)));
    const texts: string[] = [];
    const textIdx = new Map<string, number>();
    const text = (s: string) => {
      let i = textIdx.get(s);
      if (i === undefined) {
        i = texts.length;
        texts.push(s);
        textIdx.set(s, i);
      }
      return i;
    };
    const busiest = [...this.cands]
      .sort((a, b) => b.activity - a.activity || a.start - b.start || a.end - b.end)
      .slice(0, this.laneCount)
      .sort((a, b) => a.start - b.start || a.end - b.end);
    const lanes: LaneDoc[] = busiest.map((r) => {
      const c = r.cand!;
      const lb = axis === 'time' ? r.bins!.byTime : r.bins!.bySeq;
      let states = '';
      for (let i = 0; i < n; i++) states += B32[lb.bits[i]];
      const marks: number[] = [];
      for (const m of c.marks)
        marks.push(
          round((axis === 'time' ? m.t : m.seq) * scale),
          m.kind,
          text(this.arena.get(m.hoverAt, m.hoverLen)),
          text(this.arena.get(m.clickAt, m.clickLen)),
        );
      return {
        span: span(r.start, r.end),
        size: humanPages(r.end - r.start),
        activity: r.activity,
        fromBin: lb.from,
        fromStart: r.bins!.fromStart,
        states,
        marks,
        marksSeen: c.seen,
      };
    });
    return {
      label: this.label,
      capacityMiB: Number(this.capacity >> 20n),
      binWidth: bin.width * scale,
      bins: n,
      series,
      lanes,
      rangesSeen: this.ranges.size,
      texts,
    };
  }
}
