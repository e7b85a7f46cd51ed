/**
 * DOC: Per-range history (`--by-range`)
 *
 * The view a driver developer reads first: for every range the replay created, when and why it
 * got its size, each migration with direction and cause, invalidations, binds and its
 * destruction. Built from the decision log: a `range` decision with `created` opens a history,
 * `gc_range` / `madvise_range_remove` closes it, and decisions naming a span attach to every open
 * history they overlap.
 */

import type { Decision, EventResult, RangeRef } from '../core/decisions.js';
import { describe } from './describe.js';
import { humanPages, span } from './format.js';
import type { EventEcho } from './reporter.js';

interface History {
  start: number;
  end: number;
  createdSeq: number;
  lines: string[];
  closed: boolean;
}

const overlaps = (a: RangeRef, s: number, e: number) => a.start < e && s < a.end;

/** The spans a decision is about, for attaching it to range histories. */
function spansOf(d: Decision): RangeRef[] {
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
      return [...d.zapped, ...d.unmapped];
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
  private readonly all: History[] = [];
  private open: History[] = [];

  add(echo: EventEcho, res: EventResult): void {
    const tag = `#${res.seq} ${res.op} (line ${echo.line})`;
    let fault = '';
    for (const d of res.decisions) {
      if (d.code === 'fault') fault = ` ${d.access} fault`;
      if (d.code === 'range' && d.created) {
        const h: History = { start: d.range.start, end: d.range.end, createdSeq: res.seq, lines: [], closed: false };
        this.all.push(h);
        this.open.push(h);
      }
      const spans = spansOf(d);
      if (spans.length === 0) continue;
      for (const h of this.open) {
        if (spans.some((s) => overlaps(s, h.start, h.end))) h.lines.push(`${tag}${fault}: ${describeFor(d)}`);
      }
      if (d.code === 'gc_range' || d.code === 'madvise_range_remove') {
        for (const h of this.open) if (h.start === d.range.start && h.end === d.range.end) h.closed = true;
        this.open = this.open.filter((h) => !h.closed);
      }
    }
  }

  /** Text of every history, in creation order. */
  render(style: (d: Decision) => string = describe): string {
    void style;
    const out: string[] = [];
    for (const h of this.all) {
      out.push(`range ${span(h.start, h.end)} ${humanPages(h.end - h.start)}, created at #${h.createdSeq}${h.closed ? ', destroyed' : ''}`);
      for (const l of h.lines) out.push('    ' + l);
    }
    return out.join('\n') + (out.length ? '\n' : '');
  }
}

function describeFor(d: Decision): string {
  return describe(d);
}
