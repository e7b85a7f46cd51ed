/**
 * DOC: Trace vocabulary shared by the fast readers
 *
 * Which fields each op takes and which values the enum fields allow, as plain tables for the
 * hot paths (fast.ts, csv-bytes.ts). The zod schema in schema.ts is the definition; the tests
 * check that the fast paths and the schema agree.
 */

import { OPS, type Op } from '../core/events.js';
import type { ParsedEvent } from './parse.js';

export const OP_SET: ReadonlySet<string> = new Set(OPS);

/** Largest pid the readers accept (the schema's bound). */
export const PID_MAX = 2 ** 31 - 1;

/**
 * The largest span one access (CPU or GPU) or prefetch may have: the model keeps state for every
 * page such an event touches (page-table blocks, ranges, faults), so a bigger one — 128T, 2^63
 * bytes — would exhaust memory or a JavaScript Map. Refused as bad input (the fast readers send
 * anything over MAX_ACCESS_PAGES to the schema path, which decides). mmap, munmap, mprotect and
 * madvise only touch VMAs and present pages, and take any span below 2^64.
 */
export const MAX_ACCESS_BYTES = 64n << 30n;
export const MAX_ACCESS_PAGES = Number(MAX_ACCESS_BYTES >> 12n);
export const PER_PAGE_OPS: ReadonlySet<string> = new Set(['cpu_read', 'cpu_write', 'gpu_read', 'gpu_write', 'gpu_atomic', 'xe_prefetch']);

/** Fields each op accepts besides t, op, addr, and whether size is required. */
export const OP_FIELDS: Record<Op, { size: 'required' | 'optional' | 'none'; extra: readonly EnumField[] }> = {
  mmap: { size: 'required', extra: ['prot', 'kind'] },
  munmap: { size: 'required', extra: [] },
  mprotect: { size: 'required', extra: ['prot'] },
  madvise: { size: 'required', extra: ['advice'] },
  cpu_read: { size: 'optional', extra: [] },
  cpu_write: { size: 'optional', extra: [] },
  gpu_read: { size: 'optional', extra: [] },
  gpu_write: { size: 'optional', extra: [] },
  gpu_atomic: { size: 'optional', extra: [] },
  gpu_fault: { size: 'none', extra: ['access'] },
  xe_prefetch: { size: 'required', extra: ['region'] },
  xe_madvise: { size: 'required', extra: ['preferred', 'atomic'] },
};

export const ENUM_FIELDS = ['prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'] as const;
export type EnumField = (typeof ENUM_FIELDS)[number];

export const ENUMS: Record<EnumField, ReadonlySet<string>> = {
  prot: new Set(['r', 'rw', 'none']),
  kind: new Set(['anon', 'shared', 'file', 'hugetlb']),
  advice: new Set(['dontneed']),
  access: new Set(['read', 'write', 'atomic']),
  region: new Set(['smem', 'vram', 'advised']),
  preferred: new Set(['device', 'system']),
  atomic: new Set(['undefined', 'device', 'global', 'cpu']),
};

/** Hex digit values by byte, -1 for anything else (a table beats branches on the hot path). */
export const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

/** Value of a hex digit char code, or -1. */
export function hexDigit(c: number): number {
  return c < 256 ? HEX[c] : -1;
}

/** A one-pass event source usable both as an iterable and by pulling with read(). */
export type EventSource = Iterable<ParsedEvent> & { read(): ParsedEvent | undefined };

export function pullSource(read: () => ParsedEvent | undefined): EventSource {
  return {
    read,
    [Symbol.iterator]() {
      return {
        next: (): IteratorResult<ParsedEvent> => {
          const e = read();
          return e === undefined ? { value: undefined, done: true } : { value: e, done: false };
        },
      };
    },
  };
}
