/**
 * DOC: Per-range history (`--by-range`)
 *
 * The view a driver developer reads first: for every range the replay created, when and why it
 * got its size, each migration with direction and cause, invalidations, binds and its
 * destruction. Built from the decision log: a `range` decision with `created` opens a history,
 * `gc_range` / `madvise_range_remove` closes it, and decisions naming a span attach to every open
 * history they overlap.
 *
 * Scale: open histories are indexed by 2M block, so a decision finds the histories it overlaps
 * without scanning every open one; lines go into an ExternalSorter (spill.ts) keyed by history
 * number, so memory holds the open histories and one run of text, never the whole report. A
 * history's heading is pushed when it closes (or at the end), keyed to sort before its lines.
 */

import type { Decision, EventResult, RangeRef } from '../core/decisions.js';
import { describe } from './describe.js';
import { humanPages, span } from './format.js';
import type { EventEcho } from './reporter.js';
import { ExternalSorter, memoryStore, RUN_BYTES, type SortSpec, type TempStore } from './spill.js';

interface OpenHistory {
  /** Creation number: histories print in this order. */
  n: number;
  /** Owning process (1 when the trace has no pid). */
  pid: number;
  start: number;
  end: number;
  createdSeq: number;
  /** Last decision that attached a line (one line per decision). */
  mark: number;
}

/**
 * A line of the report: key = 2 × history number (+1 for body lines, 0 for the heading). A
 * heading carries its process (`pid`, else -1): whether to name it is known only at the end.
 */
interface Line {
  key: number;
  pid: number;
  text: string;
}

const LINES: SortSpec<Line> = {
  compare: (a, b) => a.key - b.key,
  encode: (r) => `${r.key} ${r.pid} ${r.text}`,
  decode: (s) => {
    const a = s.indexOf(' ');
    const b = s.indexOf(' ', a + 1);
    return { key: Number(s.slice(0, a)), pid: Number(s.slice(a + 1, b)), text: s.slice(b + 1) };
  },
  weight: (r) => r.text.length + 24,
};

/** The spans a decision is about, for attaching it to range histories. */
export function spansOf(d: Decision): RangeRef[] {
  switch (d.code) {
    case 'range':
    case 'range_valid':
    case 'no_migrate':
    case 'migrate_to_vram':
    case 'get_pages':
    case 'range_evict':
    case 'bind':
    case 'not_migratable_atomic':
    case 'gc_range':
    case 'madvise_range_remove':
      return [d.range];
    case 'invalidate':
      return d.unmapped.length === 0 ? d.zapped : [...d.zapped, ...d.unmapped];
    case 'migrate_to_ram':
    case 'bo_evict':
    case 'timeslice_wait':
    case 'bo_free':
      return [{ start: d.start, end: d.end }];
    case 'fault_acked_unbound':
      return [d.range];
    case 'madvise_zap':
      return d.zapped;
    default:
      return [];
  }
}

/** Pages per index block (2M): ranges never cross one, so a history sits in one block. */
const BLOCK = 512;
const blockOf = (page: number) => Math.floor(page / BLOCK);

export class RangeHistory {
  private readonly lines: ExternalSorter<Line>;
  private readonly blocks = new Map<number, OpenHistory[]>();
  private readonly open = new Set<OpenHistory>();
  private created = 0;
  private decisionNo = 0;
  /** Processes seen (histories name their pid when there is more than one). */
  private readonly pids = new Set<number>();

  /** `runBytes`: text held in memory before a sorted run spills (tests use tiny runs). */
  constructor(newStore: () => TempStore = memoryStore, runBytes = RUN_BYTES) {
    this.lines = new ExternalSorter(LINES, newStore, runBytes);
  }

  add(echo: EventEcho, res: EventResult): void {
    // Decisions belong to the event's process, except those after a `process` switch (a BO
    // eviction working in the victim's VM).
    let pid = echo.pid ?? 1;
    this.pids.add(pid);
    let tag: string | undefined;
    let fault = '';
    for (const d of res.decisions) {
      if (d.code === 'process') {
        pid = d.pid;
        continue;
      }
      if (d.code === 'fault') fault = ` ${d.access} fault`;
      if (d.code === 'range' && d.created) this.openHistory(pid, d.range, res.seq);
      const spans = spansOf(d);
      if (spans.length === 0) continue;
      // a BO eviction names its victim's process
      const dpid = d.code === 'bo_evict' && d.pid !== undefined ? d.pid : pid;
      const mark = ++this.decisionNo;
      let text: string | undefined;
      this.overlapping(spans, (h) => {
        if (h.mark === mark || h.pid !== dpid) return;
        h.mark = mark;
        tag ??= `#${res.seq} ${res.op}${echo.pid !== undefined ? ` pid ${echo.pid}` : ''} (line ${echo.line})`;
        text ??= `    ${tag}${fault}: ${describe(d)}`;
        this.lines.push({ key: h.n * 2 + 1, pid: -1, text });
      });
      if (d.code === 'gc_range' || d.code === 'madvise_range_remove') this.closeExact(pid, d.range);
    }
  }

  private openHistory(pid: number, r: RangeRef, seq: number): void {
    const h: OpenHistory = { n: this.created++, pid, start: r.start, end: r.end, createdSeq: seq, mark: 0 };
    this.open.add(h);
    for (let b = blockOf(h.start), last = blockOf(h.end - 1); b <= last; b++) {
      const list = this.blocks.get(b);
      if (list === undefined) this.blocks.set(b, [h]);
      else list.push(h);
    }
  }

  /** Every open history overlapping one of the spans (a history may come more than once). */
  private overlapping(spans: RangeRef[], each: (h: OpenHistory) => void): void {
    for (const s of spans) {
      if (s.end <= s.start) continue;
      const first = blockOf(s.start);
      const last = blockOf(s.end - 1);
      if (last - first + 1 > this.open.size) {
        for (const h of this.open) if (h.start < s.end && s.start < h.end) each(h);
        continue;
      }
      for (let b = first; b <= last; b++) {
        const list = this.blocks.get(b);
        if (list === undefined) continue;
        for (const h of list) if (h.start < s.end && s.start < h.end) each(h);
      }
    }
  }

  /** Close the open histories of exactly this span (its heading can be written now). */
  private closeExact(pid: number, r: RangeRef): void {
    const list = this.blocks.get(blockOf(r.start));
    if (list === undefined) return;
    for (const h of list.filter((x) => x.pid === pid && x.start === r.start && x.end === r.end)) this.close(h, true);
  }

  private close(h: OpenHistory, destroyed: boolean): void {
    this.open.delete(h);
    for (let b = blockOf(h.start), last = blockOf(h.end - 1); b <= last; b++) {
      const list = this.blocks.get(b)!;
      list.splice(list.indexOf(h), 1);
      if (list.length === 0) this.blocks.delete(b);
    }
    const text = `range ${span(h.start, h.end)} ${humanPages(h.end - h.start)}, created at #${h.createdSeq}${destroyed ? ', destroyed' : ''}`;
    this.lines.push({ key: h.n * 2, pid: h.pid, text });
  }

  /** Write every history, in creation order (each line ends in '\n'). */
  writeTo(write: (s: string) => void): void {
    for (const h of [...this.open]) this.close(h, false);
    let out = '';
    const named = this.pids.size > 1;
    this.lines.drain((l) => {
      out += (named && l.pid >= 0 ? `pid ${l.pid} ` : '') + l.text + '\n';
      if (out.length >= 1 << 16) {
        write(out);
        out = '';
      }
    });
    if (out !== '') write(out);
  }

  /** The whole text at once (small replays, tests). */
  render(): string {
    let s = '';
    this.writeTo((x) => (s += x));
    return s;
  }
}
