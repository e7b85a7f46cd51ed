/**
 * DOC: JSON text without intermediate objects (the `--format json` / `jsonl` hot path)
 *
 * `--format json` prints every event as `JSON.stringify(eventJson(...), null, 2)` indented under
 * "events"; `--format jsonl` as `JSON.stringify(eventJson(...))` on one line. Building those
 * objects and strings cost most of a JSON replay. These writers produce the same bytes directly
 * from the event and its decisions: the same key order, the same conversion as decisionJson()
 * (page-valued keys to 0x byte addresses, bigints to numbers, undefined fields left out),
 * JSON.stringify's layouts.
 *
 * Records are written as UTF-8 bytes into one reusable buffer (JsonOut), handed to the output in
 * large chunks: no string, object or JSON.stringify per record. Numbers and 0x addresses are
 * written from page numbers (no bigint, no string; the event's own address too, from the echo's
 * page and offset when the replay gives them), two digits at a time from tables (DEC2, HEX2);
 * plain ASCII strings are copied in place, enum values and constant keys are compiled into stores.
 *
 * The event record and each decision code have a writer compiled once per layout (new Function)
 * from the DECISIONS registry (src/core/decisions.ts): it reserves room for the record's bounded
 * part, reads the code's fields by name in registry order and writes each with a conversion chosen
 * by the field's kind and key (guarded by a type check; anything unexpected goes through the
 * generic string writer, value()). The conversions are inline code in the writer's body, not
 * calls (see "Inline code" below). A code the registry does not know uses the generic writer.
 * Property tests check the writers against the plain path on random traces for every kernel
 * profile and on random records of every code, with any buffer size (test/report/json-fast.test.ts,
 * test/report/output-paths.test.ts).
 */

import { DECISIONS, type Decision, type EventResult, type FieldSpec, Span } from '../core/decisions.js';
import type { FinalState } from '../core/simulator.js';
import { OP_NAMES } from '../trace/rules.js';
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
// Bytes: pure writers of one value at a position (`put*(b, p, x)` returns the position after it)

/** ASCII codes of the hex digits. */
const HEXC = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Most bytes one put*() of a number, page or address writes (JSON numbers are at most 25 characters). */
const NUM_MAX = 32;
/** The size of JsonOut's buffer: the chunks the output gets (one write each). */
const OUT_CHUNK = 1 << 20;
/** Strings up to this many bytes are copied in place; longer ones through JsonOut.bytes. */
const STR_MAX = 64;

/** Constant bytes. */
function put(b: Uint8Array, p: number, k: Uint8Array): number {
  const n = k.length;
  for (let i = 0; i < n; i++) b[p + i] = k[i];
  return p + n;
}

/** An ASCII string. */
function putAscii(b: Uint8Array, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  return p + n;
}

/** Two ASCII decimal digits of 0-99 at 2i, 2i+1. */
const DEC2 = new Uint8Array(200);
/** Two ASCII hex digits of a byte at 2i, 2i+1. */
const HEX2 = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  if (i < 100) {
    DEC2[2 * i] = 48 + ((i / 10) | 0);
    DEC2[2 * i + 1] = 48 + (i % 10);
  }
  HEX2[2 * i] = HEXC[i >> 4];
  HEX2[2 * i + 1] = HEXC[i & 15];
}

// Inline code: the number and address conversions as JavaScript text, written into the body of
// each compiled writer, so that a record's numbers and addresses cost no call per value (V8's
// inlining budget runs out after two helpers per record) and no boxed double per call (page
// numbers are above 2^31). Each piece writes at `b`/`p` (the writer's buffer and position, within
// its reserved room), declares its locals in a block of its own, and reads the tables D (DEC2),
// X (HEX2) and XC (HEXC) of the writer's closure. The helpers of the rare paths (putNum, putHex)
// are compiled from the same pieces: one algorithm per conversion.

/** The closure of every compiled writer: the tables, and the helpers (H) for the rare cases. */
const CLOSURE =
  'const D = H.DEC2, X = H.HEX2, XC = H.HEXC, PK = H.PAGE_KEYS_SEEN, PT = H.PAGE_TEXTS, F = H.SLOT, PS = H.pageSlot, SP = H.Span, SM = H.putSmall;';

/**
 * `while (cond) step` for at most `n` rounds, as nested ifs: the inline code has no loop, so V8
 * never gives a compiled writer on-stack-replacement code. (A writer that a deoptimization left
 * with only OSR code was not optimized again in some runs: it ran unoptimized to the end, up to
 * 3x the CPU time of a whole replay.)
 */
function unrolled(n: number, cond: string, step: string): string {
  return n === 0 ? '' : `if (${cond}) { ${step} ${unrolled(n - 1, cond, step)} }`;
}

/**
 * Decimal digits of the integer in local `x` (0 <= x < 10^8; x is consumed), two at a time from
 * a table, dividing by 100 as a multiplication: x * 0.01 is within 10^8 * 2^-52 of x / 100, far
 * less than the 0.005 added (checked for every x < 10^8).
 */
function dec8Code(x: string): string {
  return `{ const e_ = p + (${x} < 10000 ? (${x} < 100 ? (${x} < 10 ? 1 : 2) : ${x} < 1000 ? 3 : 4) : ${x} < 1000000 ? (${x} < 100000 ? 5 : 6) : ${x} < 10000000 ? 7 : 8); let i_ = e_;
${unrolled(3, `${x} >= 100`, `const q_ = (${x} * 0.01 + 0.005) | 0; const r_ = 2 * (${x} - q_ * 100); b[i_ - 2] = D[r_]; b[i_ - 1] = D[r_ + 1]; i_ -= 2; ${x} = q_;`)}
if (${x} >= 10) { b[i_ - 2] = D[2 * ${x}]; b[i_ - 1] = D[2 * ${x} + 1]; } else b[i_ - 1] = 48 + ${x};
p = e_; }`;
}

/** Exactly 8 decimal digits (zero-padded) of the integer in `x` (0 <= x < 10^8). */
function pad8Code(x: string): string {
  const pair = (v: string, at: number) => `b[p + ${at}] = D[2 * ${v}]; b[p + ${at + 1}] = D[2 * ${v} + 1];`;
  return `{ const h_ = (${x} * 0.0001 + 0.00005) | 0; const l_ = ${x} - h_ * 10000;
const a_ = (h_ * 0.01 + 0.005) | 0, c_ = h_ - a_ * 100, d_ = (l_ * 0.01 + 0.005) | 0, f_ = l_ - d_ * 100;
${pair('a_', 0)} ${pair('c_', 2)} ${pair('d_', 4)} ${pair('f_', 6)} p += 8; }`;
}

/** The number `v` (an expression without side effects) as JSON.stringify writes it (the rest: putNumSlow()). */
function numCode(v: string): string {
  return `if (${v} >= 0 && ${v} < 9007199254740992 && Math.floor(${v}) === ${v}) {
let n_ = ${v};
if (n_ >= 100000000) { let g_ = Math.floor(n_ / 100000000); let m_ = n_ - g_ * 100000000; if (m_ < 0) { g_ -= 1; m_ += 100000000; } ${dec8Code('g_')} ${pad8Code('m_')} }
else ${dec8Code('n_')}
} else p = H.putNumSlow(b, p, ${v});`;
}

/**
 * A number (counts, BO numbers, pages: mostly small integers, Smis) as numCode() writes it,
 * through one shared out-of-line helper, putSmall(). (Inline, its digit code made every number
 * field of every compiled writer several hundred bytes of machine code: the writers of an
 * oversub event came to ~70 KB, more than the L1 instruction cache, evicted again by the model
 * between events. A Smi argument is not boxed.)
 */
const smallNumCode = (v: string) => `p = SM(b, p, ${v});`;

/** Hex digits of the integer in local `x` (0 <= x < 2^32; x is consumed), no leading zeros, a byte at a time from a table. */
function hex32Code(x: string): string {
  return `{ const e_ = p + (${x} === 0 ? 1 : (35 - Math.clz32(${x})) >> 2); let i_ = e_;
${unrolled(4, 'i_ - p >= 2', `const z_ = 2 * (${x} & 255); b[i_ - 2] = X[z_]; b[i_ - 1] = X[z_ + 1]; i_ -= 2; ${x} >>>= 8;`)}
if (i_ > p) b[p] = XC[${x} & 15];
p = e_; }`;
}

/** Hex digits of the integer `v` (0 <= v < 2^53): the high part, then the low 24 bits as 6 digits. */
function hexCode(v: string): string {
  const pair = (e: string, at: number) =>
    `{ const z_ = 2 * (${e}); b[p + ${at}] = X[z_]; b[p + ${at + 1}] = X[z_ + 1]; }`;
  return `if (${v} < 16777216) { let y_ = ${v}; ${hex32Code('y_')} }
else { let y_ = Math.floor(${v} / 16777216); const w_ = ${v} - y_ * 16777216; ${hex32Code('y_')}
${pair('w_ >> 16', 0)} ${pair('(w_ >> 8) & 255', 2)} ${pair('w_ & 255', 4)} p += 6; }`;
}

/** Whether `v` is a page number putPage() takes: pageOk(). */
const pageOkCode = (v: string) =>
  `(typeof ${v} === 'number' && Math.floor(${v}) === ${v} && ${v} > -9223372036854775808 && ${v} < 18446744073709551616)`;

/**
 * The texts of recent page numbers of 9 hex digits (byte addresses from 0x1000000000000 up to
 * 0xfffffffff000, where user-space mappings live): written, a quoted address is exactly 16 bytes,
 * kept here as two doubles whose bits they are (ASCII text: never a NaN, so copied exactly).
 * Direct-mapped by a multiplicative hash of the page number's low 32 bits (pageSlotCode): the same
 * range boundaries come back in most records of an event (range, BO, invalidate, migrate,
 * get_pages, bind). (The earlier index, the low bits of the 2 MiB number, put the ends of every
 * 512 MiB notifier, and a range and the one 1 GiB away, into one slot: misses on every eviction.)
 */
const PAGE_SLOTS = 64;
/** The cache slot of the page number `v`: the top 6 bits of its low 32 bits times 2^32 / phi. */
const pageSlotCode = (v: string) => `(Math.imul(${v} >>> 0, -1640531535) >>> 26)`;
const PAGE_KEYS_SEEN = new Float64Array(PAGE_SLOTS).fill(-1);
const PAGE_TEXTS = new Float64Array(2 * PAGE_SLOTS);

/**
 * The page number in local `v` (pageOkCode) as a quoted 0x byte address: putPage(). Needs `dv`
 * (stores()). Inline: the cache's hit; the rest (a miss, another band) through pageSlot(), the
 * page handed over in the Float64Array slot F (a double argument would be boxed): the code of
 * every page field stays small.
 */
function pageCode(v: string): string {
  return `{ const pi_ = ${pageSlotCode(v)};
if (PK[pi_] === ${v}) { dv.setFloat64(p, PT[2 * pi_], true); dv.setFloat64(p + 8, PT[2 * pi_ + 1], true); p += 16; }
else { F[0] = ${v}; p = PS(b, dv, p); } }`;
}

/** The whole of putPage() as inline code (pageSlot's body): the cache of page texts, then the digits. */
function pageFullCode(v: string): string {
  return `if (${v} >= 4294967296 && ${v} < 68719476736) {
  const pi_ = ${pageSlotCode(v)};
  if (PK[pi_] === ${v}) { dv.setFloat64(p, PT[2 * pi_], true); dv.setFloat64(p + 8, PT[2 * pi_ + 1], true); p += 16; }
  else { const pq_ = p; ${stores(ascii('"0x'))} ${hexCode(v)} ${stores(ascii('000"'))}
    PK[pi_] = ${v}; PT[2 * pi_] = dv.getFloat64(pq_, true); PT[2 * pi_ + 1] = dv.getFloat64(pq_ + 8, true); }
} else if (${v} > 0 && ${v} < 2199023255552) { ${stores(ascii('"0x'))} ${hexCode(v)} ${stores(ascii('000"'))} }
else p = H.putPage(b, p, ${v});`;
}

/**
 * The span in local `v` with the keys `k` in place when it is one ({start, end}, in that order,
 * pages putPage() takes: isSpan(); of a Span, the model's, the keys are not checked), else `other`.
 */
function spanCode(v: string, k: SpanKeys, other: string): string {
  // (the ends are read only once the span is known: a page read into a variable that may also
  // hold undefined would be a boxed double, an allocation per read). Anything but a Span (plain
  // objects: tests, other callers) goes through `other` (JsonOut.span(): isSpan(), the same
  // check of the keys, out of line: it kept a for-in loop in every span field of every writer).
  return `let s_ = false;
if (${v} instanceof SP) { const ps_ = ${v}.start, pe_ = ${v}.end; if (${pageOkCode('ps_')} && ${pageOkCode('pe_')}) {
${stores(k.open)} ${pageCode('ps_')} ${stores(k.mid)} ${pageCode('pe_')} ${stores(k.close)} s_ = true; } }
if (!s_) { ${other} }`;
}

type Put = (b: Uint8Array, p: number, v: number) => number;

/** A helper (b, p, v) => the position after v, compiled from inline code writing `v`. */
const helper = (code: string): Put =>
  new Function('H', `${CLOSURE} return function (b, p, v) { ${code} return p; };`)({ DEC2, HEX2, HEXC, putNumSlow });

/** A number as JSON.stringify writes it (integers below 2^53 digit by digit, the rest through putNumSlow()). */
const putNum: Put = helper(numCode('v'));

/** Hex digits of an integer in [0, 2^53). */
const putHex: Put = helper(hexCode('v'));

/** numCode() with the integers below 10^8 first (smallNumCode()): the compiled writers' one number helper. */
const putSmall: Put = helper(
  `if (v >= 0 && v < 100000000 && Math.floor(v) === v) { let n_ = v; ${dec8Code('n_')} } else { ${numCode('v')} }`,
);

/** A number numCode() does not take: a negative integer above -2^53 digit by digit, the rest through String(). */
function putNumSlow(b: Uint8Array, p: number, n: number): number {
  if (n < 0 && n > -9007199254740992 && Math.floor(n) === n) {
    b[p] = 45;
    return putNum(b, p + 1, -n);
  }
  return putAscii(b, p, num(n));
}

/** Whether putPage() takes `v` (an integer page index of at most 64 bits, so at most NUM_MAX bytes). */
const pageOk = (v: unknown): v is number =>
  typeof v === 'number' && Math.floor(v) === v && v > -(2 ** 63) && v < 2 ** 64;

/** A page index (pageOk) as a quoted 0x byte address: hexPage(). */
function putPage(b: Uint8Array, p: number, v: number): number {
  if (v > 0 && v < 2199023255552) {
    b[p] = 34;
    b[p + 1] = 48;
    b[p + 2] = 120;
    p = putHex(b, p + 3, v);
    b[p] = 48;
    b[p + 1] = 48;
    b[p + 2] = 48;
    b[p + 3] = 34;
    return p + 4;
  }
  return putAscii(b, p, `"${hexPage(v)}"`);
}

/** A byte address of 0 to 64 bits as a quoted 0x hex string: hexAddr(). */
function putAddr(b: Uint8Array, p: number, a: bigint): number {
  if (a >= 0n && a < 9007199254740992n) {
    b[p] = 34;
    b[p + 1] = 48;
    b[p + 2] = 120;
    p = putHex(b, p + 3, Number(a));
    b[p] = 34;
    return p + 1;
  }
  return putAscii(b, p, `"${hexAddr(a)}"`);
}

/**
 * A string as a JSON string, in place, when it is printable ASCII without a quote or backslash
 * (what JSON.stringify writes as is) and at most STR_MAX - 2 characters; else -1 (the caller
 * takes the general path; what was written past `p` is overwritten).
 */
function putPlain(b: Uint8Array, p: number, s: string): number {
  const n = s.length;
  if (n > STR_MAX - 2) return -1;
  b[p] = 34;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return -1;
    b[p + 1 + i] = c;
  }
  b[p + 1 + n] = 34;
  return p + n + 2;
}

const addrOk = (a: bigint): boolean => a >= 0n && a < 18446744073709551616n;

/** A JSON text's UTF-8 bytes, and whether they are all ASCII. */
interface Encoded {
  bytes: Uint8Array;
  ascii: boolean;
}

const encode = (text: string): Encoded => {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, ascii: bytes.length === text.length };
};

/** Encoded JSON strings of the strings seen so far (ops, enum values, field values: a small set). */
const STRINGS = new Map<string, Encoded>();
function encodedString(s: string): Encoded {
  let e = STRINGS.get(s);
  if (e === undefined) {
    e = encode(JSON.stringify(s));
    if (STRINGS.size < 4096) STRINGS.set(s, e);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// The byte writer

/**
 * JSON text written as UTF-8 bytes into one reusable buffer, handed on in large chunks: to
 * `out` when the output takes bytes (it writes them before returning: stdout and output files
 * are written synchronously, so a full pipe holds the replay back), else to the string sink (one
 * latin1 copy per chunk when it is all ASCII). Numbers and 0x addresses are written digit by
 * digit (no string per value); strings through a cache of their encoded JSON.
 *
 * A chunk ends at the last whole record when the writer marks record ends (mark(): the reporters,
 * after each event): the rest, less than a record, moves to the buffer's start. So the output
 * (src/cli/output.ts heldSink) writes each chunk as it is, one write per chunk (OUT_CHUNK, 1 MiB),
 * with no tail to copy and write separately. Without marks, or a record longer than the buffer, a
 * chunk may end in the middle of a record (the output is a stream).
 *
 * The record writers reserve room for a record's bounded parts with room(), then write with the
 * put*() functions at a local position (`b`, `p`); anything of unbounded length goes through the
 * methods here, which make their own room.
 */
export class JsonOut {
  readonly b: Buffer;
  /** A view of `b` for the compiled writers' wide stores (stores()). */
  readonly dv: DataView;
  p = 0;
  /** Whether everything since the last flush is ASCII (the string sink's latin1 shortcut). */
  ascii = true;
  /** The end of the last whole record in `b` (mark()), 0 when none. */
  private end = 0;
  constructor(
    private readonly sink: (s: string) => void,
    private readonly out?: (b: Uint8Array) => void,
    size = OUT_CHUNK,
  ) {
    this.b = Buffer.allocUnsafe(Math.max(size, 4096));
    this.dv = new DataView(this.b.buffer, this.b.byteOffset, this.b.length);
  }

  /** Hand what is written to the output. */
  flush(): void {
    this.end = 0;
    if (this.p === 0) return;
    this.hand(this.p);
    this.p = 0;
    this.ascii = true;
  }

  /** A whole record ends here: a chunk handed over when the buffer fills ends at the last mark. */
  mark(): void {
    this.end = this.p;
  }

  /** Hand b[0, n) to the output. */
  private hand(n: number): void {
    if (this.out !== undefined) this.out(this.b.subarray(0, n));
    else this.sink(this.b.toString(this.ascii ? 'latin1' : 'utf8', 0, n));
  }

  /**
   * Make room for `n` (at most the buffer's size) more bytes: hand over the whole records and
   * move the rest to the start (everything, when that leaves too little room or nothing is marked).
   */
  room(n: number): void {
    if (this.p + n > this.b.length) this.spill(n);
  }

  private spill(n: number): void {
    const end = this.end;
    if (end > 0 && this.p - end + n <= this.b.length) {
      this.hand(end);
      this.b.copyWithin(0, end, this.p);
      this.p -= end;
      this.end = 0;
      // (`ascii` stays as it was: the rest may hold non-ASCII text; utf8 decodes ASCII alike)
    } else this.flush();
  }

  /** Bytes of encoded JSON text (constants, strings), of any length. */
  bytes(k: Uint8Array, ascii = true): void {
    const n = k.length;
    if (this.p + n > this.b.length) {
      this.spill(Math.min(n, this.b.length));
      if (n > this.b.length) {
        this.flush();
        if (this.out !== undefined) this.out(k);
        else this.sink(Buffer.from(k.buffer, k.byteOffset, n).toString(ascii ? 'latin1' : 'utf8'));
        return;
      }
    }
    if (!ascii) this.ascii = false;
    if (n <= 32) this.p = put(this.b, this.p, k);
    else {
      this.b.set(k, this.p);
      this.p += n;
    }
  }

  /** JSON text given as a string (short ASCII text copied in place, the rest encoded). */
  text(s: string): void {
    const n = s.length;
    if (n <= STR_MAX) {
      this.room(n);
      const b = this.b;
      const p = this.p;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 128) break;
        b[p + i] = c;
      }
      if (i === n) {
        this.p = p + n;
        return;
      }
    }
    const e = encode(s);
    this.bytes(e.bytes, e.ascii);
  }

  /** A string as a JSON string. */
  str(s: string): void {
    const e = encodedString(s);
    this.bytes(e.bytes, e.ascii);
  }

  /** One ASCII byte. */
  byte(c: number): void {
    if (this.p >= this.b.length) this.spill(1);
    this.b[this.p++] = c;
  }

  /** A {start, end} page span (the layout at `depth`); anything else through the generic writer. */
  span(v: unknown, depth: number, pretty: boolean): void {
    if (isSpan(v)) {
      this.room(SPAN_MAX);
      this.p = putSpan(this.b, this.p, v, pretty ? SPAN_PRETTY[depth] : SPAN_LINE);
    } else this.text(value('', v, depth, pretty) ?? 'null');
  }

  /** An array of spans; anything else through the generic writer. */
  spans(v: unknown, depth: number, pretty: boolean): void {
    if (!Array.isArray(v)) {
      this.text(value('', v, depth, pretty) ?? 'null');
      return;
    }
    if (v.length === 0) {
      this.bytes(EMPTY_ARRAY);
      return;
    }
    const inner = pretty ? INDENT[depth + 1] : EMPTY;
    for (let i = 0; i < v.length; i++) {
      this.byte(i === 0 ? 91 : 44);
      this.bytes(inner);
      this.span(v[i], depth + 1, pretty);
    }
    if (pretty) this.bytes(INDENT[depth]);
    this.byte(93);
  }
}

/**
 * A list of a range's rejected chunks as the writers take it in place: objects of exactly the
 * keys pages (a number) and reason (a string putPlain() takes), in that order.
 */
function isRejectedList(v: unknown[]): boolean {
  for (const r of v) {
    if (r === null || typeof r !== 'object') return false;
    let i = 0;
    for (const k in r) {
      if (i > 1 || k !== (i === 0 ? 'pages' : 'reason')) return false;
      i++;
    }
    const { pages, reason } = r as { pages: unknown; reason: unknown };
    if (i !== 2 || typeof pages !== 'number' || typeof reason !== 'string' || reason.length > STR_MAX - 2) return false;
    for (let j = 0; j < reason.length; j++) {
      const c = reason.charCodeAt(j);
      if (c < 32 || c > 126 || c === 34 || c === 92) return false;
    }
  }
  return true;
}

/** Exactly the keys start and end, in that order, holding pages putPage() takes. */
function isSpan(v: unknown): v is { start: number; end: number } {
  if (v === null || typeof v !== 'object') return false;
  const r = v as { start: unknown; end: unknown };
  if (!pageOk(r.start) || !pageOk(r.end)) return false;
  let i = 0;
  for (const k in v) {
    if ((i === 0 && k !== 'start') || (i === 1 && k !== 'end') || i > 1) return false;
    i++;
  }
  return i === 2;
}

interface SpanKeys {
  open: Uint8Array;
  mid: Uint8Array;
  close: Uint8Array;
}

function putSpan(b: Uint8Array, p: number, v: { start: number; end: number }, k: SpanKeys): number {
  p = putPage(b, put(b, p, k.open), v.start);
  p = putPage(b, put(b, p, k.mid), v.end);
  return put(b, p, k.close);
}

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const EMPTY = ascii('');
const EMPTY_ARRAY = ascii('[]');
/** Newline and indentation by depth (two spaces a level). */
const INDENT: Uint8Array[] = IND.map(ascii);
const SPAN_LINE: SpanKeys = { open: ascii('{"start":'), mid: ascii(',"end":'), close: ascii('}') };
const SPAN_PRETTY: SpanKeys[] = IND.slice(0, -1).map((_, d) => ({
  open: ascii(`{${ind(d + 1)}"start": `),
  mid: ascii(`,${ind(d + 1)}"end": `),
  close: ascii(`${ind(d)}}`),
}));
/** Most bytes of a span (pretty, at the deepest depth of SPAN_PRETTY). */
const SPAN_MAX = 2 * NUM_MAX + 3 * 40;

// ---------------------------------------------------------------------------------------------
// Compiled decision writers

/** The slot in which the compiled writers hand a page number to pageSlot() (unboxed). */
const SLOT = new Float64Array(1);

/** The tables the compiled code reads (CLOSURE). */
const TABLES = { DEC2, HEX2, HEXC, PAGE_KEYS_SEEN, PAGE_TEXTS, SLOT };

/** A function `name(params)` compiled from inline code that writes the number in SLOT (`v`) at b/p. */
const slotWriter = (name: string, params: string, code: string) =>
  new Function('H', `${CLOSURE} return function ${name}(${params}) { const v = F[0]; ${code} return p; };`)({
    ...TABLES,
    putPage,
    putNumSlow,
  });

/** The page number in SLOT (pageOk) as a quoted 0x byte address at b/p: putPage(); `dv` is a DataView of `b`. */
const pageSlot = slotWriter('pageSlot', 'b, dv, p', pageFullCode('v')) as (
  b: Uint8Array,
  dv: DataView,
  p: number,
) => number;

/** What the compiled writers call (passed in, so the generated code sees no module scope). */
const H = {
  value,
  put,
  putNumSlow,
  putPage,
  putPlain,
  isRejectedList,
  pageOk,
  putSpan,
  isSpan,
  encodedString,
  TRUE: ascii('true'),
  FALSE: ascii('false'),
  ...TABLES,
  pageSlot,
  putSmall,
  Span,
};

/** Writes one record of a list, after the list's opening (`i` 0) or a separator. */
type DecisionWriter = (d: Decision, o: JsonOut, i: number) => void;

/** What comes before the first record of a list and before each other one. */
interface Separators {
  first: Uint8Array;
  next: Uint8Array;
}

/**
 * JavaScript writing one field's value `v` (known not undefined) after its key constant `K[k]`, by
 * kind and key, at `b`/`p` within the writer's reserved room; with the room `budget` made again
 * after anything written through `o`. A value of an unexpected type goes through the generic
 * writer (and is left out, key and all, when that gives nothing).
 */
function fieldCode(
  key: string,
  spec: FieldSpec,
  keyBytes: Uint8Array,
  depth: number,
  pretty: boolean,
  budget: number,
  spanKeys: SpanKeys,
): string {
  const sync = (call: string) => `o.p = p; ${call}; o.room(${budget}); p = o.p;`;
  const k = stores(keyBytes);
  const generic = `{ const t = H.value(${JSON.stringify(key)}, v, ${depth}, ${pretty}); if (t !== undefined) { ${k} ${sync('o.text(t)')} } }`;
  const typed = (test: string, write: string) => `if (${test}) { ${k} ${write} } else ${generic}`;
  switch (spec.kind) {
    case 'range':
      return `${k} { ${spanCode('v', spanKeys, sync(`o.span(v, ${depth}, ${pretty})`))} }`;
    case 'range[]': {
      // each span in place after making room for it (and the rest of the record); anything else generic
      const inner = pretty ? INDENT[depth + 1] : EMPTY;
      const item = pretty ? SPAN_PRETTY[depth + 1] : SPAN_LINE;
      const each = `o.p = p; o.room(${SPAN_MAX + 2 * inner.length + budget}); p = o.p; b[p] = j_ === 0 ? 91 : 44; p += 1; ${stores(inner)}
const u_ = v[j_]; { ${spanCode('u_', item, sync(`o.span(u_, ${depth + 1}, ${pretty})`))} }`;
      return `${k} if (!Array.isArray(v)) { ${sync(`o.spans(v, ${depth}, ${pretty})`)} }
else if (v.length === 0) { ${stores(EMPTY_ARRAY)} }
else { for (let j_ = 0; j_ < v.length; j_++) { ${each} } ${pretty ? stores(INDENT[depth]) : ''} b[p] = 93; p += 1; }`;
    }
    case 'bool':
      return typed('v === true || v === false', `if (v) { ${stores(H.TRUE)} } else { ${stores(H.FALSE)} }`);
    case 'enum':
    case 'errno':
    case 'string': {
      // a value of the registry's list as stores; any other string in place when plain, else encoded
      const values = spec.values !== undefined && spec.values.length <= 8 ? spec.values : [];
      const known = values
        .filter((x) => /^[\x20-\x7e]*$/.test(JSON.stringify(x)))
        .map((x) => `if (v === ${JSON.stringify(x)}) { ${stores(ascii(JSON.stringify(x)))} } else `);
      return typed(
        `typeof v === 'string'`,
        `${known.join('')}{ const q = H.putPlain(b, p, v); if (q >= 0) p = q; else { const e = H.encodedString(v); if (!e.ascii) o.ascii = false; if (e.bytes.length <= ${STR_MAX}) p = H.put(b, p, e.bytes); else { ${sync('o.bytes(e.bytes, e.ascii)')} } } }`,
      );
    }
    case 'bytes':
      return typed(`typeof v === 'bigint'`, `const x_ = Number(v); ${smallNumCode('x_')}`);
    case 'object[]': {
      // empty lists (a range's rejected chunks, mostly) in place; a range's rejected chunks
      // ({pages, reason} each: isRejectedList) in place; the rest through the generic writer
      if (key !== 'rejected')
        return `if (Array.isArray(v) && v.length === 0) { ${k} ${stores(EMPTY_ARRAY)} } else ${generic}`;
      const inner = pretty ? INDENT[depth + 1] : EMPTY;
      const colon = pretty ? '": ' : '":';
      const open = ascii(`{${pretty ? ind(depth + 2) : ''}"pages${colon}`);
      const mid = ascii(`,${pretty ? ind(depth + 2) : ''}"reason${colon}`);
      const close = ascii(`${pretty ? ind(depth + 1) : ''}}`);
      const item = 1 + inner.length + open.length + NUM_MAX + mid.length + STR_MAX + close.length;
      return `if (Array.isArray(v) && v.length === 0) { ${k} ${stores(EMPTY_ARRAY)} }
else if (H.isRejectedList(v)) { ${k} for (let j_ = 0; j_ < v.length; j_++) {
  o.p = p; o.room(${item + budget}); p = o.p; b[p] = j_ === 0 ? 91 : 44; p += 1; ${stores(inner)}
  const u_ = v[j_]; const x_ = u_.pages; ${stores(open)} ${smallNumCode('x_')} ${stores(mid)} p = H.putPlain(b, p, u_.reason); ${stores(close)} }
  ${pretty ? stores(INDENT[depth]) : ''} b[p] = 93; p += 1; }
else ${generic}`;
    }
    default:
      // numbers: page indices under a page key, else as they are
      return PAGE_KEYS.has(key)
        ? typed(pageOkCode('v'), pageCode('v'))
        : typed(`typeof v === 'number'`, smallNumCode('v'));
  }
}

/** 8 bytes as the little-endian double whose bits they are, when that is an ordinary number (not NaN, not subnormal) whose shortest text reads back as the same bits; else undefined. */
function wideConstant(k: Uint8Array, at: number): string | undefined {
  const v = Buffer.from(k.buffer, k.byteOffset + at, 8).readDoubleLE(0);
  if (!Number.isFinite(v) || (v !== 0 && Math.abs(v) < 2.2250738585072014e-308)) return undefined;
  const text = String(v);
  const back = Buffer.alloc(8);
  back.writeDoubleLE(Number(text), 0);
  return back.equals(Buffer.from(k.buffer, k.byteOffset + at, 8)) ? text : undefined;
}

/**
 * JavaScript storing constant bytes at b[p...] and moving p past them: 8 bytes a store (a double
 * whose bits they are, through the writer's DataView `dv` over `b`), the rest 4, 2 or 1 at a time.
 * Keys and punctuation are most of the bytes of an event; a byte a store costs about 4 times as much.
 */
function stores(k: Uint8Array): string {
  let code = '';
  let i = 0;
  const at = (n: number) => (n === 0 ? 'p' : `p + ${n}`);
  for (; i + 8 <= k.length; i += 8) {
    const d = wideConstant(k, i);
    if (d !== undefined) code += `dv.setFloat64(${at(i)}, ${d}, true); `;
    else
      code += `dv.setUint32(${at(i)}, ${Buffer.from(k.buffer, k.byteOffset + i, 8).readUInt32LE(0)}, true); dv.setUint32(${at(i + 4)}, ${Buffer.from(k.buffer, k.byteOffset + i, 8).readUInt32LE(4)}, true); `;
  }
  if (i + 4 <= k.length) {
    code += `dv.setUint32(${at(i)}, ${Buffer.from(k.buffer, k.byteOffset + i, 4).readUInt32LE(0)}, true); `;
    i += 4;
  }
  if (i + 2 <= k.length) {
    code += `dv.setUint16(${at(i)}, ${k[i] | (k[i + 1] << 8)}, true); `;
    i += 2;
  }
  if (i < k.length) code += `b[${at(i)}] = ${k[i]}; `;
  return `${code}p += ${k.length};`;
}

/** Room a field's value takes at most when written in place (beyond its key). */
function valueBudget(spec: FieldSpec): number {
  switch (spec.kind) {
    case 'range':
      return SPAN_MAX;
    case 'bool':
      return 5;
    case 'enum':
    case 'errno':
    case 'string':
      return STR_MAX;
    case 'range[]':
      return 40; // an empty list, or the closing of a list (with its indentation)
    case 'object[]':
      return 2;
    default:
      return NUM_MAX;
  }
}

/**
 * One writer per registry code: `{"code": ..., fields in registry order}` at `depth` (the
 * object's own depth; pretty JSON with two-space steps when `pretty`, else compact).
 *
 * The compiled writer prints the registry's key order; JSON.stringify prints the object's own.
 * They agree for the model's records (tests). The writer checks the FIRST record of each shape
 * (the set of registry fields present, a bit each) with one Object.keys: if its own keys differ
 * (another order, an extra key) that shape goes to the generic writer for good. Later records of a
 * shape that passed are trusted without a check, so a record with the same registry fields in
 * another order, or with an extra key, would be written in registry order (the extra key dropped).
 * The model builds each code's records in fixed key order (test/report/json-fast.test.ts compares
 * the writer with JSON.stringify on random traces), so that never happens in a replay.
 */
function compileWriters(depth: number, pretty: boolean, sep: Separators): Record<string, DecisionWriter> {
  const out: Record<string, DecisionWriter> = Object.create(null);
  const inner = pretty ? ind(depth + 1) : '';
  const colon = pretty ? '": ' : '":';
  const close = ascii((pretty ? ind(depth) : '') + '}');
  const spanKeys = pretty ? SPAN_PRETTY[depth + 1] : SPAN_LINE;
  for (const [code, spec] of Object.entries(DECISIONS)) {
    const fields = Object.entries(spec.fields as Record<string, FieldSpec>);
    const K: Uint8Array[] = [ascii(`{${inner}"code${colon}${JSON.stringify(code)}`), close];
    for (const [key] of fields) K.push(ascii(`,${inner}"${key}${colon}`));
    const budget =
      K.reduce((n, k) => n + k.length, 0) +
      fields.reduce((n, [, f]) => n + valueBudget(f), 0) +
      Math.max(sep.first.length, sep.next.length);
    let body = 'let mask = 0;\n';
    fields.forEach(([key], bit) => {
      body += `if (d.${key} !== undefined) mask |= ${2 ** Math.min(bit, 30)};\n`;
    });
    body += 'const ok = checked[mask];\n';
    body += 'if (ok !== true && (ok !== undefined || !check(d, mask))) { G(d, o, i); return; }\n';
    body += `o.room(${budget});\nconst b = o.b, dv = o.dv;\nlet p = o.p;\nif (i === 0) { ${stores(sep.first)} } else { ${stores(sep.next)} }\n${stores(K[0])}\nlet v;\n`;
    fields.forEach(([key, f], i) => {
      body += `v = d.${key};\nif (v !== undefined) { ${fieldCode(key, f, K[i + 2], depth + 1, pretty, budget, spanKeys)} }\n`;
    });
    body += `${stores(K[1])}\no.p = p;`;
    const checked: (boolean | undefined)[] = [];
    const names = fields.map(([k]) => k);
    const check = (d: Decision, mask: number): boolean => {
      const own = Object.keys(d).filter((k) => (d as unknown as Record<string, unknown>)[k] !== undefined);
      const want = ['code', ...names.filter((k) => (d as unknown as Record<string, unknown>)[k] !== undefined)];
      const ok = fields.length <= 31 && own.length === want.length && own.every((k, i) => k === want[i]);
      checked[mask] = ok;
      return ok;
    };
    out[code] = new Function(
      'H',
      'G',
      'checked',
      'check',
      `${CLOSURE} return function write_${code}(d, o, i) {\n${body}\n};`,
    )(H, genericWriter(depth, pretty, sep), checked, check) as DecisionWriter;
  }
  return out;
}

/** The generic writer of a record in a list (codes the registry lacks, records of unexpected shape). */
function genericWriter(depth: number, pretty: boolean, sep: Separators): DecisionWriter {
  return (d, o, i) => {
    o.bytes(i === 0 ? sep.first : sep.next);
    o.text(value('', d, depth, pretty) ?? 'null');
  };
}

/** Constant pieces of an event record in one layout. */
interface EventKeys {
  seq: Uint8Array;
  line: Uint8Array;
  t: Uint8Array;
  pid: Uint8Array;
  op: Uint8Array;
  addr: Uint8Array;
  size: Uint8Array;
  /** Before an op-specific field's key. */
  field: Uint8Array;
  /** Between an op-specific field's key and value. */
  colon: Uint8Array;
  outcome: Uint8Array;
  errno: Uint8Array;
  tEnd: Uint8Array;
  decisions: Uint8Array;
  /** Before the first decision and before each other one. */
  first: Uint8Array;
  next: Uint8Array;
  /** After the last decision, and after an empty decisions array. */
  last: Uint8Array;
  empty: Uint8Array;
}

function eventKeys(pretty: boolean): EventKeys {
  const i = pretty ? IND[3] : '';
  const c = pretty ? ': ' : ':';
  const key = (k: string) => ascii(`,${i}"${k}"${c}`);
  return {
    seq: ascii(`{${i}"seq"${c}`),
    line: key('line'),
    t: key('t'),
    pid: key('pid'),
    op: key('op'),
    addr: key('addr'),
    size: key('size'),
    field: ascii(`,${i}`),
    colon: ascii(c),
    outcome: key('outcome'),
    errno: key('errno'),
    tEnd: key('t_end'),
    decisions: key('decisions'),
    first: ascii(pretty ? `[${IND[4]}` : '['),
    next: ascii(pretty ? `,${IND[4]}` : ','),
    last: ascii(pretty ? `${IND[3]}]${IND[2]}}` : ']}'),
    empty: ascii(pretty ? `[]${IND[2]}}` : '[]}'),
  };
}

const PRETTY_KEYS = eventKeys(true);
const LINE_KEYS = eventKeys(false);

/** Room for an event's bounded part: every key, 6 numbers and addresses, 3 strings (op, outcome, errno); per field 2 strings and a key. */
const EVENT_ROOM =
  Object.values(PRETTY_KEYS).reduce((n: number, k: Uint8Array) => n + k.length, 0) + 6 * NUM_MAX + 3 * STR_MAX;
const FIELD_ROOM = 2 * STR_MAX + 20;

/** A string as a JSON string at `o.b`/`p`, in place when short (within the caller's room), else through `o`. */
function putStr(o: JsonOut, p: number, s: string, room: number): number {
  const q = putPlain(o.b, p, s);
  if (q >= 0) return q;
  const e = encodedString(s);
  if (!e.ascii) o.ascii = false;
  if (e.bytes.length <= STR_MAX) return put(o.b, p, e.bytes);
  o.p = p;
  o.bytes(e.bytes, e.ascii);
  o.room(room);
  return o.p;
}

/** An event's op-specific fields (`, "key": "value"` each) at `o.b`/`p` (a loop outside the compiled writer: see writeDecisions). */
function putFields(o: JsonOut, p: number, fields: [string, string][], room: number, K: EventKeys): number {
  for (let i = 0; i < fields.length; i++) {
    p = put(o.b, p, K.field);
    p = putStr(o, p, fields[i][0], room);
    p = put(o.b, p, K.colon);
    p = putStr(o, p, fields[i][1], room);
  }
  return p;
}

/** An address (bigint) as a quoted 0x hex string at `o.b`/`p`, in place when of at most 64 bits. */
function putAddrAt(o: JsonOut, p: number, a: bigint, room: number): number {
  if (addrOk(a)) return putAddr(o.b, p, a);
  o.p = p;
  o.text(`"${hexAddr(a)}"`);
  o.room(room);
  return o.p;
}

type EventWriter = (o: JsonOut, echo: EventEcho, res: EventResult) => void;

/** The trace's ops, the accesses first: written as stores (any other op as a string). */
const KNOWN_OPS = [
  ...OP_NAMES.filter((op) => /^(gpu|cpu)_/.test(op)),
  ...OP_NAMES.filter((op) => !/^(gpu|cpu)_/.test(op)),
];

/** The codes most events record (hits, CPU population, the fault path, map/unmap), tried first by the dispatch. */
const DISPATCH_FIRST = [
  'gpu_hit',
  'cpu_populate',
  'fault',
  'range',
  'bo_evict',
  'get_pages',
  'bind',
  'range_valid',
  'migrate_to_vram',
  'bo_alloc',
  'invalidate',
  'migrate_to_ram',
  'bo_free',
  'vma_map',
  'vma_unmap',
  'notifier_create',
  'notifier_remove',
  'gc_range',
  'no_migrate',
  'range_evict',
  'timeslice_wait',
] as const satisfies readonly Decision['code'][];

/**
 * The closure state of counterCode(name): the last number written (`nV`), its text (`nB`, at most
 * 16 digits) and length (`nN`, 0: none kept).
 */
const counterState = (n: string) =>
  `let ${n}V = -1, ${n}N = 0; const ${n}B = new Uint8Array(16), ${n}D = new DataView(${n}B.buffer);`;

/**
 * numCode() for a number that mostly goes up by one from the last event's (seq, line): when it is
 * the last one plus one and that one's text does not end in a 9, the kept text with its last digit
 * bumped (16 bytes copied: the event's room covers them; no loop: see unrolled()); else numCode(), its text kept when it is
 * an integer below 2^53 - 1 (the bump, only below it too: the last one plus one is then exact).
 */
function counterCode(v: string, n: string): string {
  return `if (${v} === ${n}V + 1 && ${n}N > 0 && ${n}B[${n}N - 1] !== 57 && ${v} < 9007199254740991) {
  ${n}B[${n}N - 1] += 1;
  dv.setUint32(p, ${n}D.getUint32(0, true), true); dv.setUint32(p + 4, ${n}D.getUint32(4, true), true);
  dv.setUint32(p + 8, ${n}D.getUint32(8, true), true); dv.setUint32(p + 12, ${n}D.getUint32(12, true), true);
  p += ${n}N; ${n}V = ${v};
} else {
  const p0_ = p; ${numCode(v)}
  ${n}N = ${v} >= 0 && ${v} < 9007199254740991 && Math.floor(${v}) === ${v} ? p - p0_ : 0;
  if (${n}N > 0) {
    ${n}D.setUint32(0, dv.getUint32(p0_, true), true); ${n}D.setUint32(4, dv.getUint32(p0_ + 4, true), true);
    ${n}D.setUint32(8, dv.getUint32(p0_ + 8, true), true); ${n}D.setUint32(12, dv.getUint32(p0_ + 12, true), true);
  }
  ${n}V = ${v};
}`;
}

/**
 * The event writer of one layout, compiled with its constant keys as stores: the record of
 * JSON.stringify(eventJson(echo, res)) when compact, or of JSON.stringify(eventJson(echo, res),
 * null, 2) with every line after the first indented by 4 when pretty.
 */
function compileEventWriter(pretty: boolean): EventWriter {
  const K = pretty ? PRETTY_KEYS : LINE_KEYS;
  const depth = pretty ? 4 : 0;
  const sep = { first: K.first, next: K.next };
  const opStores = KNOWN_OPS.map((x) => `if (op === '${x}') { ${stores(ascii(`"${x}"`))} } else `).join('');
  const outcome = (['ok', 'hit', 'error'] as const)
    .map((x) => `if (outcome === '${x}') { ${stores(ascii(`"${x}"`))} } else `)
    .join('');
  // Each record of a frequent code to its writer by comparing the code with the registry's
  // (direct calls, no keyed lookup); the rest (a long chain of compares costs more) by lookup.
  const dispatch = `${DISPATCH_FIRST.map((c) => `if (c === '${c}') w_${c}(d, o, i); else `).join('')}{ const w = W[c]; if (w !== undefined) w(d, o, i); else G(d, o, i); }`;
  const body = `
const fields = echo.fields;
const room = ${EVENT_ROOM} + fields.length * ${FIELD_ROOM};
o.room(room);
const b = o.b, dv = o.dv;
let p = o.p;
const seq = res.seq, line = echo.line, t = echo.t, pid = echo.pid;
${stores(K.seq)} ${counterCode('seq', 'S')}
${stores(K.line)} ${counterCode('line', 'L')}
${stores(K.t)} ${numCode('t')}
if (pid !== undefined) { ${stores(K.pid)} ${numCode('pid')} }
${stores(K.op)} const op = res.op;
${opStores}p = E.putStr(o, p, op, room);
${stores(K.addr)} const page = echo.page;
if (page !== undefined) {
  const offset = echo.offset;
  ${stores(ascii('"0x'))}
  if (page === 0) { let y_ = offset; ${hex32Code('y_')} }
  else { ${hexCode('page')} b[p] = XC[offset >> 8]; b[p + 1] = XC[(offset >> 4) & 15]; b[p + 2] = XC[offset & 15]; p += 3; }
  b[p] = 34; p += 1;
} else p = E.putAddrAt(o, p, echo.addr, room);
// The size as a number: the reader's when it has one (no bigint read), else one conversion of the
// bigint instead of putAddrAt()'s range checks on it (exact below 2^53; 0 only for 0n).
const sn = echo.sizeNumber;
const sz = sn !== undefined ? sn : Number(echo.size);
if (sz !== 0) {
  ${stores(K.size)}
  if (sz > 0 && sz < 9007199254740992 && Math.floor(sz) === sz) { ${stores(ascii('"0x'))} ${hexCode('sz')} b[p] = 34; p += 1; }
  else p = E.putAddrAt(o, p, echo.size, room);
}
if (fields.length > 0) p = E.putFields(o, p, fields, room, E.keys);
${stores(K.outcome)} const outcome = res.outcome;
${outcome}p = E.putStr(o, p, outcome, room);
if (res.errno !== undefined) { ${stores(K.errno)} p = E.putStr(o, p, res.errno, room); }
const tEnd = res.t;
if (tEnd !== t) { ${stores(K.tEnd)} ${numCode('tEnd')} }
${stores(K.decisions)}
const ds = res.decisions;
if (ds.length === 0) { ${stores(K.empty)} o.p = p; return; }
o.p = p;
writeDecisions(o, ds);
o.bytes(E.last);`;
  // The decisions' loop in a function of its own: writeEvent has no loop, so V8 never replaces it
  // by on-stack-replacement code. (With the loop in writeEvent, some runs ended with only OSR code
  // for it after a deoptimization, never optimized again: each event's head then ran unoptimized,
  // up to 3x the CPU time of a whole mixed jsonl replay.)
  const loop = `for (let i = 0; i < ds.length; i++) {
  const d = ds[i];
  const c = d.code;
  ${dispatch}
}`;
  const W = compileWriters(depth, pretty, sep);
  return new Function(
    'E',
    'W',
    'G',
    'H',
    `${CLOSURE} ${counterState('S')} ${counterState('L')} const ${Object.keys(W)
      .map((c) => `w_${c} = W.${c}`)
      .join(', ')}; function writeDecisions(o, ds) {${loop}\n}\nreturn function writeEvent(o, echo, res) {${body}\n};`,
  )({ putStr, putAddrAt, putFields, keys: K, last: K.last }, W, genericWriter(depth, pretty, sep), H) as EventWriter;
}

let prettyEvents: EventWriter | undefined;
let lineEvents: EventWriter | undefined;

/**
 * One event record: JSON.stringify(eventJson(echo, res)) when compact, or
 * JSON.stringify(eventJson(echo, res), null, 2) with every line after the first indented by 4.
 */
export function writeEvent(o: JsonOut, echo: EventEcho, res: EventResult, pretty: boolean): void {
  if (pretty) (prettyEvents ??= compileEventWriter(true))(o, echo, res);
  else (lineEvents ??= compileEventWriter(false))(o, echo, res);
}

/** One event's text through a JsonOut (tests, and callers that want a string). */
function eventString(echo: EventEcho, res: EventResult, pretty: boolean): string {
  let s = '';
  const o = new JsonOut((t) => (s += t), undefined, 4096);
  writeEvent(o, echo, res, pretty);
  o.flush();
  return s;
}

/** JSON.stringify(eventJson(echo, res), null, 2) with every line after the first indented by 4. */
export const eventJsonText = (echo: EventEcho, res: EventResult): string => eventString(echo, res, true);

/** JSON.stringify(eventJson(echo, res)): one JSONL event line, without its newline. */
export const eventJsonLine = (echo: EventEcho, res: EventResult): string => eventString(echo, res, false);

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
