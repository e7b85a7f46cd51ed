/**
 * DOC: Per-range history (`--by-range`)
 *
 * The view a driver developer reads first: for every range the replay created, when and why it
 * got its size, each migration with direction and cause, invalidations, binds and its
 * destruction. Built from the decision log: a `range` decision with `created` opens a history,
 * `gc_range` / `madvise_range_remove` closes it, and decisions naming a span attach to every open
 * history they overlap.
 *
 * Scale: open histories are slots of a SpanIndex (open-spans.ts: columns, indexed by 2M block),
 * so a decision finds the histories it overlaps without scanning every open one, in ~70 bytes per
 * open history; lines go into an ExternalSorter (spill.ts) keyed by history
 * number, so memory holds the open histories and one run of text, never the whole report. A
 * history's heading is pushed when it closes (or at the end), keyed to sort before its lines.
 */

import type { Decision, EventResult, RangeRef } from '../core/decisions.js';
import { describe } from './describe.js';
import { humanPages, span } from './format.js';
import type { EventEcho } from './reporter.js';
import { SpanIndex } from './open-spans.js';
import { ByteWriter, ExternalSorter, FAN_IN, memoryStore, RUN_BYTES, type SortSpec, type TempStore } from './spill.js';

/** Columns of an open history in its SpanIndex slot. */
const N = 0; // creation number: histories print in this order
const PID = 1; // owning process (1 when the trace has no pid)
const CREATED = 2; // seq of the event that created it
const MARK = 3; // last decision that attached a line (one line per decision)

/**
 * A line of the report is a sorter record: keys [2 × history number (+1 for body lines, 0 for the
 * heading), process] and its text. A heading carries its process (`pid`, else -1): whether to
 * name it is known only at the end.
 */
const KEY = 0;
const LPID = 1;
const LINES: SortSpec = { keys: 2, compare: (ka, ia, kb, ib) => ka[ia + KEY] - kb[ib + KEY] };

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

export class RangeHistory {
  private readonly lines: ExternalSorter;
  /** Open histories (by 2M block, in columns: open-spans.ts). */
  private readonly open = new SpanIndex(4);
  private created = 0;
  private decisionNo = 0;
  /** Processes seen (histories name their pid when there is more than one). */
  private readonly pids = new Set<number>();

  /** `runBytes`: text held in memory before a sorted run spills; `fanIn`: runs merged at once (tests use tiny ones). */
  constructor(newStore: () => TempStore = memoryStore, runBytes = RUN_BYTES, fanIn = FAN_IN) {
    this.lines = new ExternalSorter(LINES, newStore, runBytes, undefined, fanIn);
  }

  add(echo: EventEcho, res: EventResult): void {
    // Decisions belong to the event's process, except those after a `process` switch (a BO
    // eviction working in the victim's VM).
    let pid = echo.pid ?? 1;
    this.pids.add(pid);
    let tag: string | undefined;
    let fault = '';
    const open = this.open;
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
      for (const s of spans) {
        open.overlapping(s.start, s.end, (h) => {
          const c = h * 4;
          if (open.cols[c + MARK] === mark || open.cols[c + PID] !== dpid) return;
          open.cols[c + MARK] = mark;
          tag ??= `#${res.seq} ${res.op}${echo.pid !== undefined ? ` pid ${echo.pid}` : ''} (line ${echo.line})`;
          text ??= `    ${tag}${fault}: ${describe(d)}`;
          this.line(open.cols[c + N] * 2 + 1, -1, text);
        });
      }
      if (d.code === 'gc_range' || d.code === 'madvise_range_remove') this.closeExact(pid, d.range);
    }
  }

  private openHistory(pid: number, r: RangeRef, seq: number): void {
    const h = this.open.add(r.start, r.end);
    const c = h * 4;
    this.open.cols[c + N] = this.created++;
    this.open.cols[c + PID] = pid;
    this.open.cols[c + CREATED] = seq;
  }

  private line(key: number, pid: number, text: string): void {
    this.lines.next[KEY] = key;
    this.lines.next[LPID] = pid;
    this.lines.push(text);
  }

  /** Close the open histories of exactly this span (its heading can be written now). */
  private closeExact(pid: number, r: RangeRef): void {
    const hit: number[] = [];
    this.open.at(r.start, (h) => {
      if (this.open.cols[h * 4 + PID] === pid && this.open.end[h] === r.end) hit.push(h);
    });
    for (const h of hit) this.close(h, true);
  }

  private close(h: number, destroyed: boolean): void {
    const o = this.open;
    const c = h * 4;
    const start = o.start[h];
    const end = o.end[h];
    const text = `range ${span(start, end)} ${humanPages(end - start)}, created at #${o.cols[c + CREATED]}${destroyed ? ', destroyed' : ''}`;
    this.line(o.cols[c + N] * 2, o.cols[c + PID], text);
    o.remove(h);
  }

  /** Write every history, in creation order (each line ends in '\n'). */
  writeTo(write: (s: string) => void): void {
    for (const h of this.open.all()) this.close(h, false);
    const named = this.pids.size > 1;
    const out = new ByteWriter(write);
    this.lines.drain((keys, at, bytes, from, to) => {
      const pid = keys[at + LPID];
      if (named && pid >= 0) out.text(`pid ${pid} `);
      out.bytes(bytes, from, to);
      out.text('\n');
      out.end();
    });
    out.flush();
  }

  /** The whole text at once (small replays, tests). */
  render(): string {
    let s = '';
    this.writeTo((x) => (s += x));
    return s;
  }
}
