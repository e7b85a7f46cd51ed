/**
 * DOC: Fast path for well-formed trace lines
 *
 * Long recordings are millions of plain lines such as `1200,gpu_read,0x7f0000201000,`. Running
 * every one through zod would cost microseconds per event, so this module recognises the common,
 * unambiguous shapes directly — integer times, hex addresses, integer or hex sizes, known enum
 * values — and produces exactly the event the schema would. Anything else (a unit in `t`, a size
 * suffix, a quoted cell, an unknown field, a value out of range, time going backwards) returns
 * `undefined`, and the caller falls back to the schema path in parse.ts, which gives the identical
 * event or the error message. The fast path never reports errors itself, so messages come from
 * one place; tests check both paths agree on every example trace and on random lines.
 *
 * Addresses are split into the page (all hex digits but the last three) and the offset (the
 * last three), so a 64-bit address never passes through a float.
 */

import type { CoreEvent, Op } from '../core/events.js';
import { ENUMS, hexDigit, MAX_ACCESS_PAGES, OP_FIELDS, OP_SET as OPS, PID_MAX } from './vocab.js';
import type { EventCursor, ParsedEvent } from './parse.js';

const HEX_ADDR = /^0x[0-9a-fA-F]{1,16}$/;
const HEX_SMALL = /^0x[0-9a-fA-F]{1,13}$/;
const DEC_SMALL = /^[0-9]{1,15}$/;
const PID_DEC = /^[0-9]{1,10}$/;

/** An event whose display values (bigint) are computed only when a report asks for them. */
class FastEvent implements ParsedEvent {
  constructor(
    readonly core: CoreEvent,
    readonly line: number,
    private readonly addrHex: string,
    private readonly sizeBytes: number,
  ) {}

  get addr(): bigint {
    return BigInt(this.addrHex);
  }

  get size(): bigint {
    return BigInt(this.sizeBytes);
  }
}

/** A size cell as a byte count below 2^53, or -1 when the fast path cannot read it. */
function fastSize(s: string): number {
  if (DEC_SMALL.test(s)) return Number(s);
  if (HEX_SMALL.test(s)) return Number.parseInt(s.slice(2), 16);
  return -1;
}

/**
 * Build an event from string fields (a CSV row or a JSONL object with string/number values).
 * Returns undefined whenever the schema path must decide.
 */
export function fastEvent(get: (field: string) => string | number | undefined, present: Iterable<string>, line: number, cur: EventCursor): ParsedEvent | undefined {
  const op = get('op');
  if (typeof op !== 'string' || !OPS.has(op)) return undefined;
  const spec = OP_FIELDS[op as Op];
  for (const f of present) {
    if (f === 't' || f === 'op' || f === 'addr' || f === 'pid') continue;
    if (f === 'size' ? spec.size === 'none' : !(spec.extra as readonly string[]).includes(f)) return undefined;
  }

  let t = cur.t;
  const tv = get('t');
  if (tv !== undefined) {
    if (typeof tv === 'number') {
      if (!Number.isSafeInteger(tv) || tv < 0) return undefined;
      t = tv;
    } else if (DEC_SMALL.test(tv)) t = Number(tv);
    else return undefined;
    if (t < cur.t) return undefined;
  }

  let pid: number | undefined;
  const pv = get('pid');
  if (pv !== undefined) {
    pid = typeof pv === 'number' ? pv : PID_DEC.test(pv) ? Number(pv) : -1;
    if (!Number.isInteger(pid) || pid < 1 || pid > PID_MAX) return undefined;
  }

  const a = get('addr');
  if (typeof a !== 'string' || !HEX_ADDR.test(a)) return undefined;
  const digits = a.slice(2);
  const page = digits.length > 3 ? Number.parseInt(digits.slice(0, -3), 16) : 0;
  const offset = Number.parseInt(digits.slice(-3), 16);

  let size = spec.size === 'none' ? 0 : 1;
  const sv = get('size');
  if (sv !== undefined) {
    size = typeof sv === 'number' ? (Number.isSafeInteger(sv) && sv >= 0 ? sv : -1) : fastSize(sv);
    if (size <= 0) return undefined; // zero: the schema path reports it
  } else if (spec.size === 'required') return undefined;

  const npages = size === 0 ? 0 : Math.floor((offset + size + 4095) / 4096);
  if (page + npages > 2 ** 52 || npages > MAX_ACCESS_PAGES) return undefined;
  const base = { t, page, offset, npages, sizeAligned: size % 4096 === 0 };

  const e = (f: string): string | undefined => {
    const v = get(f);
    return typeof v === 'string' && ENUMS[f as keyof typeof ENUMS].has(v) ? v : undefined;
  };
  const has = (f: string) => get(f) !== undefined;
  let core: CoreEvent;
  switch (op as Op) {
    case 'mmap': {
      const prot = has('prot') ? e('prot') : 'rw';
      const kind = has('kind') ? e('kind') : 'anon';
      if (prot === undefined || kind === undefined) return undefined;
      core = { op: 'mmap', ...base, prot: prot as 'rw', kind: kind as 'anon' };
      break;
    }
    case 'mprotect': {
      const prot = e('prot');
      if (prot === undefined) return undefined;
      core = { op: 'mprotect', ...base, prot: prot as 'rw' };
      break;
    }
    case 'madvise': {
      const advice = has('advice') ? e('advice') : 'dontneed';
      if (advice === undefined) return undefined;
      core = { op: 'madvise', ...base, advice: 'dontneed' };
      break;
    }
    case 'gpu_fault': {
      const access = e('access');
      if (access === undefined) return undefined;
      core = { op: 'gpu_fault', ...base, npages: 1, access: access as 'read' };
      break;
    }
    case 'xe_prefetch': {
      const region = has('region') ? e('region') : 'vram';
      if (region === undefined) return undefined;
      core = { op: 'xe_prefetch', ...base, region: region as 'vram' };
      break;
    }
    case 'xe_madvise': {
      const p = has('preferred');
      const at = has('atomic');
      if (p === at) return undefined;
      const v = p ? e('preferred') : e('atomic');
      if (v === undefined) return undefined;
      core = p ? { op: 'xe_madvise', ...base, preferred: v as 'device' } : { op: 'xe_madvise', ...base, atomic: v as 'cpu' };
      break;
    }
    default:
      core = { op: op as 'cpu_read', ...base };
  }
  if (pid !== undefined) core.pid = pid;
  cur.t = t;
  return new FastEvent(core, line, a, spec.size === 'none' ? 0 : sv === undefined ? 0 : size);
}

// ---------------------------------------------------------------------------------------------
// CSV rows: the hot path of long recordings, specialised to avoid closures and regexes.

const CSV_FIELDS = ['t', 'pid', 'op', 'addr', 'size', 'prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'] as const;

/** Column positions of a CSV header; -1 for absent columns. `other` is set when a column the fast path does not read (comment) exists. */
export interface CsvColumns {
  ix: Record<(typeof CSV_FIELDS)[number], number>;
  n: number;
  other: boolean;
}

export function csvColumns(cols: string[]): CsvColumns {
  const ix = Object.fromEntries(CSV_FIELDS.map((f) => [f, cols.indexOf(f)])) as CsvColumns['ix'];
  return { ix, n: cols.length, other: cols.some((c) => !(CSV_FIELDS as readonly string[]).includes(c)) };
}

/** A non-negative decimal integer of at most 15 digits, or -1. */
function decimal(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Hex "0x..." of at most `max` digits as a number, or -1. */
function hexNumber(s: string, max: number): number {
  const n = s.length;
  if (n < 3 || n - 2 > max || s.charCodeAt(0) !== 48 || (s.charCodeAt(1) | 32) !== 120) return -1;
  let v = 0;
  for (let i = 2; i < n; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * One CSV data row (already split on commas, no quotes) to an event, or undefined for the
 * schema path. Same contract as fastEvent().
 */
export function fastCsvEvent(cells: string[], c: CsvColumns, line: number, cur: EventCursor): ParsedEvent | undefined {
  if (c.other || cells.length !== c.n) return undefined;
  const ix = c.ix;
  const op = cells[ix.op];
  if (op === undefined || !OPS.has(op)) return undefined;
  const spec = OP_FIELDS[op as Op];
  const cell = (i: number) => (i < 0 ? '' : cells[i]);

  // Fields the op does not take must be empty.
  const sizeCell = cell(ix.size);
  if (sizeCell !== '' && spec.size === 'none') return undefined;
  for (const f of ['prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'] as const) {
    if (ix[f] >= 0 && cells[ix[f]] !== '' && !spec.extra.includes(f)) return undefined;
  }

  let t = cur.t;
  const tc = cell(ix.t);
  if (tc !== '') {
    t = decimal(tc);
    if (t < 0 || t < cur.t) return undefined;
  }
  const pc = cell(ix.pid);
  let pid = -1;
  if (pc !== '') {
    pid = pc.length <= 10 ? decimal(pc) : -1;
    if (pid < 1 || pid > PID_MAX) return undefined;
  }

  // Address: page = all hex digits but the last three, offset = the last three.
  const a = cell(ix.addr);
  const n = a.length;
  if (n < 3 || n > 18 || a.charCodeAt(0) !== 48 || (a.charCodeAt(1) | 32) !== 120) return undefined;
  let page = 0;
  let offset = 0;
  for (let i = 2; i < n; i++) {
    const d = hexDigit(a.charCodeAt(i));
    if (d < 0) return undefined;
    if (i < n - 3) page = page * 16 + d;
    else offset = offset * 16 + d;
  }

  let size = spec.size === 'none' ? 0 : 1;
  if (sizeCell !== '') {
    size = sizeCell.charCodeAt(0) === 48 && sizeCell.length > 1 ? hexNumber(sizeCell, 13) : decimal(sizeCell);
    if (size <= 0) return undefined; // zero: the schema path reports it
  } else if (spec.size === 'required') return undefined;

  const npages = size === 0 ? 0 : Math.floor((offset + size + 4095) / 4096);
  if (page + npages > 2 ** 52 || npages > MAX_ACCESS_PAGES) return undefined;
  const sizeAligned = size % 4096 === 0;

  let core: CoreEvent;
  switch (op as Op) {
    case 'mmap': {
      const prot = cell(ix.prot) || 'rw';
      const kind = cell(ix.kind) || 'anon';
      if (!ENUMS.prot.has(prot) || !ENUMS.kind.has(kind)) return undefined;
      core = { op: 'mmap', t, page, offset, npages, sizeAligned, prot: prot as 'rw', kind: kind as 'anon' };
      break;
    }
    case 'mprotect': {
      const prot = cell(ix.prot);
      if (!ENUMS.prot.has(prot)) return undefined;
      core = { op: 'mprotect', t, page, offset, npages, sizeAligned, prot: prot as 'rw' };
      break;
    }
    case 'madvise': {
      const advice = cell(ix.advice) || 'dontneed';
      if (advice !== 'dontneed') return undefined;
      core = { op: 'madvise', t, page, offset, npages, sizeAligned, advice: 'dontneed' };
      break;
    }
    case 'gpu_fault': {
      const access = cell(ix.access);
      if (!ENUMS.access.has(access)) return undefined;
      core = { op: 'gpu_fault', t, page, offset, npages: 1, sizeAligned, access: access as 'read' };
      break;
    }
    case 'xe_prefetch': {
      const region = cell(ix.region) || 'vram';
      if (!ENUMS.region.has(region)) return undefined;
      core = { op: 'xe_prefetch', t, page, offset, npages, sizeAligned, region: region as 'vram' };
      break;
    }
    case 'xe_madvise': {
      const p = cell(ix.preferred);
      const at = cell(ix.atomic);
      if ((p === '') === (at === '')) return undefined;
      if (p !== '') {
        if (!ENUMS.preferred.has(p)) return undefined;
        core = { op: 'xe_madvise', t, page, offset, npages, sizeAligned, preferred: p as 'device' };
      } else {
        if (!ENUMS.atomic.has(at)) return undefined;
        core = { op: 'xe_madvise', t, page, offset, npages, sizeAligned, atomic: at as 'cpu' };
      }
      break;
    }
    default:
      core = { op: op as 'cpu_read', t, page, offset, npages, sizeAligned };
  }
  if (pid > 0) core.pid = pid;
  cur.t = t;
  return new FastEvent(core, line, a, sizeCell === '' ? 0 : size);
}
