/**
 * DOC: `svmsim diff` — what changed between two replay results, and why
 *
 * Compares two results of `svmsim replay --format json|jsonl` as streams: event records are
 * matched by position and compared as bytes first; only records that differ are parsed, and
 * then compared field by field and decision by decision (decision lists are aligned on their
 * codes, so an added or removed step shows as such and a changed argument as `code.field`).
 * Memory holds the first divergence, one example per group of identical changes (at most
 * MAX_GROUPS groups) and the first `maxShown` ranges of each kind: it does not grow with the
 * number of events.
 *
 * The comparison is data (`DiffResult`); `renderDiff` words it as text, markdown or GitHub
 * Actions annotations.
 */

import { humanBytes } from './format.js';

/** An event record (docs/result-format.md), as parsed. */
export interface EventRec {
  seq: number;
  line?: number | null;
  op: string;
  outcome: string;
  errno?: string;
  decisions: ({ code: string } & Record<string, unknown>)[];
  [k: string]: unknown;
}

interface RangeRec {
  start: string;
  end: string;
  location: string;
  valid: boolean;
  [k: string]: unknown;
}

interface TailRec {
  vram: { capacity: number; used: number; [k: string]: unknown };
  stats: Record<string, Record<string, number>>;
  metrics: Record<string, number>;
  thrashing: unknown[];
}

/** One side of the comparison, read as a stream (see src/trace/result.ts). */
export interface DiffSource {
  file: string;
  header: { kernel: string; trace?: { name: string | null; sha256: string | null }; platform: Record<string, unknown> };
  hasEvents: boolean;
  nextEvent(): Uint8Array | undefined;
  parseEvent(bytes: Uint8Array): EventRec;
  nextRange(): RangeRec | undefined;
  tail(): TailRec;
  /** Skip the next run of byte-identical event records of both sides; returns how many (fast path). */
  skipIdentical?(other: DiffSource): number;
}

export interface DiffOptions {
  /** Skip cost-model values: counters ending in `_us`, metrics ending in `Us`. */
  ignoreUs?: boolean;
  /** Field names to skip anywhere (`bo`), or one decision's field (`bo_evict.bo`), or `trace`. */
  ignore?: string[];
  /** Groups, ranges and counters listed in full (default 10). */
  maxShown?: number;
}

/** One difference inside an event. */
export type Change =
  | { kind: 'field'; path: string; old: unknown; new: unknown }
  | { kind: 'removed' | 'added'; index: number; decision: Record<string, unknown> };

interface Divergence {
  seq: number;
  line: number | null;
  op: string;
  addr: string | null;
  a: EventRec | null;
  b: EventRec | null;
  changes: Change[];
}

interface Group {
  summary: string;
  count: number;
  firstSeq: number;
  firstLine: number | null;
}

export interface Delta {
  name: string;
  old: number | null;
  new: number | null;
  delta: number | null;
}

export interface RangeChange {
  start: string;
  end: string;
  location: string;
  fields?: { field: string; old: unknown; new: unknown }[];
}

export interface DiffResult {
  equal: boolean;
  a: { file: string; kernel: string; trace: string | null; sha256: string | null };
  b: { file: string; kernel: string; trace: string | null; sha256: string | null };
  /** Said up front: different kernels, platforms, traces. */
  notes: string[];
  platform: { knob: string; old: unknown; new: unknown }[];
  events: {
    compared: boolean;
    count: number;
    differing: number;
    onlyInA: number;
    onlyInB: number;
    first: Divergence | null;
    groups: Group[];
    /** Groups not listed (beyond maxShown) and events they hold. */
    moreGroups: number;
  };
  ranges: {
    a: number;
    b: number;
    added: { count: number; shown: RangeChange[] };
    removed: { count: number; shown: RangeChange[] };
    changed: { count: number; shown: RangeChange[] };
  };
  vram: Delta[];
  stats: (Delta & { gt: string })[];
  metrics: Delta[];
  thrashing: { old: number; new: number; changed: boolean };
}

/** Changes named in a group's summary (the rest are counted). */
const MAX_KEY_CHANGES = 12;

/** Distinct change groups kept; further kinds of change are counted under one "other" group. */
const MAX_GROUPS = 10_000;

// ---------------------------------------------------------------------------------------------
// Values

function deepEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  if (Array.isArray(x)) {
    const ya = y as unknown[];
    return x.length === ya.length && x.every((v, i) => deepEqual(v, ya[i]));
  }
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  const keys = new Set([...Object.keys(xo), ...Object.keys(yo)]);
  for (const k of keys) if (!deepEqual(xo[k], yo[k])) return false;
  return true;
}

const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-f]+$/.test(v);
const isRange = (v: unknown): v is { start: string; end: string } =>
  v !== null &&
  typeof v === 'object' &&
  isHex((v as Record<string, unknown>).start) &&
  isHex((v as Record<string, unknown>).end);

function rangeSize(r: { start: string; end: string }): string {
  return humanBytes(BigInt(r.end) - BigInt(r.start));
}

/** A value as a group key shows it: ranges by size, addresses elided, BOs as BO#n. */
function abstract(v: unknown, key = ''): string {
  if (v === undefined || v === null) return '(none)';
  if (isRange(v)) return rangeSize(v);
  if (isHex(v)) return key === 'size' || key === 'bytes' ? humanBytes(BigInt(v)) : 'addr';
  if (key === 'bo' && typeof v === 'number') return `BO#${v}`;
  if (Array.isArray(v)) return v.length <= 3 ? `[${v.map((x) => abstract(x)).join(', ')}]` : `${v.length} items`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.pages === 'number' && typeof o.reason === 'string')
      return `${humanBytes(BigInt(o.pages) << 12n)} ${o.reason}`;
    return Object.entries(o)
      .map(([k, x]) => `${k}=${abstract(x, k)}`)
      .join(' ');
  }
  return String(v);
}

/** A decision as a group key shows it: its code and its enum-like arguments. */
function decisionKey(d: Record<string, unknown>): string {
  const args = Object.entries(d)
    .filter(([k, v]) => k !== 'code' && typeof v === 'string' && !isHex(v))
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${String(d.code)}${args.length ? `(${args.join(', ')})` : ''}`;
}

function changeKey(c: Change): string {
  if (c.kind === 'field') {
    const key = c.path.slice(c.path.lastIndexOf('.') + 1);
    return `${c.path} ${abstract(c.old, key)} → ${abstract(c.new, key)}`;
  }
  return `${c.kind === 'added' ? '+' : '-'} ${decisionKey(c.decision)}`;
}

// ---------------------------------------------------------------------------------------------
// Comparison

class Ignore {
  private readonly names: Set<string>;
  constructor(private readonly o: DiffOptions) {
    this.names = new Set(o.ignore ?? []);
  }
  /** Whether field `key` (of decision `code`, if any) is skipped. */
  field(key: string, code?: string): boolean {
    return this.names.has(key) || (code !== undefined && this.names.has(`${code}.${key}`));
  }
  counter(name: string): boolean {
    return this.names.has(name) || (this.o.ignoreUs === true && (name.endsWith('_us') || /[a-z]Us$/.test(name)));
  }
}

/** Field-by-field differences of two values (objects compared key by key, the rest whole). */
function fieldChanges(path: string, x: unknown, y: unknown, ig: Ignore, code: string | undefined, out: Change[]): void {
  if (deepEqual(x, y)) return;
  const bothObjects =
    x !== null &&
    y !== null &&
    typeof x === 'object' &&
    typeof y === 'object' &&
    !Array.isArray(x) &&
    !Array.isArray(y);
  if (bothObjects && !isRange(x)) {
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    for (const k of new Set([...Object.keys(xo), ...Object.keys(yo)])) {
      if (ig.field(k, code)) continue;
      fieldChanges(`${path}.${k}`, xo[k], yo[k], ig, code, out);
    }
    return;
  }
  out.push({ kind: 'field', path, old: x ?? null, new: y ?? null });
}

/** Longest common subsequence of two code lists: matched index pairs. */
function alignCodes(a: string[], b: string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const L: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (L[i + 1][j] >= L[i][j + 1]) i++;
    else j++;
  }
  return pairs;
}

/** The differences between two event records, argument by argument. */
function compareEvents(x: EventRec, y: EventRec, ig: Ignore): Change[] {
  const out: Change[] = [];
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (k === 'decisions' || k === 'seq' || ig.field(k)) continue;
    fieldChanges(k, x[k], y[k], ig, undefined, out);
  }
  const da = x.decisions;
  const db = y.decisions;
  const pairs = alignCodes(
    da.map((d) => d.code),
    db.map((d) => d.code),
  );
  let i = 0;
  let j = 0;
  const flush = (ui: number, uj: number) => {
    for (; i < ui; i++) if (!ig.field(da[i].code)) out.push({ kind: 'removed', index: i, decision: da[i] });
    for (; j < uj; j++) if (!ig.field(db[j].code)) out.push({ kind: 'added', index: j, decision: db[j] });
  };
  for (const [pi, pj] of pairs) {
    flush(pi, pj);
    const code = da[pi].code;
    if (!ig.field(code)) {
      for (const k of new Set([...Object.keys(da[pi]), ...Object.keys(db[pj])])) {
        if (k === 'code' || ig.field(k, code)) continue;
        fieldChanges(`${code}.${k}`, da[pi][k], db[pj][k], ig, code, out);
      }
    }
    i = pi + 1;
    j = pj + 1;
  }
  flush(da.length, db.length);
  return out;
}

function hexLess(x: string, y: string): number {
  return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
}

function delta(name: string, x: number | undefined, y: number | undefined): Delta {
  return { name, old: x ?? null, new: y ?? null, delta: x !== undefined && y !== undefined ? y - x : null };
}

/** Compare two results read as streams. */
export function diffResults(a: DiffSource, b: DiffSource, o: DiffOptions = {}): DiffResult {
  const ig = new Ignore(o);
  const maxShown = o.maxShown ?? 10;
  const side = (s: DiffSource) => ({
    file: s.file,
    kernel: s.header.kernel,
    trace: s.header.trace?.name ?? null,
    sha256: s.header.trace?.sha256 ?? null,
  });
  const r: DiffResult = {
    equal: true,
    a: side(a),
    b: side(b),
    notes: [],
    platform: [],
    events: {
      compared: a.hasEvents && b.hasEvents,
      count: 0,
      differing: 0,
      onlyInA: 0,
      onlyInB: 0,
      first: null,
      groups: [],
      moreGroups: 0,
    },
    ranges: {
      a: 0,
      b: 0,
      added: { count: 0, shown: [] },
      removed: { count: 0, shown: [] },
      changed: { count: 0, shown: [] },
    },
    vram: [],
    stats: [],
    metrics: [],
    thrashing: { old: 0, new: 0, changed: false },
  };
  // ---- up front: kernels, platforms, traces
  if (r.a.kernel !== r.b.kernel && !ig.field('kernel'))
    r.notes.push(`different kernels: ${r.a.kernel} → ${r.b.kernel}`);
  const pa = a.header.platform;
  const pb = b.header.platform;
  for (const k of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
    if (k === 'kernel' || ig.field(k) || deepEqual(pa[k], pb[k])) continue;
    r.platform.push({ knob: k, old: pa[k] ?? null, new: pb[k] ?? null });
  }
  const knob = (k: string, v: unknown) =>
    typeof v === 'number' && (k === 'vram' || k === 'notifier_size') ? humanBytes(BigInt(v)) : String(v);
  if (r.platform.length > 0)
    r.notes.push(
      `different platforms: ${r.platform.map((p) => `${p.knob} ${knob(p.knob, p.old)} → ${knob(p.knob, p.new)}`).join(', ')}`,
    );
  if (r.a.sha256 !== null && r.b.sha256 !== null && r.a.sha256 !== r.b.sha256 && !ig.field('trace')) {
    r.notes.push(
      `different traces: ${r.a.trace ?? '?'} (sha256 ${r.a.sha256.slice(0, 12)}) → ${r.b.trace ?? '?'} (sha256 ${r.b.sha256.slice(0, 12)})`,
    );
  }

  // ---- events
  const groups = new Map<string, Group>();
  const ev = r.events;
  for (;;) {
    if (a.skipIdentical !== undefined) ev.count += a.skipIdentical(b);
    const xa = a.nextEvent();
    const xb = b.nextEvent();
    if (xa === undefined && xb === undefined) break;
    ev.count++;
    if (xa !== undefined && xb !== undefined && xa.length === xb.length && Buffer.compare(xa, xb) === 0) continue;
    const x = xa === undefined ? null : a.parseEvent(xa);
    const y = xb === undefined ? null : b.parseEvent(xb);
    let changes: Change[];
    if (x === null || y === null) {
      if (x === null) ev.onlyInB++;
      else ev.onlyInA++;
      changes = [
        {
          kind: 'field',
          path: 'event',
          old: x === null ? null : `#${x.seq} ${x.op}`,
          new: y === null ? null : `#${y.seq} ${y.op}`,
        },
      ];
    } else changes = compareEvents(x, y, ig);
    if (changes.length === 0) continue;
    ev.differing++;
    const e = (x ?? y)!;
    if (ev.first === null) {
      ev.first = {
        seq: e.seq,
        line: typeof e.line === 'number' ? e.line : null,
        op: e.op,
        addr: typeof e.addr === 'string' ? e.addr : null,
        a: x,
        b: y,
        changes,
      };
    }
    const keys = changes.map(changeKey);
    let key =
      keys.length > MAX_KEY_CHANGES + 2
        ? [...keys.slice(0, MAX_KEY_CHANGES), `(${keys.length - MAX_KEY_CHANGES} more)`].join('; ')
        : keys.join('; ');
    if (key.length > 600) key = key.slice(0, 597) + '...';
    let g = groups.get(key);
    if (g === undefined) {
      if (groups.size >= MAX_GROUPS) key = '(other changes: more than 10,000 kinds)';
      g = groups.get(key);
      if (g === undefined) {
        g = { summary: key, count: 0, firstSeq: e.seq, firstLine: typeof e.line === 'number' ? e.line : null };
        groups.set(key, g);
      }
    }
    g.count++;
  }
  const sorted = [...groups.values()].sort((p, q) => q.count - p.count || p.firstSeq - q.firstSeq);
  ev.groups = sorted.slice(0, maxShown);
  ev.moreGroups = sorted.length - ev.groups.length;

  // ---- ranges, merged by start address
  const rg = r.ranges;
  let ra = a.nextRange();
  let rb = b.nextRange();
  const show = (x: RangeRec, fields?: RangeChange['fields']): RangeChange => ({
    start: x.start,
    end: x.end,
    location: x.location,
    ...(fields ? { fields } : {}),
  });
  while (ra !== undefined || rb !== undefined) {
    const c = ra === undefined ? 1 : rb === undefined ? -1 : hexLess(ra.start, rb.start);
    if (c < 0) {
      rg.a++;
      if (rg.removed.count++ < maxShown) rg.removed.shown.push(show(ra!));
      ra = a.nextRange();
    } else if (c > 0) {
      rg.b++;
      if (rg.added.count++ < maxShown) rg.added.shown.push(show(rb!));
      rb = b.nextRange();
    } else {
      rg.a++;
      rg.b++;
      const fields: { field: string; old: unknown; new: unknown }[] = [];
      for (const k of new Set([...Object.keys(ra!), ...Object.keys(rb!)])) {
        if (k === 'size' || ig.field(k) || deepEqual(ra![k], rb![k])) continue;
        fields.push({ field: k, old: ra![k] ?? null, new: rb![k] ?? null });
      }
      if (fields.length > 0 && rg.changed.count++ < maxShown) rg.changed.shown.push(show(ra!, fields));
      ra = a.nextRange();
      rb = b.nextRange();
    }
  }

  // ---- VRAM, counters, metrics, thrashing
  const ta = a.tail();
  const tb = b.tail();
  for (const k of new Set([...Object.keys(ta.vram), ...Object.keys(tb.vram)])) {
    const x = ta.vram[k];
    const y = tb.vram[k];
    if (ig.field(k) || deepEqual(x, y)) continue;
    r.vram.push(delta(k, typeof x === 'number' ? x : undefined, typeof y === 'number' ? y : undefined));
  }
  for (const gt of new Set([...Object.keys(ta.stats), ...Object.keys(tb.stats)])) {
    const sa = ta.stats[gt] ?? {};
    const sb = tb.stats[gt] ?? {};
    for (const c of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      if (ig.counter(c) || sa[c] === sb[c]) continue;
      r.stats.push({ gt, ...delta(c, sa[c], sb[c]) });
    }
  }
  for (const m of new Set([...Object.keys(ta.metrics), ...Object.keys(tb.metrics)])) {
    if (ig.counter(m) || ta.metrics[m] === tb.metrics[m]) continue;
    r.metrics.push(delta(m, ta.metrics[m], tb.metrics[m]));
  }
  r.thrashing = {
    old: ta.thrashing.length,
    new: tb.thrashing.length,
    changed: !ig.field('thrashing') && !deepEqual(ta.thrashing, tb.thrashing),
  };

  r.equal =
    r.notes.length === 0 &&
    ev.differing === 0 &&
    rg.added.count + rg.removed.count + rg.changed.count === 0 &&
    r.vram.length + r.stats.length + r.metrics.length === 0 &&
    !r.thrashing.changed;
  return r;
}
