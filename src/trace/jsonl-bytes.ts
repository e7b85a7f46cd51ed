/**
 * DOC: Byte-level JSONL reader for trace files
 *
 * The hot path of `svmsim replay big.jsonl`: an event line such as
 * `{"t":1200,"op":"gpu_read","addr":"0x7f0000201000"}` is read in one pass over the bytes of the
 * read buffer — keys in any order, spaces and tabs between tokens, keys and words matched by a
 * numeric code of their letters, times, sizes and pids as decimal or hex digits, addresses split
 * into page and offset digit by digit — straight into one reused event object (the `ByteEvent` of
 * csv-bytes.ts), without decoding the line to a string, JSON.parse or a bigint.
 *
 * It accepts only a strict subset of what the schema accepts, the forms recordings use:
 * - keys: `t`, `op`, `addr`, `size`, `pid`, `comment` and the op's enum fields, each once;
 * - `t`: a JSON integer or a string of decimal digits (at most 15 digits: below 2^53);
 * - `addr`: a string `0x` + 1..16 hex digits, or a JSON integer of at most 15 digits;
 * - `size`: a JSON integer or decimal string (at most 15 digits), or `0x` + 1..13 hex digits;
 * - `pid`: a JSON integer or a string of at most 10 digits, 1..PID_MAX;
 * - `op` and enum values: words of the rules tables (rules.ts); `comment`: printable ASCII.
 * Every other line — blank, `//` comments, the header, escapes, non-ASCII bytes, unknown or
 * repeated keys, units and suffixes, JSON fractions and exponents, values out of range, time
 * going backwards, a line cut at the end of the read buffer — is decoded as UTF-8 and handed,
 * unchanged, to the line reader of stream.ts (TraceReader: fast.ts, then JSON.parse and the zod
 * schema), which gives the same event or the error with its line. So errors and edge cases have
 * one implementation. (A `#` comment line after the first event is skipped here, undecoded, as
 * the line reader would skip it: imported traces interleave many.) The property tests
 * (test/trace/jsonl-bytes.test.ts) compare the two paths on random lines, key orders, white
 * space, chunk boundaries, CRLF, non-ASCII and invalid lines.
 */

import type { Platform } from '../core/platform.js';
import { asByteEvent, ByteEvent } from './csv-bytes.js';
import type { EventCursor, ParsedEvent, TraceExpect, TraceInputError } from './parse.js';
import {
  defaultSize,
  ENUM_FIELDS,
  ENUMS,
  enumValues,
  type EnumField,
  fastSpanOk,
  HEX,
  OP_NAMES,
  OP_RULES,
  type OpRule,
  pagesOf,
} from './rules.js';
import { ByteLines } from './byte-lines.js';
import { type ByteSource, type LineSource, type ReadOptions, TraceReader } from './stream.js';
import { PID_MAX } from './values.js';

/**
 * A word of [a-z_] as two numbers, five bits a letter ('a'..'z' -> 1..26, '_' -> 31): the first
 * eight letters and the rest. With the length, one-to-one for the words of the rules tables (at
 * most eleven letters), as JsonlByteReader.word() computes it while it scans.
 */
function wordCode(word: string): [number, number] {
  let w0 = 0;
  let w1 = 0;
  for (let i = 0; i < word.length; i++) {
    if (i < 8) w0 = w0 * 32 + (word.charCodeAt(i) & 31);
    else w1 = w1 * 32 + (word.charCodeAt(i) & 31);
  }
  return [w0, w1];
}

/**
 * Words of [a-z_] found by length and wordCode(): the reader computes the code while it scans a
 * word, so finding it is two number compares. Gives the word's index, or -1.
 */
class Words {
  private readonly byLength: { w0: number; w1: number; index: number }[][] = [];
  constructor(words: readonly string[]) {
    words.forEach((w, index) => {
      const [w0, w1] = wordCode(w);
      (this.byLength[w.length] ??= []).push({ w0, w1, index });
    });
  }

  find(length: number, w0: number, w1: number): number {
    const list = this.byLength[length];
    if (list === undefined) return -1;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e.w0 === w0 && e.w1 === w1) return e.index;
    }
    return -1;
  }
}

/** The keys of an event line; an enum field's key is K_ENUM + its index in ENUM_FIELDS. */
const KEYS = ['t', 'op', 'addr', 'size', 'pid', 'comment', ...ENUM_FIELDS];
const K_T = 0;
const K_OP = 1;
const K_ADDR = 2;
const K_SIZE = 3;
const K_PID = 4;
const K_COMMENT = 5;
const K_ENUM = 6;

/**
 * A key's letters as one number, five bits a letter ('a'..'z' -> 1..26), which the reader computes
 * as it scans the key: exact and one-to-one for words of up to ten letters (the longest key has
 * nine, below 2^45); a longer word codes to 2^50 or more, so it never equals a key's code.
 */
function keyCode(key: string): number {
  let c = 0;
  for (let i = 0; i < key.length; i++) c = c * 32 + (key.charCodeAt(i) & 31);
  return c;
}
const KEY_CODES = KEYS.map(keyCode);
const C_T = keyCode('t');
const C_OP = keyCode('op');
const C_ADDR = keyCode('addr');
const C_SIZE = keyCode('size');

/** The key of a code (keyCode()), or -1. */
function keyOf(code: number): number {
  return KEY_CODES.indexOf(code);
}
const ENUM_WORDS = ENUM_FIELDS.map((f) => new Words(ENUMS[f].values));

/** An op with its rule, unpacked for the hot path. */
interface OpEntry {
  name: string;
  rule: OpRule;
  /** Bits (1 << key) of the enum keys the op takes. */
  enumKeys: number;
  hasEnums: boolean;
  sizeRequired: boolean;
  noSize: boolean;
  defaultSize: number;
}

const OPS: OpEntry[] = OP_NAMES.map((name) => {
  const rule: OpRule = OP_RULES[name];
  let enumKeys = 0;
  ENUM_FIELDS.forEach((f, i) => {
    if (Object.hasOwn(rule.fields, f)) enumKeys |= 1 << (K_ENUM + i);
  });
  return {
    name,
    rule,
    enumKeys,
    hasEnums: enumKeys !== 0,
    sizeRequired: rule.size === 'required',
    noSize: rule.size === 'none',
    defaultSize: defaultSize(rule),
  };
});
const OP_WORDS = new Words(OP_NAMES);
const ALL_ENUM_KEYS = ((1 << ENUM_FIELDS.length) - 1) << K_ENUM;

/** Characters that are not part of a word, a number or a hex string end their scan. */
function isWordByte(b: number): boolean {
  return (b >= 97 && b <= 122) || b === 95;
}

export class JsonlByteReader extends ByteLines implements LineSource {
  /** The line reader: the header, and every line the byte path does not accept. */
  private readonly lines: TraceReader;
  private readonly cur: EventCursor;
  /** Whether the byte path runs (off for `fast: false`, and while the line reader holds a line it read ahead). */
  private fused = false;
  private readonly fast: boolean;
  /** Scratch of one word scan: its code (wordCode()). */
  private w0 = 0;
  private w1 = 0;
  /** Scratch of one number scan: its value. */
  private num = 0;
  /** The index of each enum field's value in the current line (ENUMS[f].values). */
  private readonly enumIx = new Int32Array(ENUM_FIELDS.length);

  constructor(source: ByteSource, file: string, counter?: { bytes: number }, opts: ReadOptions = {}) {
    super(source, file, counter);
    this.fast = opts.fast ?? true;
    this.lines = new TraceReader(this, file, opts);
    this.cur = this.lines.cur;
    this.fused = this.fast && !this.lines.holdsLine;
  }

  get platform(): Partial<Platform> {
    return this.lines.platform;
  }

  get expect(): TraceExpect | undefined {
    return this.lines.expect;
  }

  get onError(): ((e: TraceInputError) => void) | undefined {
    return this.lines.onError;
  }

  /** When set, a bad line is reported here and skipped instead of ending the read. */
  set onError(f: ((e: TraceInputError) => void) | undefined) {
    this.lines.onError = f;
  }

  /** The next line as text (LineSource: the line reader's way in), or undefined at the end. */
  next(): string | undefined {
    if (!this.nextLine()) return undefined;
    const text = this.buf.toString('utf8', this.lineStart, this.lineEnd);
    return this.line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  /** The next event, or undefined at the end of the trace. */
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

  private readonly slot = new ByteEvent();

  private nextEvent(into: ByteEvent): ParsedEvent | undefined {
    for (;;) {
      if (this.fused) {
        const ev = this.eventLine(into);
        if (ev !== undefined) {
          this.lines.count++;
          return ev;
        }
      } else this.fused = this.fast; // the line read ahead is taken now
      if (this.fused && this.buf[this.start] === 35 && this.lines.count > 0) {
        // A '#' comment line, which the line reader would skip too: skipped without decoding it.
        // (Not before the first event: a trace of only comments is "no events" at its last line.)
        this.nextLine();
        continue;
      }
      const pe = this.lines.readLine();
      if (pe !== null) return pe === undefined ? undefined : asByteEvent(pe, into);
    }
  }

  /** Skip spaces and tabs from `k`; the position of the first other byte. */
  private ws(k: number): number {
    const buf = this.buf;
    let b = buf[k];
    while (b === 32 || b === 9) b = buf[++k];
    return k;
  }

  /** A word of [a-z_] from `k` up to a quote: its code in w0/w1; the position of the quote, or -1. */
  private word(k: number): number {
    const buf = this.buf;
    const s = k;
    let w0 = 0;
    let w1 = 0;
    let b = buf[k];
    while (isWordByte(b)) {
      if (k - s < 8) w0 = w0 * 32 + (b & 31);
      else w1 = w1 * 32 + (b & 31);
      b = buf[++k];
    }
    this.w0 = w0;
    this.w1 = w1;
    return b === 34 ? k : -1;
  }

  /**
   * Decimal digits from `k`, at most `max` of them: the value in `num`; the position after
   * them, or -1 (none, too many, or a JSON number with a leading zero, which JSON refuses).
   */
  private digits(k: number, max: number, json: boolean): number {
    const buf = this.buf;
    const s = k;
    let v = 0;
    let d = buf[k] - 48;
    while (d >= 0 && d <= 9) {
      v = v * 10 + d;
      d = buf[++k] - 48;
    }
    const len = k - s;
    if (len === 0 || len > max || (json && len > 1 && buf[s] === 48)) return -1;
    this.num = v;
    return k;
  }

  /** A value of digits: a JSON integer, or a string of decimal digits. The position after it, or -1. */
  private decimal(k: number, max: number): number {
    if (this.buf[k] !== 34) return this.digits(k, max, true);
    k = this.digits(k + 1, max, false);
    return k >= 0 && this.buf[k] === 34 ? k + 1 : -1;
  }

  /**
   * The byte path: one event line from the buffer into `into`. Returns undefined, with the reader's
   * position unchanged, for any line it does not fully recognise; the line reader then decides it.
   */
  private eventLine(into: ByteEvent): ParsedEvent | undefined {
    const buf = this.buf;
    let k = this.start;
    let b = buf[k];
    if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
    if (b !== 123) return undefined; // '{'
    b = buf[++k];
    if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
    let seen = 0;
    let t = this.cur.t;
    let page = 0;
    let offset = 0;
    let size = -1;
    let pid = -1;
    let op = -1;
    for (;;) {
      // "key": its letters as one number (keyCode())
      if (b !== 34) return undefined;
      let code = 0;
      b = buf[++k];
      while (b >= 97 && b <= 122) {
        code = code * 32 + (b & 31);
        b = buf[++k];
      }
      if (b !== 34) return undefined;
      const key =
        code === C_T ? K_T : code === C_OP ? K_OP : code === C_ADDR ? K_ADDR : code === C_SIZE ? K_SIZE : keyOf(code);
      if (key < 0 || (seen & (1 << key)) !== 0) return undefined;
      seen |= 1 << key;
      b = buf[++k];
      if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
      if (b !== 58) return undefined; // ':'
      b = buf[++k];
      if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
      if (key === K_ADDR) {
        if (b === 34) {
          // "0x" + 1..16 hex digits; page = all but the last three digits, offset = those
          if (buf[k + 1] !== 48 || (buf[k + 2] | 32) !== 120) return undefined;
          const s = k + 3;
          k = s;
          let d = HEX[buf[k]];
          while (d >= 0) {
            page = page * 16 + (offset >>> 8);
            offset = ((offset & 0xff) << 4) | d;
            d = HEX[buf[++k]];
          }
          if (k === s || k - s > 16 || buf[k] !== 34) return undefined;
          k++;
        } else {
          k = this.digits(k, 15, true);
          if (k < 0) return undefined;
          offset = this.num % 4096;
          page = (this.num - offset) / 4096;
        }
      } else if (key === K_OP) {
        if (b !== 34) return undefined;
        const s = k + 1;
        k = this.word(s);
        if (k < 0) return undefined;
        op = OP_WORDS.find(k - s, this.w0, this.w1);
        if (op < 0) return undefined;
        k++;
      } else if (key === K_T) {
        if (b >= 49 && b <= 57) {
          // a JSON integer (no leading zero), the common case
          const s = k;
          let v = b - 48;
          let d = buf[++k] - 48;
          while (d >= 0 && d <= 9) {
            v = v * 10 + d;
            d = buf[++k] - 48;
          }
          if (k - s > 15) return undefined;
          t = v;
        } else {
          k = this.decimal(k, 15);
          if (k < 0) return undefined;
          t = this.num;
        }
        if (t < this.cur.t) return undefined; // backwards: the line reader reports it
      } else if (key === K_SIZE) {
        if (b === 34 && buf[k + 1] === 48 && (buf[k + 2] | 32) === 120) {
          const s = k + 3;
          k = s;
          let v = 0;
          let d = HEX[buf[k]];
          while (d >= 0) {
            v = v * 16 + d;
            d = HEX[buf[++k]];
          }
          if (k === s || k - s > 13 || buf[k] !== 34) return undefined;
          k++;
          size = v;
        } else {
          k = this.decimal(k, 15);
          if (k < 0) return undefined;
          size = this.num;
        }
        if (size === 0) return undefined; // the line reader reports it
      } else if (key === K_PID) {
        k = this.decimal(k, 10);
        if (k < 0 || this.num < 1 || this.num > PID_MAX) return undefined;
        pid = this.num;
      } else if (key === K_COMMENT) {
        // printable ASCII without escapes
        if (b !== 34) return undefined;
        b = buf[++k];
        while (b >= 32 && b < 127 && b !== 34 && b !== 92) b = buf[++k];
        if (b !== 34) return undefined;
        k++;
      } else {
        const f = key - K_ENUM;
        if (b !== 34) return undefined;
        const s = k + 1;
        k = this.word(s);
        if (k < 0) return undefined;
        const v = ENUM_WORDS[f].find(k - s, this.w0, this.w1);
        if (v < 0) return undefined;
        this.enumIx[f] = v;
        k++;
      }
      b = buf[k];
      if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
      if (b === 125) break; // '}'
      if (b !== 44) return undefined; // ','
      b = buf[++k];
      if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
    }
    // '}', then the line end: LF, CRLF, or the end of the file
    b = buf[++k];
    if (b === 32 || b === 9) b = buf[(k = this.ws(k))];
    let next: number;
    if (b === 10) next = k + 1;
    else if (b === 13 && buf[k + 1] === 10 && k + 1 < this.end) next = k + 2;
    else if (k === this.end && this.eof) next = k;
    else return undefined;

    if (op < 0 || (seen & (1 << K_ADDR)) === 0) return undefined;
    const entry = OPS[op];
    if ((seen & ALL_ENUM_KEYS & ~entry.enumKeys) !== 0) return undefined; // a field the op does not take
    const sizeBytes = Math.max(size, 0);
    if (size < 0) {
      if (entry.sizeRequired) return undefined;
      size = entry.defaultSize;
    } else if (entry.noSize) return undefined;
    const npages = pagesOf(entry.rule, offset, size);
    if (!fastSpanOk(page, npages)) return undefined;
    const ev = into.fill(entry.name, t, page, offset, npages, size % 4096 === 0, this.line + 1, sizeBytes);
    if (entry.hasEnums && !this.enumFields(entry, seen, ev)) return undefined;
    if (pid > 0) ev.pid = pid;
    this.start = next;
    this.line++;
    this.cur.t = t;
    return ev;
  }

  /** The op's enum fields of the current line into `ev` (rules.ts); false when the line reader must decide. */
  private enumFields(entry: OpEntry, seen: number, ev: ByteEvent): boolean {
    const values = enumValues(entry.rule, (f: EnumField) => {
      const i = ENUM_FIELDS.indexOf(f);
      return (seen & (1 << (K_ENUM + i))) === 0 ? undefined : ENUMS[f].values[this.enumIx[i]];
    });
    if (typeof values === 'string') return false;
    Object.assign(ev, values);
    return true;
  }
}
