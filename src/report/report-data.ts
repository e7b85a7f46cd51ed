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
 *   then every 4th new one, ...). Mark texts are rendered at the end,
 *   only for the marks kept.
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
  /** Index of the decision in res.decisions. */
  di: number;
  echo: EventEcho;
  res: EventResult;
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

  constructor(
    readonly label: string,
    readonly laneCount: number,
  ) {
    this.maxCands = Math.max(2 * laneCount + 16, 128);
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
      c.marks = c.marks.filter((_, i) => i % 2 === 0);
      c.stride *= 2;
      if ((c.seen - 1) % c.stride !== 0) return;
    }
    c.marks.push({ seq: this.seq, t: this.t, kind, di, echo, res });
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
      for (const m of c.marks) {
        const head = eventHead(m.echo, m.res);
        const hover = `${head}\nline ${m.echo.line}: ${describe(m.res.decisions[m.di])}`;
        const click = [
          `${head}   (trace line ${m.echo.line})`,
          ...shownDecisions(m.res).map((d) => '    ' + describe(d)),
        ].join('\n');
        marks.push(round((axis === 'time' ? m.t : m.seq) * scale), m.kind, text(hover), text(click));
      }
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
