/**
 * DOC: JSON text without intermediate objects (the `--format json` / `jsonl` hot path)
 *
 * `--format json` prints every event as `JSON.stringify(eventJson(...), null, 2)` indented under
 * "events"; `--format jsonl` as `JSON.stringify(eventJson(...))` on one line. Building those
 * objects (and the decision objects with their 0x page addresses) and then stringifying them cost
 * most of a JSON replay. These writers produce the same bytes directly from the event and its
 * decisions: the same key order, the same conversion as decisionJson() (page-valued keys to 0x
 * byte addresses, bigints to numbers, undefined fields left out), JSON.stringify's layouts.
 *
 * Decisions go through one serializer per decision code, compiled once (per layout) from the
 * DECISIONS registry (src/core/decisions.ts): a function that reads the code's fields by name in
 * registry order and appends each one's text, with a conversion chosen by the field's kind and
 * key (guarded by a type check; anything unexpected goes through the generic writer). A code the
 * registry does not know uses the generic writer. Property tests check the writers against the
 * plain path on random traces for every kernel profile (test/report/output-paths.test.ts,
 * test/report/json-fast.test.ts).
 */

import { DECISIONS, type Decision, type EventResult, type FieldSpec } from '../core/decisions.js';
import type { FinalState } from '../core/simulator.js';
import { hexAddr, hexPage } from './format.js';
import type { EventEcho } from './reporter.js';

/** Keys whose numbers are page indices (printed as 0x byte addresses); as decisionJson(). */
const PAGE_KEYS = new Set(['start', 'end', 'page', 'next', 'at']);

/** Indentation strings by depth (two spaces a level). */
const IND: string[] = Array.from({ length: 16 }, (_, i) => '\n' + ' '.repeat(2 * i));
const ind = (depth: number) => IND[depth] ?? '\n' + ' '.repeat(2 * depth);

/** JSON strings of the strings seen so far (enum values, ops, field values: a small set). */
const QUOTED = new Map<string, string>();
function str(s: string): string {
  let q = QUOTED.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (QUOTED.size < 4096) QUOTED.set(s, q);
  }
  return q;
}

/**
 * A page index as a quoted 0x byte address, from a small direct-mapped cache: the same range
 * boundaries come back in most decisions of an event (range, invalidate, BO, get_pages, bind).
 */
const QP_KEYS = new Float64Array(1024).fill(-1);
const QP_VALS: string[] = new Array<string>(1024).fill('');
function qpage(p: number): string {
  const i = p & 1023;
  if (QP_KEYS[i] === p) return QP_VALS[i];
  const q = `"${hexPage(p)}"`;
  QP_KEYS[i] = p;
  QP_VALS[i] = q;
  return q;
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * A decision value (decisionJson's conversion) as JSON at `depth` (pretty when `pretty`, else
 * compact); undefined: left out. The generic writer, for fields of no fixed kind.
 */
function value(key: string, v: unknown, depth: number, pretty = true): string | undefined {
  switch (typeof v) {
    case 'number':
      return PAGE_KEYS.has(key) ? qpage(v) : num(v);
    case 'string':
      return str(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return num(Number(v));
    case 'object': {
      if (v === null) return 'null';
      const inner = pretty ? ind(depth + 1) : '';
      const close = pretty ? ind(depth) : '';
      const colon = pretty ? '": ' : '":';
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        let s = '[';
        for (let i = 0; i < v.length; i++)
          s += (i === 0 ? inner : ',' + inner) + (value('', v[i], depth + 1, pretty) ?? 'null');
        return s + close + ']';
      }
      let s = '';
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        const t = value(k, x, depth + 1, pretty);
        if (t === undefined) continue;
        s += (s === '' ? '{' : ',') + inner + str(k).slice(0, -1) + colon + t;
      }
      return s === '' ? '{}' : s + close + '}';
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Compiled decision writers

/** Helpers the compiled writers call (passed in, so the generated code sees no module scope). */
const H = {
  qpage,
  num,
  str,
  value,
  /** A {start, end} page span; anything else through the generic writer. */
  range(v: unknown, depth: number, pretty: boolean): string | undefined {
    const r = v as { start: unknown; end: unknown };
    if (v !== null && typeof v === 'object' && typeof r.start === 'number' && typeof r.end === 'number' && isSpan(v)) {
      return pretty
        ? `{${ind(depth + 1)}"start": ${qpage(r.start)},${ind(depth + 1)}"end": ${qpage(r.end)}${ind(depth)}}`
        : `{"start":${qpage(r.start)},"end":${qpage(r.end)}}`;
    }
    return value('', v, depth, pretty);
  },
  ranges(v: unknown, depth: number, pretty: boolean): string | undefined {
    if (!Array.isArray(v)) return value('', v, depth, pretty);
    if (v.length === 0) return '[]';
    const inner = pretty ? ind(depth + 1) : '';
    let s = '[';
    for (let i = 0; i < v.length; i++)
      s += (i === 0 ? inner : ',' + inner) + (H.range(v[i], depth + 1, pretty) ?? 'null');
    return s + (pretty ? ind(depth) : '') + ']';
  },
};

/** Exactly the keys start and end, in that order (what H.range writes). */
function isSpan(o: object): boolean {
  let i = 0;
  for (const k in o) {
    if ((i === 0 && k !== 'start') || (i === 1 && k !== 'end') || i > 1) return false;
    i++;
  }
  return i === 2;
}

type DecisionWriter = (d: Decision) => string;

/** JavaScript for one field's value `v` (known not undefined) as JSON text, by kind and key. */
function fieldCode(key: string, spec: FieldSpec, depth: number, pretty: boolean): string {
  const generic = `H.value(${JSON.stringify(key)}, v, ${depth}, ${pretty})`;
  switch (spec.kind) {
    case 'range':
      return `H.range(v, ${depth}, ${pretty})`;
    case 'range[]':
      return `H.ranges(v, ${depth}, ${pretty})`;
    case 'bool':
      return `(v === true ? 'true' : v === false ? 'false' : ${generic})`;
    case 'enum':
    case 'errno':
    case 'string':
      return `(typeof v === 'string' ? H.str(v) : ${generic})`;
    case 'bytes':
      return `(typeof v === 'bigint' ? H.num(Number(v)) : ${generic})`;
    case 'object[]':
      return generic;
    default:
      // numbers: page indices under a page key, else as they are
      return PAGE_KEYS.has(key)
        ? `(typeof v === 'number' ? H.qpage(v) : ${generic})`
        : `(typeof v === 'number' ? H.num(v) : ${generic})`;
  }
}

/**
 * One writer per registry code: `{"code": ..., fields in registry order}` at `depth` (the
 * object's own depth; pretty JSON with two-space steps when `pretty`, else compact).
 *
 * The compiled writer prints the registry's key order; JSON.stringify prints the object's own.
 * They agree for the model's records (tests); a record whose own keys differ (another order, an
 * extra key) goes to the generic writer, so the bytes never change. The writer checks that once
 * per shape (the set of fields present, a bit each) with one Object.keys, then trusts it.
 */
function compileWriters(depth: number, pretty: boolean): Record<string, DecisionWriter> {
  const out: Record<string, DecisionWriter> = Object.create(null);
  const inner = pretty ? JSON.stringify(ind(depth + 1)).slice(1, -1) : '';
  const close = pretty ? JSON.stringify(ind(depth)).slice(1, -1) : '';
  const colon = pretty ? '": ' : '":';
  for (const [code, spec] of Object.entries(DECISIONS)) {
    const fields = Object.entries(spec.fields as Record<string, FieldSpec>);
    let body = `let v; let mask = 0; let s = '{${inner}"code${colon}' + ${JSON.stringify(JSON.stringify(code))};\n`;
    fields.forEach(([key, f], bit) => {
      const k = `,${inner}"${key}${colon}`;
      body += `v = d.${key};\nif (v !== undefined) { mask |= ${2 ** Math.min(bit, 30)}; const t = ${fieldCode(key, f, depth + 1, pretty)}; if (t !== undefined) s += '${k}' + t; }\n`;
    });
    body += 'const ok = checked[mask];\n';
    body += `if (ok === true || (ok === undefined && check(d, mask))) return s + '${close}}';\n`;
    body += `return H.value('', d, ${depth}, ${pretty});`;
    const checked: (boolean | undefined)[] = [];
    const names = fields.map(([k]) => k);
    const check = (d: Decision, mask: number): boolean => {
      const own = Object.keys(d).filter((k) => (d as unknown as Record<string, unknown>)[k] !== undefined);
      const want = ['code', ...names.filter((k) => (d as unknown as Record<string, unknown>)[k] !== undefined)];
      const ok = fields.length <= 31 && own.length === want.length && own.every((k, i) => k === want[i]);
      checked[mask] = ok;
      return ok;
    };
    out[code] = new Function('H', 'checked', 'check', `return function write_${code}(d) {\n${body}\n};`)(
      H,
      checked,
      check,
    ) as DecisionWriter;
  }
  return out;
}

/** Decision writers of one layout at `depth`; codes the registry lacks use the generic writer. */
class Writers {
  private readonly compiled: Record<string, DecisionWriter>;
  constructor(
    private readonly depth: number,
    private readonly pretty: boolean,
  ) {
    this.compiled = compileWriters(depth, pretty);
  }

  text(d: Decision): string {
    const w = this.compiled[d.code];
    return w !== undefined ? w(d) : (value('', d, this.depth, this.pretty) ?? 'null');
  }
}

let prettyWriters: Writers | undefined;
let lineWriters: Writers | undefined;

/** The decisions array: pretty at depth 3 (under an event of `events`), or compact. */
function decisionsText(ds: Decision[], pretty: boolean): string {
  if (ds.length === 0) return '[]';
  if (pretty) {
    const w = (prettyWriters ??= new Writers(4, true));
    let s = '[';
    for (let i = 0; i < ds.length; i++) s += (i === 0 ? IND[4] : ',' + IND[4]) + w.text(ds[i]);
    return s + IND[3] + ']';
  }
  const w = (lineWriters ??= new Writers(0, false));
  let s = '[';
  for (let i = 0; i < ds.length; i++) s += (i === 0 ? '' : ',') + w.text(ds[i]);
  return s + ']';
}

/** JSON.stringify(eventJson(echo, res), null, 2) with every line after the first indented by 4. */
export function eventJsonText(echo: EventEcho, res: EventResult): string {
  const i = IND[3];
  let s = `{${i}"seq": ${res.seq},${i}"line": ${echo.line},${i}"t": ${num(echo.t)}`;
  if (echo.pid !== undefined) s += `,${i}"pid": ${num(echo.pid)}`;
  s += `,${i}"op": ${str(res.op)},${i}"addr": "${hexAddr(echo.addr)}"`;
  if (echo.size !== 0n) s += `,${i}"size": "${hexAddr(echo.size)}"`;
  for (const [k, v] of echo.fields) s += `,${i}${str(k)}: ${str(v)}`;
  s += `,${i}"outcome": ${str(res.outcome)}`;
  if (res.errno !== undefined) s += `,${i}"errno": ${str(res.errno)}`;
  if (res.t !== echo.t) s += `,${i}"t_end": ${num(res.t)}`;
  s += `,${i}"decisions": ${decisionsText(res.decisions, true)}${IND[2]}}`;
  return s;
}

/** JSON.stringify(eventJson(echo, res)): one JSONL event line, without its newline. */
export function eventJsonLine(echo: EventEcho, res: EventResult): string {
  let s = `{"seq":${res.seq},"line":${echo.line},"t":${num(echo.t)}`;
  if (echo.pid !== undefined) s += `,"pid":${num(echo.pid)}`;
  s += `,"op":${str(res.op)},"addr":"${hexAddr(echo.addr)}"`;
  if (echo.size !== 0n) s += `,"size":"${hexAddr(echo.size)}"`;
  for (const [k, v] of echo.fields) s += `,${str(k)}:${str(v)}`;
  s += `,"outcome":${str(res.outcome)}`;
  if (res.errno !== undefined) s += `,"errno":${str(res.errno)}`;
  if (res.t !== echo.t) s += `,"t_end":${num(res.t)}`;
  return s + `,"decisions":${decisionsText(res.decisions, false)}}`;
}

/** The "ranges" array of finalJson() as pretty JSON at depth 1, written in pieces. */
export function rangesJsonText(ranges: FinalState['ranges'], write: (s: string) => void): void {
  if (ranges.length === 0) {
    write('[]');
    return;
  }
  const i = IND[3];
  let s = '[';
  for (let n = 0; n < ranges.length; n++) {
    const r = ranges[n];
    s +=
      `${n === 0 ? '' : ','}${IND[2]}{${r.pid !== undefined ? `${i}"pid": ${num(r.pid)},` : ''}${i}"start": "${hexPage(r.start)}",${i}"end": "${hexPage(r.end)}",` +
      `${i}"size": "${hexAddr(BigInt(r.end - r.start) << 12n)}",${i}"location": ${str(r.location)},${i}"valid": ${r.valid}${IND[2]}}`;
    if (s.length >= 1 << 16) {
      write(s);
      s = '';
    }
  }
  write(s + IND[1] + ']');
}

/** One JSONL `{"range": ...}` line per final range (JSON.stringify of finalJson's range records), written in pieces. */
export function rangeLinesText(ranges: FinalState['ranges'], write: (s: string) => void): void {
  let s = '';
  for (const r of ranges) {
    s +=
      `{"range":{${r.pid !== undefined ? `"pid":${num(r.pid)},` : ''}"start":"${hexPage(r.start)}","end":"${hexPage(r.end)}",` +
      `"size":"${hexAddr(BigInt(r.end - r.start) << 12n)}","location":${str(r.location)},"valid":${r.valid}}}\n`;
    if (s.length >= 1 << 16) {
      write(s);
      s = '';
    }
  }
  if (s !== '') write(s);
}
