/**
 * DOC: Trace readers — JSON document, JSONL, CSV
 *
 * Three encodings of one event model (schema.ts), chosen by extension or explicitly:
 *
 * - JSON document `{"svmsim": 1, "platform": {...}, "events": [...]}`: for small hand-written
 *   traces (it is read whole; see MAX_JSON_BYTES).
 * - JSONL: one event object per line; an optional first line `{"svmsim":1,"platform":{...}}`;
 *   blank lines and lines starting with `#` or `//` are skipped.
 * - CSV: a header row of field names (any order), empty cell = absent, `#` comment lines,
 *   `#! platform key=value ...` lines for the platform header, RFC 4180 quoting.
 *
 * Every problem is a TraceInputError with the file, the 1-based line, the field when there is
 * one, and what was expected. Line-level parsers (`parseJsonlLine`, `parseCsvRecord`) are
 * exported for streaming readers.
 */

import type { z } from 'zod';
import type { CoreEvent } from '../core/events.js';
import type { Platform } from '../core/platform.js';
import { PLATFORM_KNOBS } from '../core/platform.js';
import type { Expect, TraceEvent } from './schema.js';
import { schemas } from './schemas.js';
import {
  ALL_FIELDS,
  closest,
  defaultSize,
  ENUM_FIELDS,
  MAX_ACCESS_BYTES,
  OP_NAMES,
  OP_RULES,
  oneOfMessage,
  pagesOfBig,
  type OpRule,
} from './rules.js';
import { showTime } from './values.js';
import { TraceInputError } from './errors.js';

export { TraceInputError };

export type TraceFormat = 'json' | 'jsonl' | 'csv';

/** A JSON document larger than this must be JSONL or CSV. */
export const MAX_JSON_BYTES = 64 << 20;

/**
 * Deepest JSON nesting accepted (a trace needs 3: document, events array, event). Deeper text is
 * refused before JSON.parse, which would spend seconds and hundreds of MB on millions of levels.
 */
const MAX_JSON_DEPTH = 64;

/** Offset where JSON text first nests deeper than MAX_JSON_DEPTH, or -1 (strings skipped). */
function tooDeepAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 125 || c === 93) depth--;
  }
  return -1;
}

function refuseTooDeep(text: string, file: string, firstLine: number): void {
  const at = tooDeepAt(text);
  if (at < 0) return;
  const { line, column } = lineCol(text, at);
  throw new TraceInputError(
    file,
    firstLine + line - 1,
    `JSON nested deeper than ${MAX_JSON_DEPTH} levels (a trace needs 3)`,
    undefined,
    column,
  );
}

/** A parsed event with what the report shows of the input. */
export interface ParsedEvent {
  core: CoreEvent;
  line: number;
  addr: bigint;
  size: bigint;
  /** `size` as a number, when the reader has it so (exact: below 2^53); the report's echo reads it without a bigint. */
  readonly sizeNumber?: number;
  /** Added by `replay --implicit-mmap` (not in the trace); `line` is the event that caused it. */
  implicit?: true;
}

export interface ParsedTrace {
  platform: Partial<Platform>;
  events: ParsedEvent[];
  expect?: TraceExpect;
}

/** A trace's expectations (svmsim test) and the line they are on. */
export interface TraceExpect {
  value: Expect;
  line: number;
}

/** Validate an `expect` block (any encoding). */
export function parseExpectObject(obj: unknown, file: string, line: number): TraceExpect {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TraceInputError(
      file,
      line,
      `expected an object {"stats", "ranges", "events", "vram_used", "thrashing", "metrics"}, found ${show(obj)}`,
      'expect',
    );
  }
  const r = schemas().expectSchema.safeParse(obj);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = ['expect', ...i.path.map(String)].join('.');
    if (i.code === 'unrecognized_keys') {
      throw new TraceInputError(
        file,
        line,
        `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}; expected stats, ranges, events, vram_used, thrashing, metrics`,
        path,
      );
    }
    let found: unknown = obj;
    for (const k of i.path)
      found =
        found !== null && typeof found === 'object'
          ? (found as Record<PropertyKey, unknown>)[k as PropertyKey]
          : undefined;
    const what =
      i.code === 'invalid_type'
        ? `expected ${i.expected}`
        : i.code === 'invalid_value'
          ? `expected one of ${i.values.map(String).join(', ')}`
          : i.message.replace(/^Invalid input: /, '');
    throw new TraceInputError(file, line, `${what}, found ${show(found)}`, path);
  }
  return { value: r.data, line };
}

/** A CSV `#! expect {...}` line. */
export function csvExpectLine(line: string, file: string, lineNo: number): TraceExpect {
  const body = line.replace(/^#!\s*expect\s*/, '');
  let obj: unknown;
  try {
    obj = JSON.parse(body);
  } catch (e) {
    throw new TraceInputError(
      file,
      lineNo,
      `malformed JSON after "#! expect": ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')}`,
      'expect',
    );
  }
  return parseExpectObject(obj, file, lineNo);
}

/** A `#!` line after the CSV header row: platform and expect lines belong before it. */
export function misplacedDirective(file: string, lineNo: number): TraceInputError {
  return new TraceInputError(file, lineNo, '"#!" lines (platform, expect) must come before the header row');
}

/** Choose the encoding: explicit, else by extension; stdin needs sniffing. */
export function detectFormat(file: string, explicit?: string): TraceFormat | undefined {
  if (explicit === 'json' || explicit === 'jsonl' || explicit === 'csv') return explicit;
  const m = /\.(json|jsonl|ndjson|csv)(?:\.(?:gz|zst))?$/i.exec(file);
  if (m) return m[1].toLowerCase() === 'ndjson' ? 'jsonl' : (m[1].toLowerCase() as TraceFormat);
  return undefined;
}

/**
 * Guess the encoding of text (stdin or an unknown extension) from its head (the first 64 KiB):
 * a first meaningful line that is not `{...` is CSV; one that is a whole JSON object is JSONL,
 * unless it has an "events" key (a one-line JSON document). A first line that is not a whole JSON
 * value starts a JSON document spread over lines — wherever its "events" key is — unless later
 * lines of the head are whole JSON objects (JSONL with a damaged first line).
 */
export function sniffFormat(text: string): TraceFormat {
  const head = text.slice(0, 1 << 16);
  const lines = (head.charCodeAt(0) === 0xfeff ? head.slice(1) : head).split('\n');
  const complete = head.length < 1 << 16 ? lines.length : lines.length - 1; // the last line may be cut off
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#') || t.startsWith('//')) continue;
    if (!t.startsWith('{')) return 'csv';
    const o = jsonObject(t);
    if (o !== undefined) return Object.hasOwn(o, 'events') ? 'json' : 'jsonl';
    for (let j = i + 1; j < complete; j++) {
      if (lines[j].startsWith('{') && jsonObject(lines[j].trim()) !== undefined) return 'jsonl';
    }
    return 'json';
  }
  return 'csv';
}

/** The object a text holds, or undefined when it is not exactly one JSON object. */
function jsonObject(t: string): Record<string, unknown> | undefined {
  try {
    const o = JSON.parse(t) as unknown;
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// zod issues → messages

/**
 * A found value for a message: short (at most about 60 characters) and safe on any input — an
 * array of 100,000 items or nested 100,000 levels deep is shown by its first few elements.
 */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = preview(v, 2);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function preview(v: unknown, depth: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? String(v));
  if (Array.isArray(v)) {
    if (depth === 0) return v.length === 0 ? '[]' : '[...]';
    const items = v.slice(0, 4).map((x) => preview(x, depth - 1));
    return `[${items.join(',')}${v.length > 4 ? ',...' : ''}]`;
  }
  const keys = Object.keys(v);
  if (depth === 0) return keys.length === 0 ? '{}' : '{...}';
  const items = keys
    .slice(0, 4)
    .map(
      (k) =>
        `${JSON.stringify(k.length > 20 ? k.slice(0, 17) + '...' : k)}:${preview((v as Record<string, unknown>)[k], depth - 1)}`,
    );
  return `{${items.join(',')}${keys.length > 4 ? ',...' : ''}}`;
}

/** ": did you mean X?" when a string is close to one of the allowed words. */
function didYouMean(v: unknown, words: readonly string[]): string {
  const c = typeof v === 'string' ? closest(v, words) : undefined;
  return c === undefined ? '' : `: did you mean ${c}?`;
}

function issueError(
  file: string,
  line: number,
  issue: z.core.$ZodIssue,
  input: Record<string, unknown>,
): TraceInputError {
  const field = issue.path.length > 0 ? String(issue.path[0]) : undefined;
  const found = field !== undefined && Object.hasOwn(input, field) ? input[field] : undefined;
  const op = typeof input.op === 'string' ? input.op : undefined;
  if (field !== undefined && field !== 'op' && !Object.hasOwn(input, field) && issue.code !== 'unrecognized_keys') {
    return new TraceInputError(file, line, `missing; op "${op}" requires it`, field);
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return new TraceInputError(
        file,
        line,
        `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => show(k)).join(', ')} for op ${show(op)}`,
      );
    case 'invalid_union':
      if (field === 'op' || issue.path.length === 0) {
        return new TraceInputError(
          file,
          line,
          `expected "op" to be one of ${OP_NAMES.join(', ')}, found ${show(input.op)}${didYouMean(input.op, OP_NAMES)}`,
          'op',
        );
      }
      break;
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      return new TraceInputError(
        file,
        line,
        `expected one of ${values.join(', ')}, found ${show(found)}${didYouMean(found, values)}`,
        field,
      );
    }
    case 'invalid_type':
      if (found === undefined) return new TraceInputError(file, line, `missing; op "${op}" requires it`, field);
      return new TraceInputError(file, line, `expected ${issue.expected}, found ${show(found)}`, field);
    case 'custom':
      return new TraceInputError(file, line, `expected ${issue.message}, found ${show(found)}`, field);
  }
  return new TraceInputError(
    file,
    line,
    `${issue.message}${found !== undefined ? `, found ${show(found)}` : ''}`,
    field,
  );
}

// ---------------------------------------------------------------------------------------------
// Events

/** State carried from event to event (time). */
export interface EventCursor {
  t: number;
}

export function newCursor(): EventCursor {
  // t starts as a double (0.5, then 0): times soon outgrow a small integer, and a field that
  // changes its representation mid-trace changes the cursor's hidden class, deoptimising the
  // readers' optimised loops.
  const cur = { t: 0.5 };
  cur.t = 0;
  return cur;
}

function toCore(e: TraceEvent, t: number): { core: CoreEvent; addr: bigint; size: bigint } {
  const rule: OpRule = OP_RULES[e.op];
  const addr = e.addr;
  const size = e.size ?? BigInt(defaultSize(rule));
  const offset = addr & 0xfffn;
  const core: Record<string, unknown> = {
    op: e.op,
    t,
    page: Number(addr >> 12n),
    offset: Number(offset),
    npages: pagesOfBig(rule, offset, size),
    sizeAligned: size % 4096n === 0n,
  };
  for (const f of ENUM_FIELDS) if (e[f] !== undefined) core[f] = e[f];
  return { core: core as unknown as CoreEvent, addr, size: e.size ?? 0n };
}

/**
 * Validate one event object (from any encoding) and convert it. Mirrors nothing in the kernel:
 * this is the edge where bigint byte addresses become page indices.
 */
export function parseEventObject(obj: unknown, file: string, line: number, cur: EventCursor): ParsedEvent {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TraceInputError(file, line, `expected an event object, found ${show(obj)}`);
  }
  const input = obj as Record<string, unknown>;
  if (!Object.hasOwn(input, 'op'))
    throw new TraceInputError(file, line, `missing; every event needs an op (${OP_NAMES.join(', ')})`, 'op');
  const r = schemas().eventSchema.safeParse(input);
  if (!r.success) throw issueError(file, line, r.error.issues[0], input);
  const e = r.data as TraceEvent;
  const rule: OpRule = OP_RULES[e.op];
  if (rule.oneOf !== undefined) {
    const given = rule.oneOf.filter((f) => e[f] !== undefined);
    if (given.length !== 1) throw new TraceInputError(file, line, oneOfMessage(e.op, rule), given[1] ?? rule.oneOf[0]);
  }
  let t = cur.t;
  if (e.t !== undefined) {
    if (e.t < cur.t)
      throw new TraceInputError(file, line, `time goes backwards: ${showTime(e.t)} after ${showTime(cur.t)}`, 't');
    t = e.t;
  }
  cur.t = t;
  if (e.size !== undefined && e.addr + e.size > 1n << 64n) {
    throw new TraceInputError(file, line, 'span [addr, addr+size) must end at or below 2^64', 'size');
  }
  if (e.size !== undefined && e.size > MAX_ACCESS_BYTES && rule.perPage) {
    throw new TraceInputError(
      file,
      line,
      `expected at most ${MAX_ACCESS_BYTES >> 30n}G for one ${e.op} (the model keeps state for every touched page; split the access), found ${show(input.size)}`,
      'size',
    );
  }
  const out = toCore(e, t);
  if (e.pid !== undefined) out.core.pid = e.pid;
  return { ...out, line };
}

/** Validate a platform header object. */
export function parsePlatformObject(obj: unknown, file: string, line: number): Partial<Platform> {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TraceInputError(file, line, `expected an object of platform knobs, found ${show(obj)}`, 'platform');
  }
  const { canonicalKnobs, platformSchema, toPlatform } = schemas();
  const c = canonicalKnobs(obj as Record<string, unknown>);
  if ('twice' in c) throw new TraceInputError(file, line, c.twice, 'platform');
  const r = platformSchema.safeParse(c.knobs);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.length ? String(issue.path[0]) : undefined;
    if (issue.code === 'unrecognized_keys') {
      throw new TraceInputError(
        file,
        line,
        `unknown platform knob${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => show(k)).join(', ')}; knobs: ${Object.keys(platformSchema.shape).join(', ')}`,
      );
    }
    const e = issueError(file, line, issue, c.knobs);
    throw new TraceInputError(file, line, e.detail, key !== undefined ? `platform.${key}` : 'platform');
  }
  return toPlatform(r.data);
}

/** Platform settings given as strings (command line `--set`, CSV `#! platform`). */
export function parsePlatformSettings(settings: Record<string, string>, where: string): Partial<Platform> {
  // No settings (a command line without platform flags): nothing to check, and no schema to load.
  if (Object.keys(settings).length === 0) return {};
  const { canonicalKnobs, platformSchema, toPlatform } = schemas();
  const c = canonicalKnobs(settings);
  if ('twice' in c) throw new TraceInputError(where, 0, c.twice);
  const r = platformSchema.safeParse(c.knobs);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      throw new TraceInputError(
        where,
        0,
        `unknown platform knob ${issue.keys.map((k) => show(k)).join(', ')}; knobs: ${Object.keys(platformSchema.shape).join(', ')}`,
      );
    }
    const e = issueError(where, 0, issue, c.knobs as Record<string, string>);
    throw new TraceInputError(where, 0, e.detail, e.field);
  }
  return toPlatform(r.data);
}

/**
 * Platform knobs from one more header line (`#! platform`): a knob already set is an error, never
 * silently overridden.
 */
export function mergePlatform(
  into: Partial<Platform>,
  more: Partial<Platform>,
  file: string,
  line: number,
): Partial<Platform> {
  for (const k of Object.keys(more)) {
    if (Object.hasOwn(into, k)) {
      throw new TraceInputError(
        file,
        line,
        `platform knob "${PLATFORM_KNOBS[k as keyof typeof PLATFORM_KNOBS] ?? k}" is given twice (also on an earlier #! platform line)`,
        'platform',
      );
    }
  }
  return { ...into, ...more };
}

/**
 * The first key that appears twice in one object of a (valid) JSON text, with its offset —
 * JSON.parse would silently keep the last. One iterative pass: safe at any nesting depth.
 */
export function duplicateKey(text: string): { key: string; pos: number } | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 91) {
      stack.push(null);
      expectKey = false;
    } else if (c === 125 || c === 93) {
      stack.pop();
      expectKey = false;
    } else if (c === 44) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 34) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length && text.charCodeAt(j) !== 34) {
        if (text.charCodeAt(j) === 92) {
          j++;
          escaped = true;
        }
        j++;
      }
      if (expectKey) {
        let key = text.slice(i + 1, j);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            // invalid JSON is reported by JSON.parse itself
          }
        }
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return { key, pos: i };
        keys.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}

/** Refuse a JSON text with a key given twice in one object. */
export function refuseDuplicateKeys(text: string, file: string, firstLine = 1): void {
  const d = duplicateKey(text);
  if (d === undefined) return;
  const { line, column } = lineCol(text, d.pos);
  throw new TraceInputError(
    file,
    firstLine + line - 1,
    `key ${show(d.key)} is given twice in one object`,
    undefined,
    column,
  );
}

// ---------------------------------------------------------------------------------------------
// JSON document

/** 1-based line and column of a character offset. */
function lineCol(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: pos - last };
}

/**
 * Lines on which each element of the root object's `events` array starts, found by one scan
 * of the (already valid) JSON text.
 */
function eventLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inEvents = false;
  let lastKey: string | undefined;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === ':') continue;
    const startsValue = inEvents && depth === 2 && c !== ']';
    if (startsValue) lines.push(line);
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') j++;
        else s += text[j];
        j++;
      }
      if (depth === 1 && !expectValue) {
        lastKey = s;
        expectValue = true;
      } else if (depth === 1) expectValue = false;
      i = j;
      continue;
    }
    if (c === '{' || c === '[') {
      if (depth === 1 && c === '[' && lastKey === 'events') inEvents = true;
      if (depth === 1) expectValue = false;
      depth++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      if (depth === 1 && inEvents) inEvents = false;
      continue;
    }
    // a bare scalar (number, true, false, null): skip to its end
    if (depth === 1) expectValue = false;
    while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1])) i++;
  }
  return lines;
}

function parseJsonDocument(text: string, file: string, onError?: (e: TraceInputError) => void): ParsedTrace {
  if (text.length > MAX_JSON_BYTES) {
    throw new TraceInputError(
      file,
      1,
      `JSON documents are for small hand-written traces (at most ${MAX_JSON_BYTES >> 20} MiB); use JSONL or CSV, which stream`,
    );
  }
  refuseTooDeep(text, file, 1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const { line, column } = lineCol(text, pos);
    throw new TraceInputError(
      file,
      line,
      `malformed JSON: ${msg.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '')}`,
      undefined,
      column,
    );
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new TraceInputError(file, 1, 'expected a JSON object {"svmsim": 1, "events": [...]}');
  }
  refuseDuplicateKeys(text, file);
  const root = doc as Record<string, unknown>;
  for (const k of Object.keys(root)) {
    if (!['svmsim', 'platform', 'events', 'comment', 'expect'].includes(k)) {
      throw new TraceInputError(
        file,
        1,
        `unknown top-level key "${k}"; expected svmsim, platform, events, expect, comment`,
      );
    }
  }
  if (root.svmsim !== 1) throw new TraceInputError(file, 1, `expected 1, found ${show(root.svmsim)}`, 'svmsim');
  const platform = root.platform === undefined ? {} : parsePlatformObject(root.platform, file, 1);
  if (!Array.isArray(root.events))
    throw new TraceInputError(file, 1, `expected an array of events, found ${show(root.events)}`, 'events');
  if (root.events.length === 0) throw new TraceInputError(file, 1, 'no events', 'events');
  const lines = eventLines(text);
  const cur = newCursor();
  const events: ParsedEvent[] = [];
  root.events.forEach((e, i) => {
    try {
      events.push(parseEventObject(e, file, lines[i] ?? 1, cur));
    } catch (err) {
      if (onError === undefined || !(err instanceof TraceInputError)) throw err;
      onError(err);
    }
  });
  if (root.expect === undefined) return { platform, events };
  return { platform, events, expect: parseExpectObject(root.expect, file, keyLine(text, 'expect')) };
}

/** Line of a root key of a JSON document (first `"key":` at the start of a line or after `{`). */
function keyLine(text: string, key: string): number {
  const m = new RegExp(`"${key}"\\s*:`).exec(text);
  return m ? lineCol(text, m.index).line : 1;
}

// ---------------------------------------------------------------------------------------------
// JSONL

/** Parse one JSONL line to an object. */
export function parseJsonlLine(line: string, file: string, lineNo: number): unknown {
  if (line.length > 4096) refuseTooDeep(line, file, lineNo); // event lines are short: only long ones can nest deep
  try {
    return JSON.parse(line);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    throw new TraceInputError(
      file,
      lineNo,
      `malformed JSON: ${msg.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '')}`,
      undefined,
      m ? Number(m[1]) + 1 : undefined,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

/** Split one CSV record into cells (RFC 4180 quoting within one line). */
export function parseCsvRecord(line: string, file: string, lineNo: number): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new TraceInputError(file, lineNo, 'unterminated quoted cell', undefined, i + 1);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += line[i++];
      }
      if (i < line.length && line[i] !== ',')
        throw new TraceInputError(file, lineNo, 'expected "," after a quoted cell', undefined, i + 1);
    } else {
      const j = line.indexOf(',', i);
      cell = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    cells.push(cell.trim());
    if (i >= line.length) return cells;
    i++; // skip ','
  }
}

const CSV_FIELDS = new Set(ALL_FIELDS);

/** Parse a `#! platform k=v k=v` line. */
export function csvPlatformLine(line: string, file: string, lineNo: number): Partial<Platform> {
  const body = line.replace(/^#!\s*platform\s*/, '');
  const settings: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const tok of body.split(/\s+/).filter(Boolean)) {
    const eq = tok.indexOf('=');
    if (eq <= 0) throw new TraceInputError(file, lineNo, `expected key=value, found ${show(tok)}`, 'platform');
    const key = tok.slice(0, eq);
    if (Object.hasOwn(settings, key))
      throw new TraceInputError(file, lineNo, `platform knob ${show(key)} is given twice`, 'platform');
    settings[key] = tok.slice(eq + 1);
  }
  try {
    return parsePlatformSettings(settings, file);
  } catch (e) {
    if (e instanceof TraceInputError) throw new TraceInputError(file, lineNo, e.detail, e.field);
    throw e;
  }
}

/** The header row of a CSV trace: column names, validated. */
export function parseCsvHeader(line: string, file: string, lineNo: number): string[] {
  const cols = parseCsvRecord(line, file, lineNo);
  const seen = new Set<string>();
  cols.forEach((c, i) => {
    if (!CSV_FIELDS.has(c)) {
      throw new TraceInputError(
        file,
        lineNo,
        `unknown column ${show(c)}; columns: ${[...CSV_FIELDS].join(', ')}`,
        undefined,
        i + 1,
      );
    }
    if (seen.has(c)) throw new TraceInputError(file, lineNo, `duplicate column ${show(c)}`, undefined, i + 1);
    seen.add(c);
  });
  if (!seen.has('op')) throw new TraceInputError(file, lineNo, 'the header row needs an "op" column');
  return cols;
}

/** One CSV data row to an event object (empty cells absent). */
export function csvRowObject(cols: string[], cells: string[], file: string, lineNo: number): Record<string, string> {
  if (cells.length !== cols.length) {
    throw new TraceInputError(file, lineNo, `expected ${cols.length} cells (${cols.join(',')}), found ${cells.length}`);
  }
  const obj: Record<string, string> = {};
  cols.forEach((c, i) => {
    if (cells[i] !== '') obj[c] = cells[i];
  });
  return obj;
}

/** Parse a JSON document trace (read whole). */
export function parseJsonTrace(text: string, file: string, onError?: (e: TraceInputError) => void): ParsedTrace {
  return parseJsonDocument(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file, onError);
}

/** Text checks common to every encoding. */
export function checkText(text: string, file: string): void {
  if (text.trim() === '') throw new TraceInputError(file, 1, 'empty trace: no events');
  const pos = text.indexOf('\u0000');
  if (pos >= 0) throw new TraceInputError(file, lineCol(text, pos).line, 'binary data (NUL byte) in a text trace');
}
