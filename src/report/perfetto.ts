/**
 * DOC: Perfetto / Chrome Trace Event timeline (`--format perfetto`)
 *
 * A JSON file that opens in ui.perfetto.dev (or chrome://tracing): one process, "svmsim", with
 *
 * - a track per range (thread "range [start, end) size"), showing its residency as slices
 *   ("vram" / "smem") and, nested inside, the periods its GPU binding was valid ("bound"); a
 *   binding always ends before the residency changes, because every migration first fires the
 *   MMU notifier that zaps it;
 * - instant events for GPU faults (track "GPU faults"), notifier invalidations, GC and BO
 *   evictions (track "notifiers & GC");
 * - counter tracks for VRAM used (bytes) and GPU faults per millisecond.
 *
 * Time is the trace's `t` in microseconds; a trace without times uses the event index as the
 * microsecond. Within each track events are sorted by time (parents before children at equal
 * times), as the format expects.
 *
 * Scale: events are built as the replay goes and pushed into an ExternalSorter (spill.ts), so
 * memory holds the open range tracks (slots of a SpanIndex, open-spans.ts: ~80 bytes each) and
 * one run of events, never the whole timeline. The GPU-fault rate is counted one bucket at a time
 * (FaultRate below: times never decrease, so a bucket is complete once a later one starts) and its
 * counter events are pushed as each bucket closes; a Map of every bucket until the end grew with the
 * trace's duration (700K buckets for 10M atomic events: peak RSS 151 MB at 2M, 332 MB at 10M). The time
 * base is known only at the end (any non-zero time switches to trace time), so every event
 * carries its time in both bases. Before the first non-zero time every trace time is 0: in the
 * trace-time base those events sit at 0 and their slices are empty (dropped): within a track the
 * others are in push order either way, so runs sorted by event index before the switch are also
 * in order for trace time.
 */

import type { Decision, EventResult } from '../core/decisions.js';
import type { Platform } from '../core/platform.js';
import type { FinalState } from '../core/simulator.js';
import { hexPage, humanPages, numberText, span } from './format.js';
import type { EventEcho, Reporter, Sink } from './reporter.js';
import { SpanIndex } from './open-spans.js';
import { ByteWriter, ExternalSorter, FAN_IN, memoryStore, RUN_BYTES, type SortSpec, type TempStore } from './spill.js';

/** A time in both bases: event index (s) and trace time in µs (n). */
interface Ts {
  s: number;
  n: number;
}

/**
 * One trace event is a sorter record (spill.ts): the keys below, and as payload its JSON before
 * the time (`pre`, ASCII: fixed texts and names of ASCII words) followed by its JSON after the
 * time (and duration): `PRE` is the length of `pre`.
 */
const E_TID = 0;
/** 0 for metadata (first in a track), 1 otherwise. */
const E_M = 1;
/** Time in each base: event index (S), trace time in µs (N). */
const E_TS_S = 2;
const E_TS_N = 3;
/** Slices: duration in each base; -1 for other events. */
const E_DUR_S = 4;
const E_DUR_N = 5;
/** 1 for "bound" slices (after residency slices at equal times). */
const E_BOUND = 6;
const E_PRE = 7;
/** The time base a record is for: 0 both, 1 event index only, 2 trace time only (not a sort key). */
const E_BASE = 8;
const E_KEYS = 9;

/** Columns of an open range track in its SpanIndex slot (open-spans.ts). */
const TID = 0;
const RES = 1; // residency: 0 smem, 1 vram
const RES_S = 2; // residency start, event index
const RES_N = 3; // residency start, trace µs
const BOUND = 4; // 1 while a "bound" slice is open
const BOUND_S = 5;
const BOUND_N = 6;
const W = 7;
const RESIDENCY = ['smem', 'vram'] as const;

const PID = 1;
const TID_FAULTS = 1;
const TID_NOTIFY = 2;
const TID_COUNTERS = 3;

const META =
  `{"name":"process_name","ph":"M","ts":0,"pid":${PID},"tid":0,"args":{"name":"svmsim"}},` +
  `{"name":"thread_name","ph":"M","ts":0,"pid":${PID},"tid":${TID_FAULTS},"args":{"name":"GPU faults"}},` +
  `{"name":"thread_name","ph":"M","ts":0,"pid":${PID},"tid":${TID_NOTIFY},"args":{"name":"notifiers & GC"}},` +
  `{"name":"thread_name","ph":"M","ts":0,"pid":${PID},"tid":${TID_COUNTERS},"args":{"name":"counters"}}`;

export class PerfettoReporter implements Reporter {
  readonly wantsEvents = true;
  private readonly events: ExternalSorter;
  /** Open range tracks (at most one per start address), in columns. */
  private readonly open = new SpanIndex(W);
  private nextTid = 100;
  private anyTime = false;
  /** GPU faults per 1,000 events (event-index base, counted until the first non-zero time). */
  private readonly faultsS = new FaultRate((b, n) => this.faultCounter(1, b, n));
  /** GPU faults per millisecond (trace-time base). */
  private readonly faultsN = new FaultRate((b, n) => this.faultCounter(2, b, n));
  private last: Ts = { s: 0, n: 0 };
  private vram = 0n;

  constructor(
    private readonly write: Sink,
    newStore: () => TempStore = memoryStore,
    runBytes = RUN_BYTES,
    fanIn = FAN_IN,
    /** Where the timeline goes as UTF-8 bytes, when the output takes them (ReportOptions.bytes). */
    private readonly bytes?: (b: Uint8Array) => void,
  ) {
    const spec: SortSpec = {
      keys: E_KEYS,
      compare: (a, i, b, j) =>
        this.anyTime
          ? a[i + E_TID] - b[j + E_TID] ||
            a[i + E_M] - b[j + E_M] ||
            a[i + E_TS_N] - b[j + E_TS_N] ||
            Math.max(b[j + E_DUR_N], 0) - Math.max(a[i + E_DUR_N], 0) ||
            a[i + E_BOUND] - b[j + E_BOUND]
          : a[i + E_TID] - b[j + E_TID] ||
            a[i + E_M] - b[j + E_M] ||
            a[i + E_TS_S] - b[j + E_TS_S] ||
            Math.max(b[j + E_DUR_S], 0) - Math.max(a[i + E_DUR_S], 0) ||
            a[i + E_BOUND] - b[j + E_BOUND],
    };
    this.events = new ExternalSorter(spec, newStore, runBytes, undefined, fanIn);
  }

  begin(_p: Platform): void {}

  event(echo: EventEcho, res: EventResult): void {
    // res.t is when the event took effect (after any timeslice wait), echo.t when it was issued.
    // Switch to trace time: runs already spilled are sorted by event index, also right for trace time (see DOC).
    if (res.t !== 0) this.anyTime = true;
    const ts: Ts = { s: res.seq, n: res.t / 1000 };
    this.last = ts;
    for (const d of res.decisions) {
      this.apply(d, ts, echo, res);
      if (d.code === 'fault') {
        this.faultsN.bump(Math.floor(ts.n / 1000));
        if (!this.anyTime) this.faultsS.bump(Math.floor(ts.s / 1000));
      }
    }
  }

  private push(tid: number, ts: Ts, pre: string, post: string, m = 1, base = 0): void {
    this.record(tid, m, ts.s, ts.n, -1, -1, 0, pre, post, base);
  }

  private record(
    tid: number,
    m: number,
    tsS: number,
    tsN: number,
    durS: number,
    durN: number,
    bound: number,
    pre: string,
    post: string,
    base = 0,
  ): void {
    const k = this.events.next;
    k[E_TID] = tid;
    k[E_M] = m;
    k[E_TS_S] = tsS;
    k[E_TS_N] = tsN;
    k[E_DUR_S] = durS;
    k[E_DUR_N] = durN;
    k[E_BOUND] = bound;
    k[E_PRE] = pre.length;
    k[E_BASE] = base;
    this.events.push(pre + post);
  }

  /** A complete slice; one empty in a base is dropped there. */
  private slice(name: 'vram' | 'smem' | 'bound', tid: number, from: Ts, to: Ts): void {
    const durS = to.s - from.s;
    const durN = to.n - from.n;
    if (durS <= 0 && durN <= 0) return;
    this.record(
      tid,
      1,
      from.s,
      from.n,
      Math.max(durS, 0),
      Math.max(durN, 0),
      name === 'bound' ? 1 : 0,
      `{"name":"${name}","ph":"X","ts":`,
      `,"pid":${PID},"tid":${numberText(tid)}}`,
    );
  }

  private instant(name: string, tid: number, ts: Ts, args: string): void {
    this.push(
      tid,
      ts,
      `{"name":${JSON.stringify(name)},"ph":"i","s":"t","ts":`,
      `,"pid":${PID},"tid":${numberText(tid)},"args":${args}}`,
    );
  }

  private counter(name: string, ts: Ts, args: string, base = 0): void {
    this.push(
      TID_COUNTERS,
      ts,
      `{"name":"${name}","ph":"C","ts":`,
      `,"pid":${PID},"tid":${TID_COUNTERS},"args":${args}}`,
      1,
      base,
    );
  }

  /**
   * The fault-rate counter of bucket `b` (1,000 µs or 1,000 events from b × 1,000) for one time
   * base (E_BASE): its time in that base; in the other it is dropped. An event-index record is
   * pushed only before the first non-zero time, when every trace time is 0: 0 in that base keeps
   * it level with its neighbours in runs sorted by trace time.
   */
  private faultCounter(base: 1 | 2, b: number, faults: number): void {
    const us = b * 1000;
    this.counter(
      'GPU faults per ms',
      base === 1 ? { s: us, n: 0 } : { s: us, n: us },
      `{"faults":${numberText(faults)}}`,
      base,
    );
  }

  private closeBound(r: number, ts: Ts): void {
    const c = this.open.cols;
    const o = r * W;
    if (c[o + BOUND] === 0) return;
    this.slice('bound', c[o + TID], { s: c[o + BOUND_S], n: c[o + BOUND_N] }, ts);
    c[o + BOUND] = 0;
  }

  private setResidency(r: number, to: 0 | 1, ts: Ts): void {
    const c = this.open.cols;
    const o = r * W;
    if (c[o + RES] === to) return;
    this.closeBound(r, ts);
    this.slice(RESIDENCY[c[o + RES]], c[o + TID], { s: c[o + RES_S], n: c[o + RES_N] }, ts);
    c[o + RES] = to;
    c[o + RES_S] = ts.s;
    c[o + RES_N] = ts.n;
  }

  private closeRange(r: number, ts: Ts): void {
    const c = this.open.cols;
    this.closeBound(r, ts);
    this.slice(RESIDENCY[c[r * W + RES]], c[r * W + TID], { s: c[r * W + RES_S], n: c[r * W + RES_N] }, ts);
    this.open.remove(r);
  }

  /** The open track starting at `start` (-1: none). */
  private trackAt(start: number): number {
    let found = -1;
    this.open.at(start, (r) => (found = r));
    return found;
  }

  /** Every open range track overlapping [s, e). */
  private rangesIn(s: number, e: number, each: (r: number) => void): void {
    this.open.overlapping(s, e, each);
  }

  private apply(d: Decision, ts: Ts, echo: EventEcho, res: EventResult): void {
    switch (d.code) {
      case 'range':
        if (d.created) {
          const tid = this.nextTid++;
          const old = this.trackAt(d.range.start);
          if (old >= 0) this.open.remove(old);
          const r = this.open.add(d.range.start, d.range.end);
          const c = this.open.cols;
          c[r * W + TID] = tid;
          c[r * W + RES_S] = ts.s;
          c[r * W + RES_N] = ts.n;
          const name = `range ${span(d.range.start, d.range.end)} ${humanPages(d.range.end - d.range.start)} (#${numberText(res.seq)})`;
          this.push(
            tid,
            { s: 0, n: 0 },
            `{"name":"thread_name","ph":"M","ts":`,
            `,"pid":${PID},"tid":${numberText(tid)},"args":{"name":${JSON.stringify(name)}}}`,
            0,
          );
        }
        return;
      case 'migrate_to_vram':
        if (d.ok) this.rangesIn(d.range.start, d.range.end, (r) => this.setResidency(r, 1, ts));
        return;
      case 'migrate_to_ram':
        this.rangesIn(d.start, d.end, (r) => this.setResidency(r, 0, ts));
        if (d.cause === 'bo_evict')
          this.instant(
            `evict BO#${numberText(d.bo)}`,
            TID_NOTIFY,
            ts,
            JSON.stringify({ window: span(d.start, d.end), pages: d.pages }),
          );
        return;
      case 'get_pages':
        if (d.ok && d.location !== undefined && d.location !== 'mixed') {
          const r = this.trackAt(d.range.start);
          if (r >= 0) this.setResidency(r, d.location === 'vram' ? 1 : 0, ts);
        }
        return;
      case 'bind': {
        const r = this.trackAt(d.range.start);
        if (r >= 0) {
          this.closeBound(r, ts);
          const c = this.open.cols;
          c[r * W + BOUND] = 1;
          c[r * W + BOUND_S] = ts.s;
          c[r * W + BOUND_N] = ts.n;
        }
        return;
      }
      case 'invalidate':
        for (const z of d.zapped) {
          const r = this.trackAt(z.start);
          if (r >= 0) this.closeBound(r, ts);
        }
        this.instant(
          `${d.event} invalidate`,
          TID_NOTIFY,
          ts,
          JSON.stringify({ span: span(d.start, d.end), zapped: d.zapped.length, tlb_inval: d.tlbInval }),
        );
        return;
      case 'madvise_zap':
        for (const z of d.zapped) {
          const r = this.trackAt(z.start);
          if (r >= 0) this.closeBound(r, ts);
        }
        return;
      case 'gc_range':
      case 'madvise_range_remove': {
        const r = this.trackAt(d.range.start);
        if (r >= 0 && this.open.end[r] === d.range.end) this.closeRange(r, ts);
        if (d.code === 'gc_range')
          this.instant(
            'gc',
            TID_NOTIFY,
            ts,
            JSON.stringify({ range: span(d.range.start, d.range.end), partial_unmap: d.partialUnmap }),
          );
        return;
      }
      case 'fault':
        this.instant(
          `fault ${d.access}`,
          TID_FAULTS,
          ts,
          `{"addr":"${hexPage(d.page)}","outcome":"${res.outcome}"${res.errno ? `,"errno":"${res.errno}"` : ''},"line":${numberText(echo.line)}}`,
        );
        return;
      case 'bo_alloc':
        this.vram += d.bytes;
        this.counter('VRAM used', ts, `{"bytes":${numberText(Number(this.vram))}}`);
        return;
      case 'bo_free':
        this.vram -= d.bytes;
        this.counter('VRAM used', ts, `{"bytes":${numberText(Number(this.vram))}}`);
        return;
      default:
    }
  }

  end(_final: FinalState): void {
    for (const r of this.open.all()) this.closeRange(r, this.last);
    // Only the base in use: the other's records are dropped in the drain below.
    (this.anyTime ? this.faultsN : this.faultsS).finish();
    const time = this.anyTime ? 'trace t (us)' : 'event index';
    const out = new ByteWriter(this.write, this.bytes);
    out.text(`{"displayTimeUnit":"ms","otherData":{"generator":"svmsim","time":"${time}"},"traceEvents":[${META}`);
    const anyTime = this.anyTime;
    const TS = anyTime ? E_TS_N : E_TS_S;
    const DUR = anyTime ? E_DUR_N : E_DUR_S;
    this.events.drain((k, at, bytes, from, to) => {
      const base = k[at + E_BASE];
      if (base !== 0 && base !== (anyTime ? 2 : 1)) return;
      const dur = k[at + DUR];
      // Zero-length slices (a state entered and left within one event) are dropped.
      if (dur === 0) return;
      const mid = from + k[at + E_PRE];
      out.text(',');
      out.bytes(bytes, from, mid);
      // (numberText: a number converted by String() would stay in V8's number-string cache long enough to be promoted)
      out.text(dur >= 0 ? `${numberText(k[at + TS])},"dur":${numberText(dur)}` : numberText(k[at + TS]));
      out.bytes(bytes, mid, to);
      out.end();
    });
    out.text(']}\n');
    out.flush();
  }
}

/**
 * Counts per bucket for a counter track, in O(1) memory: buckets come in non-decreasing order (the
 * simulator's clock and the event index never go back), so a bucket is complete when a later one
 * starts. `emit` gets each bucket with its count as it closes, and, after a bucket whose successor
 * has no count, that successor with 0 (so the counter line drops back to zero); `finish` closes the
 * last one.
 */
export class FaultRate {
  private cur = 0;
  private count = 0;

  constructor(private readonly emit: (bucket: number, count: number) => void) {}

  bump(bucket: number): void {
    if (this.count > 0 && bucket === this.cur) {
      this.count++;
      return;
    }
    if (this.count > 0) {
      if (bucket < this.cur) throw new Error(`fault-rate bucket ${bucket} after ${this.cur}: time went back`);
      this.close(bucket);
    }
    this.cur = bucket;
    this.count = 1;
  }

  /** Emit the bucket still open (if any). */
  finish(): void {
    if (this.count > 0) this.close(undefined);
    this.count = 0;
  }

  private close(next: number | undefined): void {
    this.emit(this.cur, this.count);
    if (next !== this.cur + 1) this.emit(this.cur + 1, 0);
  }
}
