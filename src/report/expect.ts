/**
 * DOC: Checking a trace's expectations (`svmsim test`)
 *
 * `ExpectChecker` watches a replay event by event and, at the end, compares the trace's
 * `expect` block (src/trace/schema.ts) with what came out: GT counters, the exact final range
 * list, per-event outcomes and decision codes, VRAM in use, thrashing, metrics. For every
 * failed expectation it names the event that last changed the value, tracked cheaply during the
 * replay (only the values the trace checks are watched).
 */

import type { EventResult } from '../core/decisions.js';
import type { Simulator } from '../core/simulator.js';
import { statNames, type StatName } from '../core/xe-gt-stats.js';
import type { Expect } from '../trace/schema.js';
import { hexPage, humanBytes, humanPages } from './format.js';

/** An event, as a failure report names it. */
export interface EventRef {
  seq: number;
  line: number;
  op: string;
}

export interface ExpectFailure {
  /** Where in the expect block: e.g. ["stats", "gt0", "svm_pagefault_count"]. */
  path: (string | number)[];
  expected: string;
  actual: string;
  /** The actual value as JSON, written by --update. */
  actualJson: unknown;
  /** The event that last changed the value (null: none did). */
  lastChange: EventRef | null;
}

/** A problem with the expect block itself (unknown counter, ...): bad input. */
export class ExpectError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const RANGE_CODES = new Set([
  'range',
  'gc_range',
  'migrate_to_vram',
  'migrate_to_ram',
  'bind',
  'invalidate',
  'madvise_range_remove',
  'madvise_zap',
  'range_evict',
  'get_pages',
]);
const MIGRATE_CODES = new Set(['migrate_to_vram', 'migrate_to_ram']);

type Watch = { key: string; read: () => number; last: number; changed: EventRef | null };

function rangeText(r: { start: number; end: number; location?: string; valid?: boolean }): string {
  return `[${hexPage(r.start)}, ${hexPage(r.end)}) ${humanPages(r.end - r.start)}${r.location ? ' ' + r.location : ''}${r.valid === undefined ? '' : r.valid ? ' valid' : ' invalid'}`;
}

/** Follows one replay and checks a trace's expectations at the end. */
export class ExpectChecker {
  /** Whether the simulator must record decisions (codes, ranges or thrashing are checked). */
  static needsRecords(exp: Expect): boolean {
    return (
      exp.ranges !== undefined ||
      exp.thrashing !== undefined ||
      Object.values(exp.events ?? {}).some((e) => e.codes !== undefined)
    );
  }
  private readonly needsRecords: boolean;
  private readonly watches: Watch[] = [];
  private readonly seen = new Map<number, { outcome: string; errno: string | null; codes: string[]; ref: EventRef }>();
  private rangesChanged: EventRef | null = null;
  private migrated: EventRef | null = null;
  private count = 0;

  constructor(
    private readonly exp: Expect,
    private readonly sim: Simulator,
  ) {
    this.needsRecords = ExpectChecker.needsRecords(exp);
    const ctx = sim.context;
    const kernel = sim.platform.kernel;
    const names = new Set<string>(statNames(kernel));
    for (const [gt, counters] of Object.entries(exp.stats ?? {})) {
      const g = ctx.stats.gts.find((x) => `gt${x.gt}` === gt);
      if (g === undefined)
        throw new ExpectError(
          `expect.stats.${gt}`,
          `this platform has no ${gt} (GTs: ${ctx.stats.gts.map((x) => `gt${x.gt}`).join(', ')})`,
        );
      for (const c of Object.keys(counters)) {
        if (!names.has(c)) throw new ExpectError(`expect.stats.${gt}.${c}`, `kernel ${kernel} has no counter "${c}"`);
        this.watches.push({ key: `stats.${gt}.${c}`, read: () => g.get(c as StatName), last: 0, changed: null });
      }
    }
    for (const m of Object.keys(exp.metrics ?? {})) {
      if (!(m in ctx.metrics))
        throw new ExpectError(
          `expect.metrics.${m}`,
          `unknown metric "${m}"; metrics: ${Object.keys(ctx.metrics).join(', ')}`,
        );
      this.watches.push({
        key: `metrics.${m}`,
        read: () => (ctx.metrics as unknown as Record<string, number>)[m],
        last: 0,
        changed: null,
      });
    }
    if (exp.vram_used !== undefined)
      this.watches.push({ key: 'vram_used', read: () => ctx.pagemap.usedPages, last: 0, changed: null });
    for (const w of this.watches) w.last = w.read();
  }

  /** After each step. */
  event(res: EventResult, line: number): void {
    this.count++;
    const ref = { seq: res.seq, line, op: res.op };
    for (const w of this.watches) {
      const v = w.read();
      if (v !== w.last) {
        w.last = v;
        w.changed = ref;
      }
    }
    const want = this.exp.events?.[String(res.seq)];
    if (want !== undefined)
      this.seen.set(res.seq, {
        outcome: res.outcome,
        errno: res.errno ?? null,
        codes: res.decisions.map((d) => d.code),
        ref,
      });
    if (this.needsRecords) {
      for (const d of res.decisions) {
        if (RANGE_CODES.has(d.code)) this.rangesChanged = ref;
        if (MIGRATE_CODES.has(d.code)) this.migrated = ref;
      }
    }
  }

  /** The failed expectations (empty: all hold). */
  finish(): ExpectFailure[] {
    const exp = this.exp;
    const fin = this.sim.snapshot();
    const out: ExpectFailure[] = [];
    const watch = (key: string) => this.watches.find((w) => w.key === key)?.changed ?? null;
    for (const [gt, counters] of Object.entries(exp.stats ?? {})) {
      const g = fin.stats.find((x) => `gt${x.gt}` === gt)!;
      for (const [c, want] of Object.entries(counters)) {
        const got = g.counters.find(([n]) => n === c)![1];
        if (got !== want)
          out.push({
            path: ['stats', gt, c],
            expected: String(want),
            actual: String(got),
            actualJson: got,
            lastChange: watch(`stats.${gt}.${c}`),
          });
      }
    }
    for (const [m, want] of Object.entries(exp.metrics ?? {})) {
      const got = (fin.metrics as unknown as Record<string, number>)[m];
      if (got !== want)
        out.push({
          path: ['metrics', m],
          expected: String(want),
          actual: String(got),
          actualJson: got,
          lastChange: watch(`metrics.${m}`),
        });
    }
    if (exp.vram_used !== undefined && exp.vram_used !== fin.vram.used) {
      out.push({
        path: ['vram_used'],
        expected: humanBytes(exp.vram_used),
        actual: humanBytes(fin.vram.used),
        actualJson: fin.vram.used === 0n ? 0 : humanBytes(fin.vram.used),
        lastChange: watch('vram_used'),
      });
    }
    if (exp.ranges !== undefined) {
      const want = exp.ranges.map((r) => ({
        start: Number(r.start >> 12n),
        end: Number(r.end >> 12n),
        location: r.location,
        valid: r.valid,
      }));
      const got = fin.ranges;
      const same =
        want.length === got.length &&
        want.every(
          (w, i) =>
            w.start === got[i].start &&
            w.end === got[i].end &&
            (w.location === undefined || w.location === got[i].location) &&
            (w.valid === undefined || w.valid === got[i].valid),
        );
      if (!same) {
        out.push({
          path: ['ranges'],
          expected: want.length ? want.map(rangeText).join('; ') : '(none)',
          actual: got.length ? got.map(rangeText).join('; ') : '(none)',
          actualJson: got.map((r) => ({
            start: hexPage(r.start),
            end: hexPage(r.end),
            location: r.location,
            valid: r.valid,
          })),
          lastChange: this.rangesChanged,
        });
      }
    }
    if (exp.thrashing !== undefined) {
      const n = fin.thrashing.length;
      const ok = typeof exp.thrashing === 'boolean' ? exp.thrashing === n > 0 : exp.thrashing === n;
      if (!ok) {
        const actualJson = typeof exp.thrashing === 'boolean' ? n > 0 : n;
        out.push({
          path: ['thrashing'],
          expected: String(exp.thrashing),
          actual: `${String(actualJson)}${typeof exp.thrashing === 'boolean' ? ` (${n} thrashing ranges)` : ''}`,
          actualJson,
          lastChange: this.migrated,
        });
      }
    }
    for (const [seq, want] of Object.entries(exp.events ?? {})) {
      const got = this.seen.get(Number(seq));
      if (got === undefined) {
        out.push({
          path: ['events', seq],
          expected: `event #${seq}`,
          actual: `the trace has ${this.count} events (#0 to #${this.count - 1})`,
          actualJson: undefined,
          lastChange: null,
        });
        continue;
      }
      if (want.outcome !== undefined && want.outcome !== got.outcome) {
        out.push({
          path: ['events', seq, 'outcome'],
          expected: want.outcome,
          actual: got.outcome,
          actualJson: got.outcome,
          lastChange: got.ref,
        });
      }
      if (want.errno !== undefined && want.errno !== got.errno) {
        out.push({
          path: ['events', seq, 'errno'],
          expected: String(want.errno),
          actual: String(got.errno),
          actualJson: got.errno,
          lastChange: got.ref,
        });
      }
      if (want.codes !== undefined && !isSubsequence(want.codes, got.codes)) {
        out.push({
          path: ['events', seq, 'codes'],
          expected: want.codes.join(' '),
          actual: got.codes.join(' '),
          actualJson: got.codes,
          lastChange: got.ref,
        });
      }
    }
    return out;
  }
}

/** Whether `want` occurs in `got` in order (not necessarily adjacent). */
function isSubsequence(want: string[], got: string[]): boolean {
  let i = 0;
  for (const g of got) if (i < want.length && g === want[i]) i++;
  return i === want.length;
}
