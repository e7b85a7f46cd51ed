/**
 * DOC: Byte-level CSV reader for trace files
 *
 * The hot path of `svmsim replay big.csv`: data rows are parsed straight from the read buffer —
 * fields located by scanning bytes for commas, times and sizes read as decimal or hex digits,
 * addresses split into page and offset digit by digit — without decoding the line into a string
 * or splitting it. Only the op name and enum cells become (tiny, latin1) strings.
 *
 * Header lines (`#! platform`, comments, the column row) and every row the fast reader does not
 * accept — quotes, units, suffixes, unknown values, out-of-range numbers, time going backwards, a
 * row not wholly in the buffer, a comment or blank line — are decoded as UTF-8 and handed to the
 * schema path (parse.ts), which gives the same event or the error with its line number. The ops,
 * their fields, defaults and enum values come from the tables of rules.ts. `{ fast: false }`
 * takes every row through the schema path: the property tests (test/trace/fast-paths.test.ts)
 * compare the two on random rows.
 */

import type { CoreEvent } from '../core/events.js';
import type { Platform } from '../core/platform.js';
import {
  defaultSize,
  ENUM_FIELDS,
  enumValues,
  type EnumField,
  fastSpanOk,
  HEX,
  OP_RULES,
  type OpRule,
  pagesOf,
} from './rules.js';
import { PID_MAX } from './values.js';
import {
  lineTooLong,
  MAX_LINE_BYTES,
  openSource,
  pullSource,
  type ByteInput,
  type ByteSource,
  type EventSource,
  type ReadOptions,
} from './stream.js';
import {
  csvExpectLine,
  csvPlatformLine,
  misplacedDirective,
  type TraceExpect,
  mergePlatform,
  csvRowObject,
  newCursor,
  parseCsvHeader,
  parseCsvRecord,
  parseEventObject,
  TraceInputError,
  type ParsedEvent,
} from './parse.js';

const CHUNK = 1 << 20;
/** Column roles of the fused reader. */
const R_T = 0;
const R_ADDR = 1;
const R_SIZE = 2;
/** An enum value: a word. */
const R_WORD = 3;
const R_PID = 4;
/** The op: a word, read as its code (opCode()). */
const R_OP = 5;

/** An op with its rule and, for the current header, the columns of its enum fields. */
interface OpEntry {
  name: string;
  /** opCode() of the name. */
  w0: number;
  w1: number;
  rule: OpRule;
  /** The op's enum fields with their columns (-1: no such column). */
  fields: { field: EnumField; col: number }[];
  /** Enum columns the op does not take: they must be empty. */
  foreign: number[];
  /** The rule's size use, unpacked for the hot path. */
  sizeRequired: boolean;
  noSize: boolean;
  defaultSize: number;
}

/**
 * An op name as two numbers, five bits a letter ('a'..'z' -> 1..26, '_' -> 31): the first eight
 * letters and the rest. With the length, one-to-one for words of [a-z_] (which the fused reader
 * computes while it scans the op cell, so finding the op is two number compares).
 */
function opCode(name: string): [number, number] {
  let w0 = 0;
  let w1 = 0;
  for (let i = 0; i < name.length; i++) {
    if (i < 8) w0 = w0 * 32 + (name.charCodeAt(i) & 31);
    else w1 = w1 * 32 + (name.charCodeAt(i) & 31);
  }
  return [w0, w1];
}

/**
 * An event read from bytes: the core event and the parsed event in one object of one shape
 * (every op-specific field present, undefined where unused), so the model's property accesses
 * stay monomorphic. Display values are computed on demand. The replay loop reads into one
 * ByteEvent again and again (CsvByteReader.readTransient): no allocation per event, and the
 * double fields (page, t) are overwritten in place instead of boxed afresh.
 */
export class ByteEvent implements ParsedEvent {
  op = '';
  t = 0;
  page = 0;
  offset = 0;
  npages = 0;
  sizeAligned = false;
  line = 0;
  private sizeBytes = 0;
  prot: string | undefined = undefined;
  kind: string | undefined = undefined;
  advice: string | undefined = undefined;
  access: string | undefined = undefined;
  region: string | undefined = undefined;
  preferred: string | undefined = undefined;
  atomic: string | undefined = undefined;
  /** Process id; undefined when the row has none (pid 1). */
  pid: number | undefined = undefined;

  /** Set every field (the enum fields and pid to undefined): the event of one row. */
  fill(
    op: string,
    t: number,
    page: number,
    offset: number,
    npages: number,
    sizeAligned: boolean,
    line: number,
    sizeBytes: number,
  ): this {
    this.op = op;
    this.t = t;
    this.page = page;
    this.offset = offset;
    this.npages = npages;
    this.sizeAligned = sizeAligned;
    this.line = line;
    this.sizeBytes = sizeBytes;
    this.prot = undefined;
    this.kind = undefined;
    this.advice = undefined;
    this.access = undefined;
    this.region = undefined;
    this.preferred = undefined;
    this.atomic = undefined;
    this.pid = undefined;
    return this;
  }

  get core(): CoreEvent {
    return this as unknown as CoreEvent;
  }

  get addr(): bigint {
    return (BigInt(this.page) << 12n) + BigInt(this.offset);
  }

  get size(): bigint {
    return BigInt(this.sizeBytes);
  }

  /** The core event as a plain object (tests, equality with the schema path). */
  toCore(): CoreEvent {
    const o: Record<string, unknown> = {
      op: this.op,
      t: this.t,
      page: this.page,
      offset: this.offset,
      npages: this.npages,
      sizeAligned: this.sizeAligned,
    };
    for (const k of ENUM_FIELDS) if (this[k] !== undefined) o[k] = this[k];
    if (this.pid !== undefined) o.pid = this.pid;
    return o as unknown as CoreEvent;
  }
}

/**
 * The schema path's event in the fused reader's one shape (rows cut at a read chunk, rows the
 * fused path defers), so that every event the model sees has the same hidden class and its
 * property accesses stay monomorphic: a few hundred plain objects of per-op shapes among millions
 * of ByteEvents made the whole replay 20-30 % slower. Sizes beyond 2^53 keep the exact event.
 */
export function asByteEvent(pe: ParsedEvent, into: ByteEvent): ParsedEvent {
  if (pe.size > BigInt(Number.MAX_SAFE_INTEGER)) return pe;
  const c = pe.core as CoreEvent & Partial<Record<EnumField, string>>;
  const ev = into.fill(c.op, c.t, c.page, c.offset, c.npages, c.sizeAligned, pe.line, Number(pe.size));
  for (const k of ENUM_FIELDS) ev[k] = c[k];
  ev.pid = c.pid;
  return ev;
}

export class CsvByteReader {
  platform: Partial<Platform> = {};
  /** The trace's `#! expect` block, for svmsim test. */
  expect?: TraceExpect;
  count = 0;
  line = 0;
  /** When set, a bad line is reported here and skipped instead of ending the read. */
  onError?: (e: TraceInputError) => void;
  private readonly input: ByteInput;
  private buf = Buffer.allocUnsafe(CHUNK * 2);
  private view: Buffer = this.buf.subarray(0, 0);
  private start = 0;
  private end = 0;
  private eof = false;
  private cols: string[] = [];
  private ix: Record<string, number> = {};
  private other = false;
  private opIx = -1;
  private addrIx = -1;
  /** The ops for this header (their enum columns), grouped by name length. */
  private readonly opsByLength: OpEntry[][] = [];
  private readonly cut: Int32Array;
  private readonly cur = newCursor();

  constructor(
    source: ByteSource,
    readonly file: string,
    private readonly counter?: { bytes: number },
    opts: ReadOptions = {},
  ) {
    const { input, head } = openSource(source);
    this.input = input;
    if (head !== undefined) {
      if (head.length + 1 > this.buf.length) this.buf = Buffer.allocUnsafe(head.length + CHUNK + 1);
      head.copy(this.buf, 0);
      this.end = head.length;
      this.buf[this.end] = 0;
      this.view = this.buf.subarray(0, this.end);
      if (this.counter) this.counter.bytes += head.length;
    }
    this.readHeader();
    this.cut = new Int32Array(this.cols.length + 1);
    this.roles = new Uint8Array(
      this.cols.map((c) =>
        c === 't'
          ? R_T
          : c === 'op'
            ? R_OP
            : c === 'addr'
              ? R_ADDR
              : c === 'size'
                ? R_SIZE
                : c === 'pid'
                  ? R_PID
                  : R_WORD,
      ),
    );
    this.fusable = (opts.fast ?? true) && !this.other && this.opIx >= 0 && this.addrIx >= 0;
    const col = (f: string) => this.ix[f] ?? -1;
    for (const [name, rule] of Object.entries(OP_RULES) as [string, OpRule][]) {
      const fields = (Object.keys(rule.fields) as EnumField[]).map((field) => ({ field, col: col(field) }));
      const foreign = ENUM_FIELDS.filter((f) => col(f) >= 0 && !Object.hasOwn(rule.fields, f)).map(col);
      const [w0, w1] = opCode(name);
      (this.opsByLength[name.length] ??= []).push({
        name,
        w0,
        w1,
        rule,
        fields,
        foreign,
        sizeRequired: rule.size === 'required',
        noSize: rule.size === 'none',
        defaultSize: defaultSize(rule),
      });
    }
  }

  /** Column roles for the fused reader. */
  private readonly roles: Uint8Array;
  /** Whether the header allows the fused reader (no free-text column, op and addr present). */
  private readonly fusable: boolean;

  /**
   * The fused fast path: locates the cells of the next line and parses its numbers in one pass
   * over the bytes, then builds the event. Returns undefined, with the reader's position
   * unchanged, for anything it does not accept — a blank or comment line, a line not wholly in
   * the buffer, any unusual cell — and read() then takes the line through scanLine() and the
   * schema path, which decide it exactly.
   */
  private fusedRow(into: ByteEvent): ParsedEvent | undefined {
    const buf = this.buf;
    const cut = this.cut;
    const roles = this.roles;
    const n = roles.length;
    const start = this.start;
    if (start >= this.end) return undefined;
    let k = start;
    let t = this.cur.t;
    let hi = 0;
    let lo = 0;
    let size = -1;
    let pid = -1;
    let w0 = 0;
    let w1 = 0;
    let opLen = 0;
    for (let c = 0; c < n; c++) {
      const s = k;
      cut[c] = k;
      const role = roles[c];
      if (role === R_OP) {
        // lower-case letters and '_', coded as opCode() does
        let b = buf[k];
        while ((b >= 97 && b <= 122) || b === 95) {
          if (k - s < 8) w0 = w0 * 32 + (b & 31);
          else w1 = w1 * 32 + (b & 31);
          b = buf[++k];
        }
        opLen = k - s;
      } else if (role === R_WORD) {
        // op or enum word: lower-case letters and '_'
        let b = buf[k];
        while ((b >= 97 && b <= 122) || b === 95) b = buf[++k];
      } else if (role === R_ADDR) {
        // 0x + 1..16 hex digits; page = all but the last three digits (hi), offset = those (lo)
        if (buf[k] !== 48 || (buf[k + 1] | 32) !== 120) return undefined;
        k += 2;
        let d = HEX[buf[k]];
        while (d >= 0) {
          hi = hi * 16 + (lo >>> 8);
          lo = ((lo & 0xff) << 4) | d;
          d = HEX[buf[++k]];
        }
        if (k === s + 2 || k - s > 18) return undefined;
      } else if (role === R_SIZE && buf[k] === 48 && (buf[k + 1] | 32) === 120) {
        k += 2;
        let v = 0;
        let d = HEX[buf[k]];
        while (d >= 0) {
          v = v * 16 + d;
          d = HEX[buf[++k]];
        }
        if (k === s + 2 || k - s > 15) return undefined;
        size = v;
      } else {
        // decimal digits: t, pid, or a size
        let v = 0;
        let d = buf[k] - 48;
        while (d >= 0 && d <= 9) {
          v = v * 10 + d;
          d = buf[++k] - 48;
        }
        const len = k - s;
        if (len > 0) {
          if (role === R_T) {
            if (len > 15 || v < t) return undefined;
            t = v;
          } else if (role === R_PID) {
            if (len > 10 || v < 1 || v > PID_MAX) return undefined;
            pid = v;
          } else {
            if (len > 15) return undefined;
            size = v;
          }
        }
      }
      if (c < n - 1) {
        if (buf[k] !== 44) return undefined;
        k++;
      }
    }
    // line end: LF, CRLF, or the end of the file
    let next: number;
    const b = buf[k];
    if (b === 10) next = k + 1;
    else if (b === 13 && k + 1 < this.end && buf[k + 1] === 10) next = k + 2;
    else if (k === this.end && this.eof) next = k;
    else return undefined;
    cut[n] = k + 1;

    const entries = this.opsByLength[opLen];
    if (entries === undefined) return undefined;
    let entry: OpEntry | undefined;
    for (let i = 0; i < entries.length; i++) {
      const en = entries[i];
      if (en.w0 === w0 && en.w1 === w1) {
        entry = en;
        break;
      }
    }
    if (entry === undefined) return undefined;
    const foreign = entry.foreign;
    for (let i = 0; i < foreign.length; i++) if (!this.empty(foreign[i])) return undefined;
    const sizeEmpty = size < 0;
    if (size === 0) return undefined; // the schema path reports it
    if (sizeEmpty) {
      if (entry.sizeRequired) return undefined;
      size = entry.defaultSize;
    } else if (entry.noSize) return undefined;
    const npages = pagesOf(entry.rule, lo, size);
    if (!fastSpanOk(hi, npages)) return undefined;
    const ev = into.fill(entry.name, t, hi, lo, npages, size % 4096 === 0, this.line + 1, sizeEmpty ? 0 : size);
    if (entry.fields.length > 0 && !this.enumFields(entry, ev)) return undefined;
    if (pid > 0) ev.pid = pid;
    this.lineStart = start;
    this.lineEnd = k;
    this.start = next;
    this.line++;
    this.cur.t = t;
    return ev;
  }

  /** Read more of the file, keeping the unread tail. Returns false at end of file. */
  private fill(): boolean {
    if (this.eof) return false;
    const tail = this.end - this.start;
    if (tail > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line + 1);
    if (tail + CHUNK + 1 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, tail + CHUNK));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = tail;
    const got = this.input.read(this.buf, this.end, CHUNK);
    if (this.counter) this.counter.bytes += got;
    if (got === 0) {
      this.eof = true;
      this.input.close();
      return false;
    }
    this.end += got;
    this.buf[this.end] = 0; // sentinel: stops the fused reader's cell loops at the end of the data
    this.view = this.buf.subarray(0, this.end);
    return true;
  }

  /** Bounds [s, e) of the next line (without CR/LF), or -1 at end. Sets this.lineStart/lineEnd. */
  private lineStart = 0;
  private lineEnd = 0;
  private nextLine(): boolean {
    for (;;) {
      const nl = this.start < this.end ? this.view.indexOf(10, this.start) : -1;
      if (nl >= 0) {
        this.lineStart = this.start;
        this.lineEnd = nl > this.start && this.buf[nl - 1] === 13 ? nl - 1 : nl;
        this.start = nl + 1;
        this.line++;
        if (this.lineEnd - this.lineStart > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line);
        return true;
      }
      if (!this.fill()) {
        if (this.start < this.end) {
          this.lineStart = this.start;
          this.lineEnd = this.buf[this.end - 1] === 13 ? this.end - 1 : this.end;
          this.start = this.end;
          this.line++;
          return true;
        }
        return false;
      }
    }
  }

  private lineText(): string {
    return this.buf.toString('utf8', this.lineStart, this.lineEnd);
  }

  private readHeader(): void {
    while (this.nextLine()) {
      let text = this.lineText();
      if (text.includes('\u0000'))
        throw new TraceInputError(this.file, this.line, 'binary data (NUL byte) in a text trace');
      if (this.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (/^#!\s*platform\b/.test(text)) {
        this.platform = mergePlatform(this.platform, csvPlatformLine(text, this.file, this.line), this.file, this.line);
        continue;
      }
      if (/^#!\s*expect\b/.test(text)) {
        if (this.expect !== undefined)
          throw new TraceInputError(
            this.file,
            this.line,
            `a second "#! expect" line (the first is line ${this.expect.line})`,
            'expect',
          );
        this.expect = csvExpectLine(text, this.file, this.line);
        continue;
      }
      if (text.trim() === '' || text.startsWith('#')) continue;
      this.cols = parseCsvHeader(text, this.file, this.line);
      this.cols.forEach((c, i) => {
        this.ix[c] = i;
      });
      this.other = this.cols.includes('comment');
      this.opIx = this.ix.op ?? -1;
      this.addrIx = this.ix.addr ?? -1;
      return;
    }
    throw new TraceInputError(
      this.file,
      Math.max(1, this.line),
      'no header row (expected column names such as t,op,addr,size)',
    );
  }

  /** The next event, or undefined at the end of the file. */
  read(): ParsedEvent | undefined {
    return this.nextEvent(new ByteEvent());
  }

  /**
   * The next event in an object that the next call reuses (valid until then): for a consumer
   * that keeps nothing of an event once it has the next one, such as the replay loop.
   */
  readTransient(): ParsedEvent | undefined {
    return this.nextEvent(this.slot);
  }

  /** The one event object of readTransient(). */
  private readonly slot = new ByteEvent();

  private nextEvent(into: ByteEvent): ParsedEvent | undefined {
    if (this.fusable) {
      const ev = this.fusedRow(into);
      if (ev !== undefined) {
        this.count++;
        return ev;
      }
    }
    while (this.nextLine()) {
      const s = this.lineStart;
      const e = this.lineEnd;
      if (s === e) continue; // blank
      if (this.buf[s] === 35) {
        // '#' comment; '#!' lines belong before the header row
        if (s + 1 < e && this.buf[s + 1] === 33) throw misplacedDirective(this.file, this.line);
        continue;
      }
      this.count++;
      if (this.onError === undefined) return this.slowRow(into);
      try {
        return this.slowRow(into);
      } catch (err) {
        if (!(err instanceof TraceInputError)) throw err;
        this.onError(err);
        this.count--;
      }
    }
    if (this.count === 0) throw new TraceInputError(this.file, Math.max(1, this.line), 'no events');
    return undefined;
  }

  /** The schema path for the current line. */
  private slowRow(into: ByteEvent): ParsedEvent {
    const text = this.lineText();
    if (text.includes('\u0000'))
      throw new TraceInputError(this.file, this.line, 'binary data (NUL byte) in a text trace');
    if (text.trim() === '') {
      this.count--;
      const next = this.nextEvent(into);
      if (next === undefined) throw new TraceInputError(this.file, Math.max(1, this.line), 'no events');
      return next;
    }
    return asByteEvent(
      parseEventObject(
        csvRowObject(this.cols, parseCsvRecord(text, this.file, this.line), this.file, this.line),
        this.file,
        this.line,
        this.cur,
      ),
      into,
    );
  }

  private cell(i: number | undefined): string {
    if (i === undefined) return '';
    const a = this.cut[i];
    const b = this.cut[i + 1] - 1;
    return a >= b ? '' : this.buf.toString('latin1', a, b);
  }

  private empty(i: number | undefined): boolean {
    return i === undefined || this.cut[i] >= this.cut[i + 1] - 1;
  }

  /** The op's enum cells of the current line into `ev` (rules.ts); false when the schema path must decide. */
  private enumFields(entry: OpEntry, ev: ByteEvent): boolean {
    const values = enumValues(entry.rule, (f) => {
      const c = entry.fields.find((x) => x.field === f)!.col;
      return c < 0 || this.empty(c) ? undefined : this.cell(c);
    });
    if (typeof values === 'string') return false;
    Object.assign(ev, values);
    return true;
  }

  /** The events as a one-pass iterable that the replay loop can also pull with read(). */
  events(): EventSource {
    return pullSource(
      () => this.read(),
      () => this.readTransient(),
    );
  }
}
