/**
 * DOC: Option values — commander argument parsers shared by every command
 *
 * Each option value is parsed once, by commander, through one of these `argParser` functions:
 * a bad value stops the command before it starts, with commander's message naming the option and
 * this module's "Expected ..." (exit 2 through describeFailure, errors.ts). Commands receive typed
 * values (numbers, nanoseconds, validated strings), never raw text to parse again.
 *
 * Sizes on the command line need a unit: `--vram 16` would be 16 bytes, so a plain decimal number
 * is refused with a hint (`did you mean 16G?`); hex (`0x400000000`) is taken as bytes. A trace
 * header keeps its own rules (src/trace/values.ts), which this module reuses for the value itself.
 *
 * Only src/trace/values.ts is loaded here (no schema): `--help` and `--version` stay cheap.
 */

import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { ThrashOptions } from '../core/metrics.js';
import type { DmesgOptions } from '../report/dmesg.js';
import { parseAddr, parseSize, parseTime } from '../trace/values.js';

/** An option value problem: commander prints "option '--x <v>' argument 'V' is invalid. MESSAGE". */
function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

/** An integer from `min` to `max` (decimal digits only). */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER, expected?: string): (v: string) => number {
  const what =
    expected ??
    (max === Number.MAX_SAFE_INTEGER
      ? min === 1
        ? 'a positive integer'
        : min === 0
          ? 'a non-negative integer'
          : `an integer of at least ${min}`
      : `an integer from ${min} to ${max}`);
  return (v) => {
    const t = v.trim();
    const n = /^-?[0-9]{1,16}$/.test(t) ? Number(t) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) invalid(`Expected ${what}.`);
    return n;
  };
}

export const positiveInt = integer(1);
export const nonNegativeInt = integer(0);

/** A number >= 0 (a percentage, ...). */
export function nonNegativeNumber(v: string): number {
  const n = /^[0-9]+(\.[0-9]+)?$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!(n >= 0)) invalid('Expected a number >= 0.');
  return n;
}

/** A duration in nanoseconds: `500us`, `1.5ms`, `20ms`, `1s`, or integer ns. */
export function duration(v: string): number {
  try {
    return parseTime(v);
  } catch {
    return invalid('Expected a time such as 500us (a number with unit ns, us, ms or s).');
  }
}

/** A 64-bit address (hex 0x... or decimal). */
export function address(v: string): bigint {
  try {
    return parseAddr(v);
  } catch {
    return invalid('Expected an address, hex 0x... (e.g. 0x7f0000000000).');
  }
}

const UNITS: [string, bigint][] = [
  ['T', 1n << 40n],
  ['G', 1n << 30n],
  ['M', 1n << 20n],
  ['K', 1n << 10n],
];

/** The shortest exact way to write `bytes` with a unit (16G, 1536M), if there is one. */
function withUnit(bytes: bigint): string | undefined {
  for (const [u, n] of UNITS) if (bytes % n === 0n) return `${bytes / n}${u}`;
  return undefined;
}

/**
 * Why a command-line size is refused, or undefined when it is fine: a plain decimal number is
 * bytes in a trace, but on the command line it is nearly always a forgotten unit (`--vram 16`).
 * `unit` is the unit the hint suggests for a small number (G for VRAM, M for a working set).
 */
export function sizeUnitProblem(v: string, unit: 'K' | 'M' | 'G'): string | undefined {
  const t = v.trim();
  if (!/^[0-9]{1,20}$/.test(t)) return undefined;
  const bytes = BigInt(t);
  const exact = withUnit(bytes);
  const hint =
    bytes === 0n
      ? ''
      : bytes < 1024n
        ? ` Did you mean ${bytes}${unit}?`
        : exact !== undefined
          ? ` ${t} bytes is ${exact}: write ${exact}.`
          : '';
  return `Expected a size with a unit, K, M, G or T (a plain number would be bytes).${hint}`;
}

/** A size with a unit (see sizeUnitProblem); the value is returned as written, checked. */
export function size(unit: 'K' | 'M' | 'G'): (v: string) => string {
  return (v) => {
    const p = sizeUnitProblem(v, unit);
    if (p !== undefined) invalid(p);
    try {
      parseSize(v);
    } catch {
      invalid('Expected a size such as 4K, 2M, 16G (or hex bytes 0x...).');
    }
    return v.trim();
  };
}

/** A comma-separated list of sizes with units (compare / report --vram); returned as written. */
export function sizeList(unit: 'K' | 'M' | 'G'): (v: string) => string {
  const one = size(unit);
  return (v) => {
    const items = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (items.length === 0) invalid('Expected one or more sizes, comma separated, e.g. 4G,16G.');
    for (const x of items) one(x);
    return v;
  };
}

/** A comma-separated list of some of `choices` (compare / report --kernel); returned as written. */
export function choiceList(choices: readonly string[]): (v: string) => string {
  return (v) => {
    const items = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (items.length === 0 || !items.every((x) => choices.includes(x)))
      invalid(`Expected a comma-separated list of ${choices.join(', ')}.`);
    return v;
  };
}

/** Repeatable option: the values in order. */
export function collect(v: string, prev: string[]): string[] {
  return prev.concat([v]);
}

/** --shard I/N, 1 <= I <= N. */
export function shard(v: string): [number, number] {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(v.trim());
  const i = m ? Number(m[1]) : Number.NaN;
  const n = m ? Number(m[2]) : Number.NaN;
  if (!m || n < 1 || i < 1 || i > n) invalid('Expected I/N with 1 <= I <= N, e.g. 2/8.');
  return [i, n];
}

/** dmesg's VM asid: an unsigned 32-bit number. */
export const asid = integer(0, 0xffffffff, 'an unsigned 32-bit number');

/** dmesg's gpusvm pointer: up to 16 hex digits, printed as 16. */
export function gpusvmPointer(v: string): string {
  const h = v.replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{1,16}$/.test(h)) invalid('Expected up to 16 hex digits.');
  return h.padStart(16, '0');
}

/** A PCI address such as 0000:03:00.0. */
export function pciAddress(v: string): string {
  if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(v)) invalid('Expected a PCI address such as 0000:03:00.0.');
  return v.toLowerCase();
}

/** --thrash-threshold / --thrash-window, already parsed by commander. */
export function thrashOptions(o: { thrashThreshold: number; thrashWindow: number }): ThrashOptions {
  return { threshold: o.thrashThreshold, windowNs: o.thrashWindow };
}

/** --dmesg-asid / --dmesg-gpusvm / --dmesg-pci (replay --format dmesg, validate --kernel-log). */
export function dmesgOptions(
  o: { dmesgAsid?: number; dmesgGpusvm?: string; dmesgPci?: string },
  defaults: DmesgOptions,
): DmesgOptions {
  return {
    asid: o.dmesgAsid ?? defaults.asid,
    gpusvm: o.dmesgGpusvm ?? defaults.gpusvm,
    pci: o.dmesgPci ?? defaults.pci,
  };
}
