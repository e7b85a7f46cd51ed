/**
 * DOC: Trace values — addresses, sizes and times
 *
 * Addresses are 64-bit: hex strings with `0x` (`0x7f0000001000`), or JSON integers up to 2^53
 * (larger JSON numbers have already lost precision, so they are refused with a hint to use a hex
 * string). A string without `0x` is refused, whether it has hex letters (`7f00000000ab`) or only
 * digits (`7000000000`, hex or decimal? — a decimal address is written as a JSON number): the
 * message suggests the `0x` spelling. They are parsed to bigint and never pass through a float.
 *
 * Sizes are hex, decimal, or a number with a binary suffix K/M/G/T (KiB, MiB, GiB, TiB), e.g.
 * `4K`, `2M`, `1.5M` (a fractional size must come to whole bytes).
 *
 * Times are nanoseconds: an integer, or a number with a unit `ns`, `us`, `ms` or `s`
 * (`1.5ms` = 1500000). They must come to whole nanoseconds.
 */

const MAX_U64 = (1n << 64n) - 1n;

/** The syntax of each kind of value; the parsers below and the JSON Schema (schemas/) use these. */
export const SYNTAX = {
  hex: /^0[xX][0-9a-fA-F]+$/,
  decimal: /^[0-9]+$/,
  sizeWithUnit: /^([0-9.]+)\s*([KMGTkmgt])(?:[iI]?[bB])?$/,
  time: /^([0-9.]+)\s*(ns|us|µs|ms|s)?$/,
  pid: /^[0-9]{1,10}$/,
} as const;

/** A JSON Schema `pattern` for strings (surrounding white space allowed) of any of these syntaxes. */
export function jsonPattern(...res: RegExp[]): string {
  return `^\\s*(?:${res.map((r) => r.source.replace(/^\^|\$$/g, '')).join('|')})\\s*$`;
}

/** A value problem: what was expected (the caller adds file, line and field). */
export class ValueError extends Error {
  constructor(readonly expected: string) {
    super(expected);
  }
}

/**
 * Digits that can matter below 2^64: 16 hex or 20 decimal after leading zeros. Longer strings
 * are refused before any conversion (a 1 MiB digit string costs nothing to refuse).
 */
function significant(digits: string, max: number, what: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  if (digits.length - i > max) throw new ValueError(what.includes('2^64') ? what : `${what} below 2^64`);
  return digits.slice(i);
}

function unsigned(s: string, what: string): bigint {
  if (SYNTAX.hex.test(s)) return BigInt('0x' + significant(s.slice(2), 16, what));
  if (SYNTAX.decimal.test(s)) return BigInt(significant(s, 20, what));
  throw new ValueError(what);
}

function fromNumber(v: number, what: string): bigint {
  if (!Number.isInteger(v) || v < 0) throw new ValueError(what);
  if (!Number.isSafeInteger(v))
    throw new ValueError(`${what} (JSON numbers above 2^53 lose precision: write it as a hex string)`);
  return BigInt(v);
}

const ADDR = 'an address (hex 0x..., or a JSON integer) below 2^64';

/** Parse an address: a hex string with 0x, or a JSON integer. */
export function parseAddr(v: unknown): bigint {
  let a: bigint;
  if (typeof v === 'number') a = fromNumber(v, ADDR);
  else if (typeof v === 'string') {
    const s = v.trim();
    if (!SYNTAX.hex.test(s) && /^[0-9a-fA-F]{1,16}$/.test(s)) {
      const hint = SYNTAX.decimal.test(s) ? '; a decimal address is written as a JSON number, never a string' : '';
      throw new ValueError(`an address in hex with 0x (did you mean "0x${s}"?${hint})`);
    }
    if (!SYNTAX.hex.test(s)) throw new ValueError(ADDR);
    a = BigInt('0x' + significant(s.slice(2), 16, ADDR));
  } else throw new ValueError(ADDR);
  if (a > MAX_U64) throw new ValueError(ADDR);
  return a;
}

const SIZE = 'a size (hex 0x..., an integer, or a number with K/M/G/T suffix such as 4K or 2M)';
const SUFFIX: Record<string, bigint> = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** Multiply a decimal string (with at most a few fraction digits) by `unit`, exactly. */
function decimalTimes(num: string, unit: bigint, what: string): bigint {
  const m = /^([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(num);
  if (!m) throw new ValueError(what);
  significant(m[1], 20, what);
  const frac = m[2] ?? '';
  const scale = 10n ** BigInt(frac.length);
  const total = (BigInt(m[1]) * scale + BigInt(frac === '' ? '0' : frac)) * unit;
  if (total % scale !== 0n) throw new ValueError(`${what}; it must come to a whole number`);
  return total / scale;
}

/** Parse a size in bytes. */
export function parseSize(v: unknown): bigint {
  let s: bigint;
  if (typeof v === 'number') s = fromNumber(v, SIZE);
  else if (typeof v === 'string') {
    const t = v.trim();
    const m = SYNTAX.sizeWithUnit.exec(t);
    s = m ? decimalTimes(m[1], SUFFIX[m[2].toUpperCase()], SIZE) : unsigned(t, SIZE);
  } else throw new ValueError(SIZE);
  if (s > MAX_U64) throw new ValueError(SIZE + ' below 2^64');
  if (s === 0n) throw new ValueError(SIZE + ' greater than 0');
  return s;
}

const TIME = 'a time (integer ns, or a number with unit ns/us/ms/s such as 1.5ms)';
const UNIT: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, ms: 1_000_000n, s: 1_000_000_000n };

/** Parse a time in ns. */
export function parseTime(v: unknown): number {
  let ns: bigint;
  if (typeof v === 'number') ns = fromNumber(v, TIME);
  else if (typeof v === 'string') {
    const t = v.trim();
    const m = SYNTAX.time.exec(t);
    if (!m) throw new ValueError(TIME);
    ns = decimalTimes(m[1], UNIT[m[2] ?? 'ns'], TIME);
  } else throw new ValueError(TIME);
  if (ns > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValueError(`${TIME} below 2^53 ns (104 days)`);
  return Number(ns);
}

/** Largest pid the readers accept. */
export const PID_MAX = 2 ** 31 - 1;

/** Parse a process id: an integer from 1 to PID_MAX (a JSON number or up to 10 digits). */
export function parsePid(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && SYNTAX.pid.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > PID_MAX)
    throw new ValueError(`a process id (an integer from 1 to ${PID_MAX})`);
  return n;
}

/** Render a time for messages. */
export function showTime(ns: number): string {
  if (ns % 1_000_000 === 0) return `${ns / 1_000_000}ms`;
  if (ns % 1000 === 0) return `${ns / 1000}us`;
  return `${ns}ns`;
}
