/**
 * DOC: Byte-level CSV reader for trace files
 *
 * The hot path of `svmsim replay big.csv`: data rows are parsed straight from the read buffer in
 * one pass over each row's bytes — times and sizes read as decimal or hex digits into locals,
 * addresses as two 32-bit halves (page and offset without bigint or a double per digit), the op
 * coded from its letters as two small integers and found by two compares — into one reused event
 * object, without decoding the line into a string or splitting it; nothing is allocated per row.
 * Only enum cells become (tiny, latin1) strings. A row cut by the end of the read buffer is tried
 * again after the next read (still cut, after a short read from a pipe: the schema path).
 *
 * Header lines (`#! platform`, comments, the column row) and every row the fast reader does not
 * accept — quotes, units, suffixes, unknown values, out-of-range numbers, time going backwards, a
 * comment or blank line — are decoded as UTF-8 and handed to the
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
  DEC2,
  HEX,
  HEX2,
  OP_RULES,
  type OpRule,
  pagesOf,
} from './rules.js';
import { PID_MAX } from './values.js';
import { ByteLines } from './byte-lines.js';
import type { ByteSource, ReadOptions } from './stream.js';
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
  /** fields.length (a number of the entry: the arrays' hidden classes differ, empty or not). */
  nFields: number;
  /** The rule's size use, unpacked for the hot path. */
  sizeRequired: boolean;
  noSize: boolean;
  defaultSize: number;
}

/**
 * An op name as two small integers, five bits a letter ('a'..'z' -> 1..26, '_' -> 31): the first
 * six letters and the next six. With the length, one-to-one for words of [a-z_] of up to twelve
 * letters (every op; the fused reader computes it while it scans the op cell, so finding the op
 * is two integer compares).
 */
function opCode(name: string): [number, number] {
  let w0 = 0;
  let w1 = 0;
  for (let i = 0; i < name.length; i++) {
    if (i < 6) w0 = (w0 << 5) | (name.charCodeAt(i) & 31);
    else w1 = (w1 << 5) | (name.charCodeAt(i) & 31);
  }
  return [w0, w1];
}

/** The columns that gen, capture and import write, in their order: the canonical layout. */
const CANONICAL = ['t', 'op', 'addr', 'size'];

/**
 * An op as canonicalRow() takes it: with no enum column in the header, its enum fields are their
 * defaults (rules.ts enumValues() with every cell absent), fixed per op. An op that needs a cell
 * (mprotect's prot, gpu_fault's access, xe_madvise's attribute) has none: its rows are errors,
 * which the schema path words.
 *
 * The row loop finds the op from the first twelve bytes of its cell, loaded as three 32-bit
 * words: `x0..x2` are the name and the comma after it (little-endian, zero-padded), `m1`/`m2`
 * the masks of the bytes of words 1 and 2 that belong to them (words past the comma are
 * stale bytes of the row).
 */
class CanonOp {
  /** name.length (a number of the op: no load of the string). */
  readonly len: number;
  readonly x0: number;
  readonly x1: number;
  readonly m1: number;
  readonly x2: number;
  readonly m2: number;
  constructor(
    readonly name: string,
    readonly rule: OpRule,
    readonly sizeRequired: boolean,
    readonly noSize: boolean,
    readonly defaultSize: number,
    /** The enum fields' default values. */
    readonly enums: readonly (readonly [EnumField, string])[],
  ) {
    this.len = name.length;
    const bytes = Buffer.alloc(12);
    const mask = Buffer.alloc(12);
    if (name.length > 0) {
      bytes.write(`${name},`, 'latin1');
      mask.fill(255, 0, name.length + 1);
    }
    this.x0 = bytes.readInt32LE(0);
    this.m1 = mask.readInt32LE(4);
    this.x1 = bytes.readInt32LE(4);
    this.m2 = mask.readInt32LE(8);
    this.x2 = bytes.readInt32LE(8);
  }
}

/** Never matches an op cell (no name starts with four 0 bytes): the empty slots of the op table. */
const NO_OP = new CanonOp('', OP_RULES.mmap, false, false, 0, []);

/**
 * The slot of an op cell in the canonical op table (64 slots) from its first word and the byte
 * after it: the op's first five bytes, which tell every op apart (two of its bytes, at most,
 * past a four-letter name's comma, hence the mask: the comma only).
 */
function opSlot(x0: number, x1: number, mul: number): number {
  return Math.imul(x0 ^ (x1 & 0xff), mul) >>> 26;
}

/**
 * The canonical op table: slot opSlot(x0, x1, mul) holds the op of that cell, for the first
 * multiplier `mul` that gives every op a slot of its own (undefined when none does: then the
 * canonical loop is not used). Ops of more than eleven letters do not fit the three words and
 * are left to fusedRow().
 */
function canonOpTable(): { mul: number; slots: CanonOp[] } | undefined {
  const ops: CanonOp[] = [];
  for (const [name, rule] of Object.entries(OP_RULES) as [string, OpRule][]) {
    const values = enumValues(rule, () => undefined);
    if (typeof values === 'string' || name.length > 11) continue;
    const enums = (Object.entries(values) as [EnumField, string][]).map(([f, v]) => [f, v] as const);
    ops.push(new CanonOp(name, rule, rule.size === 'required', rule.size === 'none', defaultSize(rule), enums));
  }
  for (let i = 0, mul = 0x9e3779b1 | 0; i < 1000; i++, mul = (mul + 0x3c6ef372) | 0) {
    const slots = new Array<CanonOp>(64).fill(NO_OP);
    if (
      ops.every((op) => {
        const i = opSlot(op.x0, op.x1, mul | 1);
        if (slots[i] !== NO_OP) return false;
        slots[i] = op;
        return true;
      })
    )
      return { mul: mul | 1, slots };
  }
  return undefined;
}

const CANON_OPS = canonOpTable();

/**
 * A canonical trace that takes every branch of canonicalRow(): every canonical op, times of 1 to
 * 15 digits, addresses of 1 to 16 hex digits, sizes empty (where the op allows it), decimal and
 * hex, LF and CRLF line ends. Valid rows only (nothing reaches the schema path).
 */
export function warmUpTrace(): string {
  const ops = CANON_OPS!.slots.filter((op) => op !== NO_OP);
  const rows: string[] = ['t,op,addr,size'];
  const digits = '123456789012345';
  const hex = '123456789aBcDeF0';
  let i = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const op of ops) {
      for (const size of [op.sizeRequired ? '1' : '', '4096', '0x1000', '0X2']) {
        const t = digits.slice(0, Math.min(15, 1 + (i >> 2)));
        const addr = `0x${hex.slice(0, 1 + (i % 16))}`;
        rows.push(`${t},${op.name},${addr},${size}${i % 5 === 0 ? '\r' : ''}`);
        i++;
      }
    }
  }
  return `${rows.join('\n')}\n`;
}

let warmedUp = false;

/**
 * Read warmUpTrace() once, before the first canonical trace: V8 optimises canonicalRow() after a
 * few thousand rows, with the type feedback of the branches those rows took. A branch first
 * taken later (a hex size, a time past 2^30, an mmap's enum defaults, a row cut by the end of the
 * read buffer) deoptimises it, and each recompile of the row loop costs ~30 ms of CPU: on the
 * mixed 10M trace, 7 compiles. Taking every branch first leaves one.
 */
function warmUp(): void {
  if (warmedUp) return;
  warmedUp = true;
  const head = Buffer.from(warmUpTrace(), 'latin1');
  const r = new CsvByteReader({ input: { read: () => 0, close: () => undefined }, head }, '<warm-up>');
  while (r.readTransient() !== undefined);
}

/**
 * The first value of the fields that outgrow a small integer (page numbers are >= 2^31, times
 * soon are): -0 is not a small integer, so V8 stores those fields as doubles from the start. (A
 * field that starts at 0 changes its representation at the first big value: a new hidden class
 * for the event, and every optimised function that had seen the old one deoptimised mid-replay.)
 * Never read: every event is filled before it is handed out.
 */
const AS_DOUBLE = -0;

/**
 * An event read from bytes: the core event and the parsed event in one object of one shape
 * (every op-specific field present, undefined where unused), so the model's property accesses
 * stay monomorphic. Display values are computed on demand. The replay loop reads into one
 * ByteEvent again and again (CsvByteReader.readTransient): no allocation per event, and the
 * double fields (page, t) are overwritten in place instead of boxed afresh.
 */
export class ByteEvent implements ParsedEvent {
  op = '';
  t = AS_DOUBLE;
  page = AS_DOUBLE;
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

  get sizeNumber(): number {
    return this.sizeBytes;
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

export class CsvByteReader extends ByteLines {
  platform: Partial<Platform> = {};
  /** The trace's `#! expect` block, for svmsim test. */
  expect?: TraceExpect;
  count = 0;
  /** When set, a bad line is reported here and skipped instead of ending the read. */
  onError?: (e: TraceInputError) => void;
  private cols: string[] = [];
  private ix: Record<string, number> = {};
  private other = false;
  private opIx = -1;
  private addrIx = -1;
  /** The ops for this header (their enum columns), grouped by name length. */
  private readonly opsByLength: OpEntry[][] = [];
  private readonly cut: Int32Array;
  private readonly cur = newCursor();

  constructor(source: ByteSource, file: string, counter?: { bytes: number }, opts: ReadOptions = {}) {
    super(source, file, counter);
    this.readHeader();
    this.cut = new Int32Array(2 * this.cols.length);
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
    this.canonical =
      this.fusable &&
      CANON_OPS !== undefined &&
      this.cols.length === CANONICAL.length &&
      this.cols.every((c, i) => c === CANONICAL[i]);
    if (this.canonical) warmUp();
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
        nFields: fields.length,
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
  /** Whether the header is the canonical t,op,addr,size (canonicalRow()). */
  private readonly canonical: boolean;

  /**
   * The fused reader for the canonical layout t,op,addr,size — what gen, capture and import
   * write, so nearly every big trace — as straight-line code: each cell scanned by its own loop,
   * numbers in locals, the op found in a table by its code; no per-cell role, no enum cell, no
   * pid. It takes only the common row: a decimal time of 1..15 digits not before the last, an op
   * of [a-z_], 0x and 1..16 hex digits, a size empty, of 1..15 decimal digits or 0x and 1..13 hex
   * digits, LF or CRLF. Anything else — an empty time, a cell it does not know, a row cut by the
   * end of the buffer — goes with the reader unchanged to otherRow(): fusedRow(), then the schema
   * path, read the row by the same rules, so the same event or error. (It is the whole of
   * nextEvent() for the canonical layout, and the replay loop calls it bound to the reader: one
   * call a row, where a wrapper around it, not inlined into the loop, cost ~7 ns a row.)
   */
  private canonicalRow(into: ByteEvent): ParsedEvent | undefined {
    // One pass: `break` leaves a row this loop does not take to otherRow(), from one call site
    // (which the warm-up reaches: a call first reached after V8 optimised this would deoptimise it).
    for (;;) {
      const buf = this.buf;
      const words = this.words;
      const table = CANON_OPS!;
      let k = this.start;
      // t: decimal, four digits a load (DEC2: two digits a lookup), then two, then one
      const s0 = k;
      let t = 0;
      let x = words.getInt32(k, true);
      let lo = DEC2[x & 0xffff];
      let hi = DEC2[x >>> 16];
      while ((lo | hi) >= 0) {
        t = t * 10000 + (lo * 100 + hi);
        k += 4;
        x = words.getInt32(k, true);
        lo = DEC2[x & 0xffff];
        hi = DEC2[x >>> 16];
      }
      if (lo >= 0) {
        t = t * 100 + lo;
        k += 2;
      }
      let b = buf[k];
      if (b >= 48 && b <= 57) {
        t = t * 10 + (b - 48);
        b = buf[++k];
      }
      if (b !== 44 || k === s0 || k - s0 > 15 || t < this.cur.t) break;
      // op: its name and the comma, compared word by word with the op of its slot
      k++;
      const x0 = words.getInt32(k, true);
      const x1 = words.getInt32(k + 4, true);
      const op = table.slots[opSlot(x0, x1, table.mul)];
      if (op.x0 !== x0 || (x1 & op.m1) !== op.x1 || (words.getInt32(k + 8, true) & op.m2) !== op.x2) break;
      k += op.len + 1;
      // addr: 0x and 1..16 hex digits (four a load, then two, then one), as bits 63..32 and 31..0
      if (buf[k] !== 48 || (buf[k + 1] | 32) !== 120) break;
      k += 2;
      const s2 = k;
      let ahi = 0;
      let alo = 0;
      x = words.getInt32(k, true);
      lo = HEX2[x & 0xffff];
      hi = HEX2[x >>> 16];
      while ((lo | hi) >= 0) {
        ahi = (ahi << 16) | (alo >>> 16);
        alo = (alo << 16) | (lo << 8) | hi;
        k += 4;
        x = words.getInt32(k, true);
        lo = HEX2[x & 0xffff];
        hi = HEX2[x >>> 16];
      }
      if (lo >= 0) {
        ahi = (ahi << 8) | (alo >>> 24);
        alo = (alo << 8) | lo;
        k += 2;
      }
      let d = HEX[buf[k]];
      if (d >= 0) {
        ahi = (ahi << 4) | (alo >>> 28);
        alo = (alo << 4) | d;
        k++;
      }
      if (buf[k] !== 44 || k === s2 || k - s2 > 16) break;
      // size: empty, decimal, or 0x and hex digits — one loop for both bases, the prefix found
      // without a branch (no code path here waits for its first row until after V8 optimised it)
      const s3 = ++k;
      const hex = ((buf[k] ^ 48) | ((buf[k + 1] | 32) ^ 120)) === 0 ? 1 : 0;
      const base = 10 + 6 * hex;
      k += 2 * hex;
      let size = 0;
      d = HEX[buf[k]];
      while (d >= 0 && d < base) {
        size = size * base + d;
        d = HEX[buf[++k]];
      }
      const sizeLen = k - s3;
      // the line end: LF or CRLF (the sentinel 0 after the data is neither)
      b = buf[k];
      const crlf = b === 13 && buf[k + 1] === 10 ? 1 : 0;
      if (b !== 10 && crlf === 0) break;
      if (sizeLen > 15 || (sizeLen <= 2 * hex && hex === 1)) break;
      const sizeEmpty = sizeLen === 0;
      if (!sizeEmpty && size === 0) break; // the schema path reports it

      if (sizeEmpty ? op.sizeRequired : op.noSize) break;
      if (sizeEmpty) size = op.defaultSize;
      const offset = alo & 4095;
      const page = (ahi >>> 0) * 1048576 + (alo >>> 12);
      const npages = pagesOf(op.rule, offset, size);
      if (!fastSpanOk(page, npages)) break;
      const line = this.line + 1;
      const ev = into.fill(op.name, t, page, offset, npages, (size & 4095) === 0, line, sizeEmpty ? 0 : size);
      const enums = op.enums;
      for (let i = 0; i < enums.length; i++) ev[enums[i][0]] = enums[i][1];
      this.start = k + 1 + crlf;
      this.line = line;
      this.cur.t = t;
      this.count++;
      return ev;
    }
    return this.otherRow(into);
  }

  /**
   * The fused fast path: parses the next line in one pass over its bytes — numbers built in
   * locals, the op coded from its letters, the address as two 32-bit halves (no bigint, no double
   * arithmetic per digit) — and fills `into`. Returns undefined, with the reader's position
   * unchanged, for anything it does not accept — a blank or comment line, a line not wholly in
   * the buffer, any unusual cell — and read() then takes the line through scanLine() and the
   * schema path, which decide it exactly.
   */
  private fusedRow(into: ByteEvent): ByteEvent | undefined {
    const buf = this.buf;
    const cut = this.cut;
    const roles = this.roles;
    const n = roles.length;
    const start = this.start;
    if (start >= this.end) return undefined;
    let k = start;
    let t = this.cur.t;
    // the address: bits 63..32 and 31..0
    let ahi = 0;
    let alo = 0;
    let size = -1;
    let pid = -1;
    let w0 = 0;
    let w1 = 0;
    let opLen = 0;
    let words = 0;
    for (let c = 0; c < n; c++) {
      const s = k;
      const role = roles[c];
      if (role === R_OP) {
        // lower-case letters and '_', coded as opCode() does
        let b = buf[k];
        while ((b >= 97 && b <= 122) || b === 95) {
          if (k - s < 6) w0 = (w0 << 5) | (b & 31);
          else w1 = (w1 << 5) | (b & 31);
          b = buf[++k];
        }
        opLen = k - s;
      } else if (role === R_ADDR) {
        // 0x + 1..16 hex digits
        if (buf[k] !== 48 || (buf[k + 1] | 32) !== 120) return undefined;
        k += 2;
        let d = HEX[buf[k]];
        while (d >= 0) {
          ahi = (ahi << 4) | (alo >>> 28);
          alo = (alo << 4) | d;
          d = HEX[buf[++k]];
        }
        if (k === s + 2 || k - s > 18) return undefined;
      } else if (role === R_WORD) {
        // an enum value: lower-case letters and '_' (its bounds for enumFields())
        let b = buf[k];
        while ((b >= 97 && b <= 122) || b === 95) b = buf[++k];
        cut[2 * c] = s;
        cut[2 * c + 1] = k;
        if (k > s) words++;
      } else {
        // A number: t, pid or size in decimal, or a size in hex after 0x. One loop for both
        // bases and the prefix found without a branch: every operation here runs on every row,
        // so the optimised code never meets one without type feedback (a hex size first seen
        // after V8 optimised this function cost a deoptimisation and a recompile, tens of ms).
        const hex = (((buf[k] ^ 48) | ((buf[k + 1] | 32) ^ 120)) === 0 ? 1 : 0) & (role === R_SIZE ? 1 : 0);
        const base = 10 + 6 * hex;
        k += 2 * hex;
        let v = 0;
        let d = HEX[buf[k]];
        while (d >= 0 && d < base) {
          v = v * base + d;
          d = HEX[buf[++k]];
        }
        const len = k - s;
        if (len <= 2 * hex) {
          if (hex === 1) return undefined; // 0x without digits
        } else {
          const isT = role === R_T;
          const isPid = role === R_PID;
          // at most 15 decimal digits, or 0x and 13 hex digits (a pid: 10 digits)
          if (len > (isPid ? 10 : 15)) return undefined;
          if (isT) {
            if (v < t) return undefined;
            t = v;
          } else if (isPid) {
            if (v < 1 || v > PID_MAX) return undefined;
            pid = v;
          } else size = v;
        }
      }
      if (c < n - 1) {
        if (buf[k] !== 44) return undefined;
        k++;
      }
    }
    // every cell, then the line end: LF or CRLF (the sentinel 0 at the end of the data is
    // neither: a row cut by the end of the buffer, and a last line without a line end, which the
    // schema path reads)
    let next: number;
    const b = buf[k];
    const crlf = b === 13 && buf[k + 1] === 10; // (on every row: see the note on numbers above)
    if (b === 10) next = k + 1;
    else if (crlf) next = k + 2;
    else return undefined;

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
    if (size === 0) return undefined; // the schema path reports it
    const sizeEmpty = size < 0;
    // (all three loaded on every row: see the note on numbers above)
    const required = entry.sizeRequired;
    const none = entry.noSize;
    const byDefault = entry.defaultSize;
    if (sizeEmpty ? required : none) return undefined;
    if (sizeEmpty) size = byDefault;
    const offset = alo & 4095;
    const page = (ahi >>> 0) * 1048576 + (alo >>> 12);
    const npages = pagesOf(entry.rule, offset, size);
    if (!fastSpanOk(page, npages)) return undefined;
    const ev = into.fill(entry.name, t, page, offset, npages, size % 4096 === 0, this.line + 1, sizeEmpty ? 0 : size);
    if (pid > 0) ev.pid = pid;
    // The enum cells, when the row has any or the op takes some, are read by the caller: no call
    // here waits for its first row until after V8 has optimised this function.
    this.enumEntry = words > 0 || entry.nFields > 0 ? entry : undefined;
    this.lineStart = start;
    this.lineEnd = k;
    this.start = next;
    this.line++;
    this.prevT = this.cur.t;
    this.cur.t = t;
    return ev;
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

  /** The op of the row fusedRow() read when its enum cells are still to read (enumFields()). */
  private enumEntry: OpEntry | undefined = undefined;
  /** The time before that row (to go back to it). */
  private prevT = AS_DOUBLE;

  /** The one event object of readTransient(). */
  private readonly slot = new ByteEvent();

  private nextEvent(into: ByteEvent): ParsedEvent | undefined {
    return this.canonical ? this.canonicalRow(into) : this.otherRow(into);
  }

  /** The replay loop's reader: canonicalRow() into the reused event, without a wrapper. */
  protected override transientReader(): () => ParsedEvent | undefined {
    return this.canonical ? this.canonicalRow.bind(this, this.slot) : super.transientReader();
  }

  /** The next event of a row canonicalRow() does not take, or of a header that is not canonical. */
  private otherRow(into: ByteEvent): ParsedEvent | undefined {
    // A canonical row cut by the end of the buffer: read on, and when it is whole, give it to
    // canonicalRow() again (once: it comes back here if it still does not take it). A clean
    // canonical trace then never runs fusedRow(), which V8 would otherwise compile for it.
    if (this.canonical && !this.eof && this.view.indexOf(10, this.start) < 0) {
      this.fill();
      if (this.view.indexOf(10, this.start) >= 0) return this.canonicalRow(into);
    }
    if (this.fusable) {
      let ev = this.fusedRow(into);
      // A row cut by the end of the buffer: read on, and try it again whole.
      if (ev === undefined && !this.eof && this.view.indexOf(10, this.start) < 0) {
        this.fill();
        ev = this.fusedRow(into);
      }
      if (ev !== undefined) {
        const entry = this.enumEntry;
        if (entry === undefined || this.enumFields(entry, ev)) {
          this.count++;
          return ev;
        }
        // an enum cell the fast path does not decide: back to the start of the row, for the schema path
        this.start = this.lineStart;
        this.line--;
        this.cur.t = this.prevT;
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

  /** The enum cell of column `i` of the current line (the fused reader's bounds). */
  private cell(i: number): string {
    return this.buf.toString('latin1', this.cut[2 * i], this.cut[2 * i + 1]);
  }

  private empty(i: number): boolean {
    return this.cut[2 * i] === this.cut[2 * i + 1];
  }

  /**
   * The op's enum cells of the current line into `ev` (rules.ts), the columns of enum fields it
   * does not take empty; false when the schema path must decide.
   */
  private enumFields(entry: OpEntry, ev: ByteEvent): boolean {
    const foreign = entry.foreign;
    for (let i = 0; i < foreign.length; i++) if (!this.empty(foreign[i])) return false;
    if (entry.fields.length === 0) return true;
    const values = enumValues(entry.rule, (f) => {
      const c = entry.fields.find((x) => x.field === f)!.col;
      return c < 0 || this.empty(c) ? undefined : this.cell(c);
    });
    if (typeof values === 'string') return false;
    Object.assign(ev, values);
    return true;
  }
}
