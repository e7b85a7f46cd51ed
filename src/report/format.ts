/**
 * DOC: Shared formatting — addresses, sizes, times
 *
 * Addresses are printed as lower-case `0x` hex of the full 64-bit value (from bigint, never a
 * float); sizes as 4K/64K/2M-style binary units when exact, else bytes.
 */

/** Byte address of a page index, as 0x hex. */
export function hexPage(page: number): string {
  // Below 2^41 pages the byte address is an exact double: no BigInt needed.
  return page >= 0 && page < 2 ** 41 ? '0x' + (page * 4096).toString(16) : '0x' + (BigInt(page) << 12n).toString(16);
}

/** A byte address as 0x hex. */
export function hexAddr(addr: bigint): string {
  return '0x' + addr.toString(16);
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
