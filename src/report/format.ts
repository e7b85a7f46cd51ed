/**
 * DOC: Shared formatting — addresses, sizes, times
 *
 * Addresses are printed as lower-case `0x` hex of the full 64-bit value (from bigint, never a
 * float); sizes as 4K/64K/2M-style binary units when exact, else bytes.
 */

/** Two hex digits per byte value (padded), and without the leading zero (the most significant byte). */
const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX1: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));

/**
 * Hex digits of a non-negative integer below 2^53 (no prefix). Number#toString(16) takes the
 * slow path for doubles above 2^31 (about 1.5 us each): this splits the value into 24-bit
 * halves and looks bytes up in a table.
 */
export function hexDigits(n: number): string {
  const lo = n % 16777216;
  const hi = (n - lo) / 16777216;
  const b0 = lo & 255;
  const b1 = (lo >> 8) & 255;
  const b2 = lo >> 16;
  if (hi === 0) return b2 !== 0 ? HEX1[b2] + HEX2[b1] + HEX2[b0] : b1 !== 0 ? HEX1[b1] + HEX2[b0] : HEX1[b0];
  const low = HEX2[b2] + HEX2[b1] + HEX2[b0];
  if (hi < 16777216) {
    const c1 = (hi >> 8) & 255;
    const c2 = hi >> 16;
    return (
      (c2 !== 0 ? HEX1[c2] + HEX2[c1] + HEX2[hi & 255] : c1 !== 0 ? HEX1[c1] + HEX2[hi & 255] : HEX1[hi & 255]) + low
    );
  }
  return hexDigits(hi) + low;
}

/** Decimal digits of 0-999, and the same padded to three digits. */
const DEC: string[] = Array.from({ length: 1000 }, (_, i) => String(i));
const DEC3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** A fraction of thousandths as it follows the point: '' for 0, '.5' for 500, '.007' for 7. */
const FRAC3: string[] = DEC3.map((d, i) => (i === 0 ? '' : `.${d.replace(/0+$/, '')}`));

/** Decimal digits of an integer 0 <= n < 2^53, three at a time from the tables. */
function uintText(n: number): string {
  if (n < 1000) return DEC[n];
  const hi = Math.floor(n / 1000);
  return uintText(hi) + DEC3[n - hi * 1000];
}

/**
 * `String(n)`, without V8's number-to-string cache for the numbers writers print by the million
 * (integers below 2^53, and thousandths below 2^32 such as microseconds of a nanosecond time).
 * V8 keeps the string of every number it converts in a cache in the old generation, until another
 * number takes its slot: strings that stay there across two young collections are promoted, and
 * the old generation fills with dead ones between full collections (`--format dmesg` of 2M atomic
 * events: the old generation grew by ~25 MB per million events; bench/results.md, engineer mem).
 * Strings made here are plain concatenations that die young. Anything else goes to String().
 */
export function numberText(n: number): string {
  if (Number.isSafeInteger(n)) return n >= 0 ? uintText(n) : `-${uintText(-n)}`;
  const a = Math.abs(n);
  if (a < 4294967296) {
    const k = Math.round(a * 1000);
    if (k / 1000 === a) {
      const whole = Math.floor(k / 1000);
      return (n < 0 ? '-' : '') + uintText(whole) + FRAC3[k - whole * 1000];
    }
  }
  return String(n);
}

/** Byte address of a page index, as 0x hex. */
export function hexPage(page: number): string {
  // Below 2^41 pages the byte address is an exact double: the page's digits and three zeros.
  if (page > 0 && page < 2 ** 41 && Number.isInteger(page)) return '0x' + hexDigits(page) + '000';
  return page >= 0 && page < 2 ** 41 ? '0x' + (page * 4096).toString(16) : '0x' + (BigInt(page) << 12n).toString(16);
}

/** A byte address as 0x hex. */
export function hexAddr(addr: bigint): string {
  return addr >= 0n && addr < 9007199254740992n ? '0x' + hexDigits(Number(addr)) : '0x' + addr.toString(16);
}

/** Human size of a byte count: 4K, 64K, 2M, 1.5G when exact to 0.1, else bytes. */
export function humanBytes(bytes: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'T'],
    [1n << 30n, 'G'],
    [1n << 20n, 'M'],
    [1n << 10n, 'K'],
  ];
  for (const [u, s] of units) {
    if (bytes >= u && bytes % u === 0n) return `${bytes / u}${s}`;
  }
  for (const [u, s] of units) {
    if (bytes >= u && (bytes * 10n) % u === 0n) return `${Number((bytes * 10n) / u) / 10}${s}`;
  }
  return `${bytes}B`;
}

/** Size of a page count. */
export function humanPages(pages: number): string {
  return humanBytes(BigInt(pages) << 12n);
}

/** [start, end) of page indices in hex. */
export function span(start: number, end: number): string {
  return `[${hexPage(start)}, ${hexPage(end)})`;
}

/** A time in ns as ms with 3 decimals (µs resolution), exact integer arithmetic. */
export function ms(ns: number): string {
  const usTotal = Math.floor(ns / 1000);
  const whole = Math.floor(usTotal / 1000);
  const frac = String(usTotal % 1000).padStart(3, '0');
  return `${whole}.${frac}ms`;
}
