/**
 * DOC: Reading replay results (`svmsim diff`)
 *
 * A result of `svmsim replay --format json|jsonl` (docs/result-format.md) is read as a stream of
 * bytes, never whole: the header first, then the event records one at a time, then the final
 * ranges one at a time, then the small tail (VRAM, stats, metrics, thrashing). An event record is
 * handed out as its raw bytes, so two results can be compared at the speed of memcmp; only
 * records that differ are parsed and validated (`parseEventRecord`).
 *
 * Both encodings are read by one byte window that grows up to MAX_RECORD_BYTES: a JSONL line or
 * a JSON value larger than that, or nested deeper than MAX_DEPTH, is bad input (exit 2), as is a
 * result missing a part; zod schemas name what is missing. Fields this version does not know
 * (a newer result) are kept and compared like the others.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import { DECISION_CODES } from '../core/decisions.js';
import { TraceInputError } from './parse.js';

/** Largest single JSONL line or JSON value (other than the events and ranges arrays). */
const MAX_RECORD_BYTES = 64 << 20;
/** Deepest nesting accepted in a result. */
const MAX_DEPTH = 64;

const CHUNK = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Schemas

const hex = z.string().regex(/^0x[0-9a-f]+$/, 'a 0x hex address');

const resultHeaderSchema = z.looseObject({
  svmsim: z.literal(1),
  kernel: z.string(),
  trace: z.looseObject({ name: z.string().nullable(), sha256: z.string().nullable() }).optional(),
  platform: z.record(z.string(), z.unknown()),
});

const eventRecordSchema = z.looseObject({
  seq: z.number().int().nonnegative(),
  line: z.number().int().nullable().optional(),
  t: z.number().optional(),
  op: z.string(),
  outcome: z.enum(['ok', 'hit', 'error']),
  errno: z.string().optional(),
  decisions: z.array(z.looseObject({ code: z.string() })),
});

const rangeRecordSchema = z.looseObject({ start: hex, end: hex, location: z.string(), valid: z.boolean() });

const tailSchemas = {
  vram: z.looseObject({ capacity: z.number(), used: z.number() }),
  stats: z.record(z.string(), z.record(z.string(), z.number())),
  metrics: z.record(z.string(), z.number()),
};

/**
 * The whole `replay --format json` document (`--format jsonl` has the same parts, one per line):
 * what schemas/result.schema.json is generated from. Objects are loose, as for the readers: a
 * newer result may carry more fields.
 */
export const resultDocumentSchema = z.looseObject({
  ...resultHeaderSchema.shape,
  events: z
    .array(
      eventRecordSchema.extend({
        addr: hex,
        size: hex.optional(),
        t_end: z.number().int().optional(),
        decisions: z.array(z.looseObject({ code: z.enum(DECISION_CODES) })),
      }),
    )
    .optional()
    .describe('One record per event, in trace order (absent with --no-events).'),
  ranges: z
    .array(rangeRecordSchema.extend({ size: hex, pid: z.number().int().optional() }))
    .describe('The final GPU SVM ranges, by start address.'),
  vram: tailSchemas.vram.describe('VRAM at the end, bytes.'),
  stats: tailSchemas.stats.describe('GT stats at the end: {"gt0": {counter: value}}.'),
  metrics: tailSchemas.metrics.describe('Derived figures.'),
  thrashing: z
    .array(
      z.looseObject({
        pid: z.number().int().optional(),
        start: hex,
        end: hex,
        cycles: z.number().int(),
        bytes: z.number(),
        events: z.array(z.number().int()),
      }),
    )
    .describe('Ranges that went VRAM→RAM→VRAM.'),
  per_pid: z
    .array(z.looseObject({ pid: z.number().int(), asid: z.number().int() }))
    .optional()
    .describe('Per-process breakdown (traces with more than one process).'),
});

type ResultHeader = z.output<typeof resultHeaderSchema>;
export type EventRecord = z.output<typeof eventRecordSchema>;
type RangeRecord = z.output<typeof rangeRecordSchema>;
interface ResultTail {
  vram: z.output<typeof tailSchemas.vram>;
  stats: z.output<typeof tailSchemas.stats>;
  metrics: z.output<typeof tailSchemas.metrics>;
  thrashing: unknown[];
}

function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** All zod issues as one message naming each missing or wrong part. */
function issuesText(err: z.ZodError, input: unknown, prefix: string): string {
  return err.issues
    .slice(0, 8)
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      let found: unknown = input;
      for (const k of i.path)
        found =
          found !== null && typeof found === 'object'
            ? (found as Record<PropertyKey, unknown>)[k as PropertyKey]
            : undefined;
      if (found === undefined) return `"${path}" is missing`;
      if (i.code === 'invalid_type')
        return `"${path}": expected ${i.expected === 'record' ? 'an object' : i.expected}, found ${showValue(found)}`;
      return `"${path}": ${i.message.replace(/^Invalid input: /, '')}, found ${showValue(found)}`;
    })
    .join('; ');
}

function check<T>(schema: z.ZodType<T>, v: unknown, file: string, line: number, what: string, prefix = ''): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new TraceInputError(file, line, `not a valid ${what}: ${issuesText(r.error, v, prefix)}`);
  return r.data;
}

/** Throw when a parsed value nests deeper than MAX_DEPTH (iterative: no stack to overflow). */
function checkDepth(v: unknown, file: string, line: number): void {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= MAX_DEPTH) throw new TraceInputError(file, line, `nested more than ${MAX_DEPTH} levels deep`);
    for (const y of Object.values(x)) if (y !== null && typeof y === 'object') stack.push([y, d + 1]);
  }
}

function parseJson(bytes: Buffer, file: string, line: number): unknown {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new TraceInputError(
      file,
      line,
      `malformed JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')}`,
    );
  }
  checkDepth(v, file, line);
  return v;
}

/** Parse and validate one event record (only records that differ are parsed). */
export function parseEventRecord(bytes: Buffer, file: string, line: number): EventRecord {
  const v = parseJson(bytes, file, line);
  return check(eventRecordSchema, v, file, line, 'event record', 'event');
}

// ---------------------------------------------------------------------------------------------
// Byte window

class Window {
  buf = Buffer.allocUnsafe(CHUNK);
  start = 0;
  end = 0;
  eof = false;
  /** Absolute offset of buf[0] in the file. */
  base = 0;
  constructor(private readonly fd: number) {}

  /** Read more; false at end of file. Keeps buf[start..end), growing up to MAX_RECORD_BYTES. */
  more(file: string, line: number): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      if (this.buf.length >= MAX_RECORD_BYTES)
        throw new TraceInputError(
          file,
          Math.max(1, line),
          `a record longer than ${MAX_RECORD_BYTES >> 20} MiB: not a result of svmsim replay`,
        );
      const b = Buffer.allocUnsafe(Math.min(this.buf.length * 2, MAX_RECORD_BYTES));
      this.buf.copy(b, 0, 0, this.end);
      this.buf = b;
    }
    const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (got === 0) {
      this.eof = true;
      return false;
    }
    this.end += got;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Readers

/** A result being read: header on open, then events, then ranges, then the tail. */
export interface ResultReader {
  readonly file: string;
  readonly format: 'json' | 'jsonl';
  readonly header: ResultHeader;
  /** Raw bytes of the next event record (valid until the next call), or undefined after the last. */
  nextEvent(): Buffer | undefined;
  /** Line in the result file of the record last returned (for messages). */
  readonly recordLine: number;
  /** Whether the result has event records (not written with --no-events). */
  readonly hasEvents: boolean;
  /** The next final range (after the events). */
  nextRange(): RangeRecord | undefined;
  /** VRAM, stats, metrics, thrashing (after the ranges). */
  tail(): ResultTail;
  close(): void;
}

/**
 * Advance two results past their next run of byte-identical event records without handing them
 * out one by one (memcmp over whole windows, then a count of the lines): the fast path of diff on
 * two JSONL results. Returns the number of records skipped (0 when it cannot: another encoding,
 * a pending record, or the next records differ).
 */
export function skipIdenticalEvents(a: ResultReader, b: ResultReader): number {
  return a instanceof JsonlResult && b instanceof JsonlResult ? a.skipIdentical(b) : 0;
}

const SEQ_LINE = Buffer.from('{"seq":');
const TAIL_KEYS = new Set(['range', 'vram', 'stats', 'metrics', 'process', 'thrashing', 'end']);
const SEQ_PRETTY = Buffer.from('"seq":');

/** Open a result file, sniffing JSON document or JSON lines from its first bytes. */
export function openResult(path: string): ResultReader {
  const fd = openSync(path, 'r');
  try {
    const w = new Window(fd);
    while (w.end < 2 && w.more(path, 1));
    let i = w.start;
    if (w.buf[i] === 0xef && w.buf[i + 1] === 0xbb) i += 3;
    while (i < w.end && (w.buf[i] === 32 || w.buf[i] === 10 || w.buf[i] === 13 || w.buf[i] === 9)) i++;
    if (i >= w.end)
      throw new TraceInputError(
        path,
        1,
        'empty file: expected a result of `svmsim replay --format json` or `--format jsonl`',
      );
    if (w.buf[i] !== 0x7b)
      throw new TraceInputError(
        path,
        1,
        'expected a result of `svmsim replay --format json` or `--format jsonl` (a JSON object)',
      );
    w.start = i;
    // JSONL: the first line is a whole object. JSON: the document goes on over lines.
    const nl = w.buf.indexOf(10, i);
    const firstLine = nl < 0 || nl >= w.end ? undefined : w.buf.subarray(i, nl);
    const isJsonl = firstLine !== undefined && isHeaderLine(firstLine);
    return isJsonl ? new JsonlResult(path, fd, w) : new JsonResult(path, fd, w);
  } catch (e) {
    closeSync(fd);
    // A file-system error (e.g. EISDIR when the path is a directory) names the user's path.
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && err.path === undefined) err.path = path;
    throw e;
  }
}

/** A whole JSON object on the first line, without the parts only a JSON document has. */
function isHeaderLine(b: Buffer): boolean {
  try {
    const v = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    return (
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      !('events' in v) &&
      !('ranges' in v) &&
      !('stats' in v)
    );
  } catch {
    return false;
  }
}

class JsonlResult implements ResultReader {
  readonly format = 'jsonl';
  readonly header: ResultHeader;
  recordLine = 0;
  hasEvents = false;
  private pending: Buffer | undefined;
  private phase: 'events' | 'ranges' | 'tail' = 'events';
  private tailParts: Partial<Record<string, unknown>> = {};
  private thrashing: unknown[] = [];
  private endSeen = false;
  private events = 0;
  private ranges = 0;

  constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly w: Window,
  ) {
    const first = this.line();
    if (first === undefined) throw new TraceInputError(file, 1, 'empty file');
    this.header = check(
      resultHeaderSchema,
      parseJson(first, file, this.recordLine),
      file,
      this.recordLine,
      'result header line',
      '',
    );
    const next = this.line();
    this.pending = next;
    this.hasEvents = next !== undefined && startsWith(next, SEQ_LINE);
  }

  /** The next non-blank line, valid until the next call. */
  private line(): Buffer | undefined {
    const w = this.w;
    for (;;) {
      let nl = w.buf.indexOf(10, w.start);
      while ((nl < 0 || nl >= w.end) && w.more(this.file, this.recordLine + 1)) nl = w.buf.indexOf(10, w.start);
      if (nl < 0 || nl >= w.end) {
        if (w.start >= w.end) return undefined;
        nl = w.end;
      }
      let e = nl;
      if (e > w.start && w.buf[e - 1] === 13) e--;
      const l = w.buf.subarray(w.start, e);
      w.start = Math.min(nl + 1, w.end);
      this.recordLine++;
      if (l.length === 0) continue;
      return l;
    }
  }

  private take(): Buffer | undefined {
    if (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    return this.line();
  }

  /** See skipIdenticalEvents(). */
  skipIdentical(o: JsonlResult): number {
    let n = 0;
    for (;;) {
      if (this.phase !== 'events' || o.phase !== 'events' || this.pending !== undefined || o.pending !== undefined)
        return n;
      const wa = this.w;
      const wb = o.w;
      if (wa.end - wa.start < CHUNK >> 1) wa.more(this.file, this.recordLine);
      if (wb.end - wb.start < CHUNK >> 1) wb.more(o.file, o.recordLine);
      let len = Math.min(wa.end - wa.start, wb.end - wb.start);
      if (len === 0) return n;
      // Longest equal prefix of the two windows, by halving (each step one memcmp).
      if (wa.buf.compare(wb.buf, wb.start, wb.start + len, wa.start, wa.start + len) !== 0) {
        let lo = 0;
        let hi = len;
        while (hi - lo > 256) {
          const mid = (lo + hi) >>> 1;
          if (wa.buf.compare(wb.buf, wb.start + lo, wb.start + mid, wa.start + lo, wa.start + mid) === 0) lo = mid;
          else hi = mid;
        }
        len = lo;
      }
      // Whole event lines inside the equal prefix.
      const buf = wa.buf;
      const stop = wa.start + len;
      let p = wa.start;
      let k = 0;
      for (;;) {
        if (
          buf[p] !== 0x7b ||
          buf[p + 1] !== 0x22 ||
          buf[p + 2] !== 0x73 ||
          buf[p + 3] !== 0x65 ||
          buf[p + 4] !== 0x71 ||
          buf[p + 5] !== 0x22
        )
          break; // {"seq"
        const nl = buf.indexOf(10, p);
        if (nl < 0 || nl >= stop) break;
        p = nl + 1;
        k++;
      }
      if (k === 0) return n;
      const used = p - wa.start;
      wa.start += used;
      wb.start += used;
      this.recordLine += k;
      o.recordLine += k;
      this.events += k;
      o.events += k;
      n += k;
    }
  }

  nextEvent(): Buffer | undefined {
    if (this.phase !== 'events') return undefined;
    const l = this.take();
    if (l !== undefined && startsWith(l, SEQ_LINE)) {
      this.events++;
      return l;
    }
    if (l !== undefined) {
      // Not svmsim's own layout: an event record with its keys in another order, or a bad one.
      const o = parseJson(l, this.file, this.recordLine);
      const key = o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o)[0] : undefined;
      if (key === undefined || !TAIL_KEYS.has(key)) {
        check(eventRecordSchema, o, this.file, this.recordLine, 'event record', 'event');
        this.events++;
        return l;
      }
    }
    this.phase = 'ranges';
    this.pending = l;
    return undefined;
  }

  nextRange(): RangeRecord | undefined {
    while (this.phase === 'events') this.nextEvent();
    if (this.phase !== 'ranges') return undefined;
    const l = this.take();
    if (l === undefined) throw this.truncated();
    const o = parseJson(l, this.file, this.recordLine) as Record<string, unknown>;
    const key = o !== null && typeof o === 'object' ? Object.keys(o)[0] : undefined;
    if (key === 'range') {
      this.ranges++;
      return check(rangeRecordSchema, o.range, this.file, this.recordLine, 'range line', 'range');
    }
    this.phase = 'tail';
    this.tailLine(o, key);
    return undefined;
  }

  private tailLine(o: Record<string, unknown>, key: string | undefined): void {
    if (key === 'thrashing') this.thrashing.push(o.thrashing);
    else if (key === 'process') {
      // Per-process breakdown of a multi-process trace (json `per_pid`): read, not compared.
    } else if (key === 'end') {
      const e = o.end as { events?: unknown; ranges?: unknown } | null;
      if (e !== null && typeof e === 'object' && typeof e.events === 'number' && e.events !== this.events) {
        throw new TraceInputError(
          this.file,
          this.recordLine,
          `the end line says ${e.events} events, the file has ${this.events}: a damaged result`,
        );
      }
      if (e !== null && typeof e === 'object' && typeof e.ranges === 'number' && e.ranges !== this.ranges) {
        throw new TraceInputError(
          this.file,
          this.recordLine,
          `the end line says ${e.ranges} ranges, the file has ${this.ranges}: a damaged result`,
        );
      }
      this.endSeen = true;
    } else if (key === 'vram' || key === 'stats' || key === 'metrics') this.tailParts[key] = o[key];
    else
      throw new TraceInputError(
        this.file,
        this.recordLine,
        `unexpected line ${showValue(key)}: expected range, vram, stats, metrics, process, thrashing or end (docs/result-format.md)`,
      );
  }

  private truncated(): TraceInputError {
    return new TraceInputError(
      this.file,
      this.recordLine,
      'the result ends early (no "end" line): truncated, or not a result of `svmsim replay --format jsonl`',
    );
  }

  tail(): ResultTail {
    while (this.phase !== 'tail') if (this.nextRange() === undefined && this.phase === 'ranges') break;
    for (let l = this.take(); l !== undefined; l = this.take()) {
      if (this.endSeen) throw new TraceInputError(this.file, this.recordLine, 'a line after the "end" line');
      const o = parseJson(l, this.file, this.recordLine) as Record<string, unknown>;
      this.tailLine(o, o !== null && typeof o === 'object' ? Object.keys(o)[0] : undefined);
    }
    if (!this.endSeen) throw this.truncated();
    return tailOf(this.tailParts, this.thrashing, this.file, this.recordLine);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function tailOf(parts: Partial<Record<string, unknown>>, thrashing: unknown, file: string, line: number): ResultTail {
  const missing = (['vram', 'stats', 'metrics'] as const).filter((k) => parts[k] === undefined);
  if (missing.length > 0)
    throw new TraceInputError(
      file,
      line,
      `not a complete result: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
    );
  return {
    vram: check(tailSchemas.vram, parts.vram, file, line, 'result', 'vram'),
    stats: check(tailSchemas.stats, parts.stats, file, line, 'result', 'stats'),
    metrics: check(tailSchemas.metrics, parts.metrics, file, line, 'result', 'metrics'),
    thrashing: check(z.array(z.unknown()), thrashing ?? [], file, line, 'result', 'thrashing'),
  };
}

function startsWith(b: Buffer, p: Buffer): boolean {
  if (b.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (b[i] !== p[i]) return false;
  return true;
}

/** End of a pretty-printed event or range element as svmsim writes it (4-space indent). */
const PRETTY_END = Buffer.from('\n    }');

/**
 * A JSON document read as a stream: the root object's keys one by one; `events` and `ranges`
 * element by element; every other value whole (up to MAX_RECORD_BYTES).
 */
class JsonResult implements ResultReader {
  readonly format = 'json';
  readonly header: ResultHeader;
  hasEvents = false;
  /** File offset of the element last returned. */
  private lastStart = 0;
  private parts: Record<string, unknown> = {};
  /** The array being streamed, positioned at its next element. */
  private inArray: 'events' | 'ranges' | undefined;
  private done = false;

  constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly w: Window,
  ) {
    this.w.start++; // '{'
    // Read root keys until the events (or ranges) array starts.
    this.afterArray();
    const h = resultHeaderSchema.safeParse(this.parts);
    if (!h.success) this.failMissing(h.error);
    this.header = h.data!;
    this.hasEvents = this.inArray === 'events';
  }

  /** Line of the record last returned (counted on demand: for messages only). */
  get recordLine(): number {
    return this.line(this.lastStart);
  }

  /** Line of a file offset, by default the window's position (counted on demand, for messages only). */
  private line(pos = this.w.base + this.w.start): number {
    const fd = openSync(this.file, 'r');
    try {
      const b = Buffer.allocUnsafe(CHUNK);
      let line = 1;
      for (let off = 0; off < pos; ) {
        const n = readSync(fd, b, 0, Math.min(CHUNK, pos - off), off);
        if (n === 0) break;
        for (let i = b.indexOf(10, 0); i >= 0 && i < n; i = b.indexOf(10, i + 1)) line++;
        off += n;
      }
      return line;
    } finally {
      closeSync(fd);
    }
  }

  /** A bad header: read on to name every missing part at once, then fail. */
  private failMissing(err: z.ZodError): never {
    const headerIssues = issuesText(err, this.parts, '');
    const seen = new Set(Object.keys(this.parts));
    if (this.inArray !== undefined) seen.add(this.inArray);
    try {
      for (;;) {
        while (this.inArray !== undefined) this.element();
        if (this.done) break;
        this.afterArray();
        if (this.inArray !== undefined) seen.add(this.inArray);
        for (const k of Object.keys(this.parts)) seen.add(k);
      }
    } catch {
      // the rest is broken too: report what the header lacks
    }
    const missing = ['ranges', 'vram', 'stats', 'metrics'].filter((k) => !seen.has(k));
    throw new TraceInputError(
      this.file,
      1,
      `not a valid result: ${headerIssues}${missing.length ? `; ${missing.map((m) => `"${m}"`).join(', ')} missing` : ''}`,
    );
  }

  /** Run `fn`; its errors get the line of the record last returned (counted only then). */
  private atLine<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TraceInputError && e.line === 0) throw new TraceInputError(e.file, this.recordLine, e.detail);
      throw e;
    }
  }

  private fail(msg: string): never {
    throw new TraceInputError(this.file, this.line(), msg);
  }

  /** Skip whitespace (and one comma when `comma`); the next byte, or -1 at end of file. */
  private peek(): number {
    const w = this.w;
    for (;;) {
      while (w.start < w.end) {
        const c = w.buf[w.start];
        if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return c;
        w.start++;
      }
      if (!w.more(this.file, 0)) return -1;
    }
  }

  /** The next root key, or undefined at the closing brace. */
  private nextKey(): string | undefined {
    let c = this.peek();
    if (c === 0x2c) {
      this.w.start++;
      c = this.peek();
    }
    if (c === 0x7d) {
      this.w.start++;
      this.done = true;
      return undefined;
    }
    if (c !== 0x22) this.fail(c < 0 ? 'the document ends early: truncated' : 'expected a key of the result object');
    const end = this.valueEnd();
    let key: string;
    try {
      key = JSON.parse(this.w.buf.toString('utf8', this.w.start, end)) as string;
    } catch (e) {
      // e.g. a control character inside the key (found by the diff-reader fuzzer, seed 694560050)
      this.fail(`expected a key of the result object (${(e as Error).message})`);
    }
    this.w.start = end;
    if (this.peek() !== 0x3a) this.fail('expected ":" after a key');
    this.w.start++;
    return key;
  }

  /** End offset (exclusive) of the JSON value at the window start, reading more as needed. */
  private valueEnd(): number {
    const w = this.w;
    for (;;) {
      const e = scanValue(w.buf, w.start, w.end);
      if (e === TOO_DEEP) this.fail(`nested more than ${MAX_DEPTH} levels deep`);
      if (e === BAD) this.fail('malformed JSON');
      if (e >= 0) return e;
      if (!w.more(this.file, 0)) this.fail('the document ends early: truncated');
    }
  }

  private wholeValue(): unknown {
    if (this.peek() < 0) this.fail('the document ends early: truncated');
    const end = this.valueEnd();
    const bytes = this.w.buf.subarray(this.w.start, end);
    this.lastStart = this.w.base + this.w.start;
    const v = this.atLine(() => parseJson(bytes, this.file, 0));
    this.w.start = end;
    return v;
  }

  private openArray(key: 'events' | 'ranges'): void {
    if (this.peek() !== 0x5b) this.fail(`"${key}" must be an array`);
    this.w.start++;
    this.inArray = key;
    this.first = true;
  }

  private first = true;

  /** Raw bytes of the next element of the open array, or undefined at its end. */
  private element(): Buffer | undefined {
    let c = this.peek();
    if (!this.first) {
      if (c === 0x2c) {
        this.w.start++;
        c = this.peek();
      } else if (c !== 0x5d) this.fail('expected "," or "]" in the array');
    }
    if (c === 0x5d) {
      this.w.start++;
      this.inArray = undefined;
      return undefined;
    }
    if (c < 0) this.fail('the document ends early: truncated');
    this.first = false;
    const w = this.w;
    let end = -1;
    // svmsim's own layout: the element ends at the first "\n    }" (deeper lines are indented more).
    if (w.buf[w.start] === 0x7b && w.buf[w.start + 1] === 10) {
      for (;;) {
        const i = w.buf.indexOf(PRETTY_END, w.start);
        if (i >= 0 && i + PRETTY_END.length <= w.end) {
          end = i + PRETTY_END.length;
          break;
        }
        if (!w.more(this.file, 0)) break;
      }
    }
    if (end < 0) end = this.valueEnd();
    const b = w.buf.subarray(w.start, end);
    this.lastStart = w.base + w.start;
    w.start = end;
    return b;
  }

  /** Read the remaining root keys after an array (singletons, or the next array). */
  private afterArray(): void {
    while (!this.done) {
      const key = this.nextKey();
      if (key === undefined) return;
      if (key === 'events' || key === 'ranges') {
        this.openArray(key);
        return;
      }
      this.parts[key] = this.wholeValue();
    }
  }

  nextEvent(): Buffer | undefined {
    if (this.inArray !== 'events') return undefined;
    const b = this.element();
    if (b === undefined) {
      this.afterArray();
      return undefined;
    }
    if (b[0] !== 0x7b || b.indexOf(SEQ_PRETTY) < 0)
      this.atLine(() => check(eventRecordSchema, parseJson(b, this.file, 0), this.file, 0, 'event record', 'events[]'));
    return b;
  }

  nextRange(): RangeRecord | undefined {
    while (this.inArray === 'events') this.nextEvent();
    if (this.inArray !== 'ranges') {
      if (this.parts.ranges === undefined && !this.done) this.afterArray();
      if (this.inArray !== 'ranges') return undefined;
    }
    const b = this.element();
    if (b === undefined) {
      this.parts.ranges = true;
      this.afterArray();
      return undefined;
    }
    return this.atLine(() => check(rangeRecordSchema, parseJson(b, this.file, 0), this.file, 0, 'range', 'ranges[]'));
  }

  tail(): ResultTail {
    while (this.inArray !== undefined || (!this.done && this.parts.ranges === undefined)) {
      if (this.nextRange() === undefined && this.inArray === undefined) break;
    }
    if (!this.done) this.afterArray();
    if (this.parts.ranges === undefined) this.fail('not a complete result: "ranges" is missing');
    return tailOf(this.parts, this.parts.thrashing, this.file, 1);
  }

  close(): void {
    closeSync(this.fd);
  }
}

const TOO_DEEP = -2;
const BAD = -3;

/**
 * End (exclusive) of the JSON value starting at buf[i] (after whitespace), or -1 when the window
 * ends first, TOO_DEEP beyond MAX_DEPTH, BAD on a structural error. Strings are skipped with their
 * escapes; everything else is checked by JSON.parse later.
 */
function scanValue(buf: Buffer, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = buf[i];
    if (c === 0x22) {
      i++;
      for (;;) {
        if (i >= end) return -1;
        const d = buf[i];
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      if (depth === 0) return i;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return TOO_DEEP;
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth < 0) return BAD;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && c !== 32 && c !== 10 && c !== 13 && c !== 9) {
      // a bare scalar at the top: up to the next delimiter
      let j = i;
      while (j < end && buf[j] !== 0x2c && buf[j] !== 0x7d && buf[j] !== 0x5d && buf[j] !== 10 && buf[j] !== 32) j++;
      return j < end ? j : -1;
    }
    i++;
  }
  return -1;
}
