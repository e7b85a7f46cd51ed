/**
 * The straightforward report paths as they were before the streaming rewrite (everything held in
 * memory, plain scans, JSON.stringify per event): the reference the optimised paths must match
 * byte for byte (test/report/output-paths.test.ts).
 */
import type { Decision, EventResult, RangeRef } from '../../src/core/decisions.js';
import type { Platform } from '../../src/core/platform.js';
import type { FinalState } from '../../src/core/simulator.js';
import { describe } from '../../src/report/describe.js';
import { hexPage, humanPages, span } from '../../src/report/format.js';
import { eventJson, type EventEcho, type Reporter, type Sink } from '../../src/report/reporter.js';
import { spansOf } from '../../src/report/by-range.js';

/** One event of `--format json` the plain way. */
export const plainEventJson = (echo: EventEcho, res: EventResult): string =>
  JSON.stringify(eventJson(echo, res), null, 2).replace(/\n/g, '\n    ');

interface History {
  /** Owning process (1 when the trace has no pid). */
  pid: number;
  start: number;
  end: number;
  createdSeq: number;
  lines: string[];
  closed: boolean;
}

const overlaps = (a: RangeRef, s: number, e: number) => a.start < e && s < a.end;

/** `--by-range` the plain way: every history in memory, every open one scanned per decision. */
export class PlainRangeHistory {
  private readonly all: History[] = [];
  private open: History[] = [];
  /** Processes seen (histories name their pid when there is more than one). */
  private readonly pids = new Set<number>();

  add(echo: EventEcho, res: EventResult): void {
    // Decisions belong to the event's process, except those after a `process` switch (a BO
    // eviction working in the victim's VM).
    let pid = echo.pid ?? 1;
    this.pids.add(pid);
    const tag = `#${res.seq} ${res.op}${echo.pid !== undefined ? ` pid ${echo.pid}` : ''} (line ${echo.line})`;
    let fault = '';
    for (const d of res.decisions) {
      if (d.code === 'process') {
        pid = d.pid;
        continue;
      }
      if (d.code === 'fault') fault = ` ${d.access} fault`;
      if (d.code === 'range' && d.created) {
        const h: History = {
          pid,
          start: d.range.start,
          end: d.range.end,
          createdSeq: res.seq,
          lines: [],
          closed: false,
        };
        this.all.push(h);
        this.open.push(h);
      }
      const spans = spansOf(d);
      if (spans.length === 0) continue;
      // a BO eviction names its victim's process
      const dpid = d.code === 'bo_evict' && d.pid !== undefined ? d.pid : pid;
      for (const h of this.open) {
        if (h.pid === dpid && spans.some((s) => overlaps(s, h.start, h.end)))
          h.lines.push(`${tag}${fault}: ${describe(d)}`);
      }
      if (d.code === 'gc_range' || d.code === 'madvise_range_remove') {
        for (const h of this.open)
          if (h.pid === pid && h.start === d.range.start && h.end === d.range.end) h.closed = true;
        this.open = this.open.filter((h) => !h.closed);
      }
    }
  }

  /** Text of every history, in creation order. */
  render(style: (d: Decision) => string = describe): string {
    void style;
    const out: string[] = [];
    for (const h of this.all) {
      const who = this.pids.size > 1 ? `pid ${h.pid} ` : '';
      out.push(
        `${who}range ${span(h.start, h.end)} ${humanPages(h.end - h.start)}, created at #${h.createdSeq}${h.closed ? ', destroyed' : ''}`,
      );
      for (const l of h.lines) out.push('    ' + l);
    }
    return out.join('\n') + (out.length ? '\n' : '');
  }
}

interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'C' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't';
  args?: Record<string, unknown>;
  cat?: string;
}

interface RangeTrack {
  tid: number;
  start: number;
  end: number;
  residency: 'vram' | 'smem';
  resStart: number;
  boundStart: number | null;
}

const PID = 1;
const TID_FAULTS = 1;
const TID_NOTIFY = 2;
const TID_COUNTERS = 3;

/** `--format perfetto` the plain way: every event buffered, one sort and one JSON.stringify at the end. */
export class PlainPerfettoReporter implements Reporter {
  readonly wantsEvents = true;
  private readonly events: TraceEvent[] = [];
  private readonly open = new Map<number, RangeTrack>();
  private nextTid = 100;
  private anyTime = false;
  /** Buffered (seq, t, result) so the time base can be chosen at the end. */
  private readonly pending: { seq: number; tNs: number; res: EventResult; echo: EventEcho }[] = [];
  private vram = 0n;

  constructor(private readonly write: Sink) {}

  begin(_p: Platform): void {}

  event(echo: EventEcho, res: EventResult): void {
    // res.t is when the event took effect (after any timeslice wait), echo.t when it was issued.
    if (res.t !== 0) this.anyTime = true;
    this.pending.push({ seq: res.seq, tNs: res.t, res, echo });
  }

  /** A complete slice; zero-length ones (a state entered and left within one event) are dropped. */
  private slice(name: string, tid: number, from: number, to: number, args?: Record<string, unknown>): void {
    if (to <= from) return;
    this.events.push({ name, ph: 'X', ts: from, dur: to - from, pid: PID, tid, ...(args ? { args } : {}) });
  }

  private instant(name: string, tid: number, ts: number, args: Record<string, unknown>): void {
    this.events.push({ name, ph: 'i', s: 't', ts, pid: PID, tid, args });
  }

  private closeBound(r: RangeTrack, ts: number): void {
    if (r.boundStart === null) return;
    this.slice('bound', r.tid, r.boundStart, ts);
    r.boundStart = null;
  }

  private setResidency(r: RangeTrack, to: 'vram' | 'smem', ts: number): void {
    if (r.residency === to) return;
    this.closeBound(r, ts);
    this.slice(r.residency, r.tid, r.resStart, ts);
    r.residency = to;
    r.resStart = ts;
  }

  private closeRange(r: RangeTrack, ts: number): void {
    this.closeBound(r, ts);
    this.slice(r.residency, r.tid, r.resStart, ts);
    this.open.delete(r.start);
  }

  private rangesIn(s: number, e: number): RangeTrack[] {
    return [...this.open.values()].filter((r) => r.start < e && s < r.end);
  }

  private apply(d: Decision, ts: number, echo: EventEcho, res: EventResult): void {
    switch (d.code) {
      case 'range':
        if (d.created) {
          const tid = this.nextTid++;
          const r: RangeTrack = {
            tid,
            start: d.range.start,
            end: d.range.end,
            residency: 'smem',
            resStart: ts,
            boundStart: null,
          };
          this.open.set(r.start, r);
          this.events.push({
            name: 'thread_name',
            ph: 'M',
            ts: 0,
            pid: PID,
            tid,
            args: { name: `range ${span(r.start, r.end)} ${humanPages(r.end - r.start)} (#${res.seq})` },
          });
        }
        return;
      case 'migrate_to_vram':
        if (d.ok) for (const r of this.rangesIn(d.range.start, d.range.end)) this.setResidency(r, 'vram', ts);
        return;
      case 'migrate_to_ram':
        for (const r of this.rangesIn(d.start, d.end)) this.setResidency(r, 'smem', ts);
        if (d.cause === 'bo_evict')
          this.instant(`evict BO#${d.bo}`, TID_NOTIFY, ts, { window: span(d.start, d.end), pages: d.pages });
        return;
      case 'get_pages':
        if (d.ok && d.location !== undefined && d.location !== 'mixed') {
          const r = this.open.get(d.range.start);
          if (r) this.setResidency(r, d.location, ts);
        }
        return;
      case 'bind': {
        const r = this.open.get(d.range.start);
        if (r) {
          this.closeBound(r, ts);
          r.boundStart = ts;
        }
        return;
      }
      case 'invalidate':
        for (const z of d.zapped) {
          const r = this.open.get(z.start);
          if (r) this.closeBound(r, ts);
        }
        this.instant(`${d.event} invalidate`, TID_NOTIFY, ts, {
          span: span(d.start, d.end),
          zapped: d.zapped.length,
          tlb_inval: d.tlbInval,
        });
        return;
      case 'madvise_zap':
        for (const z of d.zapped) {
          const r = this.open.get(z.start);
          if (r) this.closeBound(r, ts);
        }
        return;
      case 'gc_range':
      case 'madvise_range_remove': {
        const r = this.open.get(d.range.start);
        if (r && r.end === d.range.end) this.closeRange(r, ts);
        if (d.code === 'gc_range')
          this.instant('gc', TID_NOTIFY, ts, {
            range: span(d.range.start, d.range.end),
            partial_unmap: d.partialUnmap,
          });
        return;
      }
      case 'fault':
        this.instant(`fault ${d.access}`, TID_FAULTS, ts, {
          addr: hexPage(d.page),
          outcome: res.outcome,
          ...(res.errno ? { errno: res.errno } : {}),
          line: echo.line,
        });
        return;
      case 'bo_alloc':
        this.vram += d.bytes;
        this.events.push({
          name: 'VRAM used',
          ph: 'C',
          ts,
          pid: PID,
          tid: TID_COUNTERS,
          args: { bytes: Number(this.vram) },
        });
        return;
      case 'bo_free':
        this.vram -= d.bytes;
        this.events.push({
          name: 'VRAM used',
          ph: 'C',
          ts,
          pid: PID,
          tid: TID_COUNTERS,
          args: { bytes: Number(this.vram) },
        });
        return;
      default:
    }
  }

  end(_final: FinalState): void {
    const tsOf = (p: { seq: number; tNs: number }) => (this.anyTime ? p.tNs / 1000 : p.seq);
    const faultsPerMs = new Map<number, number>();
    let last = 0;
    for (const p of this.pending) {
      const ts = tsOf(p);
      last = ts;
      for (const d of p.res.decisions) {
        this.apply(d, ts, p.echo, p.res);
        if (d.code === 'fault') {
          const ms = Math.floor(ts / 1000);
          faultsPerMs.set(ms, (faultsPerMs.get(ms) ?? 0) + 1);
        }
      }
    }
    for (const r of [...this.open.values()]) this.closeRange(r, last);
    const buckets = [...faultsPerMs.keys()].sort((a, b) => a - b);
    for (const b of buckets) {
      this.events.push({
        name: 'GPU faults per ms',
        ph: 'C',
        ts: b * 1000,
        pid: PID,
        tid: TID_COUNTERS,
        args: { faults: faultsPerMs.get(b) },
      });
      if (!faultsPerMs.has(b + 1))
        this.events.push({
          name: 'GPU faults per ms',
          ph: 'C',
          ts: (b + 1) * 1000,
          pid: PID,
          tid: TID_COUNTERS,
          args: { faults: 0 },
        });
    }
    const meta: TraceEvent[] = [
      { name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: 'svmsim' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: TID_FAULTS, args: { name: 'GPU faults' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: TID_NOTIFY, args: { name: 'notifiers & GC' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: TID_COUNTERS, args: { name: 'counters' } },
    ];
    // Per track: time order, parents (longer) before children at equal times.
    const sorted = this.events
      .map((e, i) => ({ e, i }))
      .sort(
        (a, b) =>
          a.e.tid - b.e.tid ||
          (a.e.ph === 'M' ? -1 : 0) - (b.e.ph === 'M' ? -1 : 0) ||
          a.e.ts - b.e.ts ||
          (b.e.dur ?? 0) - (a.e.dur ?? 0) ||
          (a.e.name === 'bound' ? 1 : 0) - (b.e.name === 'bound' ? 1 : 0) ||
          a.i - b.i,
      )
      .map((x) => x.e);
    const doc = {
      displayTimeUnit: 'ms',
      otherData: { generator: 'svmsim', time: this.anyTime ? 'trace t (us)' : 'event index' },
      traceEvents: [...meta, ...sorted],
    };
    this.write(JSON.stringify(doc) + '\n');
  }
}
