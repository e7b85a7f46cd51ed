/**
 * DOC: Trace rules — the one definition of a trace event
 *
 * Every rule of the trace format is written here once, as data: the ops with the fields each one
 * takes (which are required, which have a default, which come in exactly-one-of groups), the enum
 * values with their meaning, the limits (largest pid, largest per-page span) and the span
 * arithmetic (pages touched, the default size). Value syntax (addresses, sizes, times, pids) and
 * its error wording live in values.ts.
 *
 * Consumers, never restating a rule:
 * - schema.ts builds the zod schema (the reference path and its messages) from these tables;
 * - fast.ts (JSONL objects) and csv-bytes.ts (CSV bytes) read the common shapes straight from
 *   the tables, and give every line they do not accept to the schema path;
 * - parse.ts converts a validated event to a core event with `coreOf` below;
 * - scripts/schemas.mjs writes schemas/trace.schema.json from the zod schema.
 *
 * Adding an op or an enum value is one edit here (plus the model's handling in src/core).
 */

import type { AtomicAttr, GpuAccess, MapKind, Op, PreferredLoc, PrefetchRegion, Prot } from '../core/events.js';
import type { PLATFORM_KNOBS } from '../core/platform.js';

/** Enum fields: allowed values (the first line of each doc is the meaning of the field). */
export const ENUMS = {
  prot: {
    values: ['r', 'rw', 'none'] satisfies Prot[],
    doc: 'CPU protection: r (PROT_READ), rw (PROT_READ|PROT_WRITE), none (PROT_NONE).',
  },
  kind: {
    values: ['anon', 'shared', 'file', 'hugetlb'] satisfies MapKind[],
    doc: 'Mapping kind: anon = MAP_PRIVATE|MAP_ANONYMOUS (migratable), shared = MAP_SHARED|MAP_ANONYMOUS (shmem), file, hugetlb.',
  },
  advice: { values: ['dontneed'] as ['dontneed'], doc: 'MADV_DONTNEED (the only advice modelled).' },
  access: {
    values: ['read', 'write', 'atomic'] satisfies GpuAccess[],
    doc: 'Fault access type from the fault descriptor.',
  },
  region: {
    values: ['smem', 'vram', 'advised'] satisfies PrefetchRegion[],
    doc: 'Target: smem, vram (VRAM0), advised (madvise preferred location, >= 6.18).',
  },
  preferred: {
    values: ['device', 'system'] satisfies PreferredLoc[],
    doc: 'DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC: DEFAULT_DEVICE or DEFAULT_SYSTEM.',
  },
  atomic: {
    values: ['undefined', 'device', 'global', 'cpu'] satisfies AtomicAttr[],
    doc: 'DRM_XE_MEM_RANGE_ATTR_ATOMIC: DRM_XE_ATOMIC_*.',
  },
} as const;

export type EnumField = keyof typeof ENUMS;
export const ENUM_FIELDS = Object.keys(ENUMS) as EnumField[];
/** Allowed values of each enum field, as sets for the readers. */
export const ENUM_SETS = Object.fromEntries(
  ENUM_FIELDS.map((f) => [f, new Set<string>(ENUMS[f].values)]),
) as unknown as Record<EnumField, ReadonlySet<string>>;

/**
 * How an op takes an enum field: `required`, with a `default` when absent, or `optional` (then
 * the op's `oneOf` group says how many of its optional fields must be given).
 */
export type FieldUse = { use: 'required' } | { use: 'default'; value: string } | { use: 'optional' };

export interface OpRule {
  doc: string;
  /** `required`; `optional` (default 1 byte: the page of addr); `none` (the op has no size and touches one page). */
  size: 'required' | 'optional' | 'none';
  /** The enum fields the op takes, in column order. */
  fields: Partial<Record<EnumField, FieldUse>>;
  /** Exactly one of these optional fields must be given. */
  oneOf: readonly EnumField[] | undefined;
  /** The model keeps state for every page the event touches: its span is bounded (MAX_ACCESS_BYTES). */
  perPage: true | undefined;
}

const req: FieldUse = { use: 'required' };
const def = (value: string): FieldUse => ({ use: 'default', value });
const opt: FieldUse = { use: 'optional' };

/** A rule with every key present in one order (one object shape: the readers' property loads stay monomorphic). */
function rule(
  doc: string,
  size: OpRule['size'],
  fields: OpRule['fields'],
  more: { oneOf?: readonly EnumField[]; perPage?: true } = {},
): OpRule {
  return { doc, size, fields, oneOf: more.oneOf, perPage: more.perPage };
}
const access = (doc: string) => rule(doc, 'optional', {}, { perPage: true });

/** Every op, in the order the docs and messages list them. */
export const OP_RULES: Record<Op, OpRule> = {
  mmap: rule('mmap(MAP_FIXED) of [addr, addr+size).', 'required', { prot: def('rw'), kind: def('anon') }),
  munmap: rule('munmap of [addr, addr+size).', 'required', {}),
  mprotect: rule('mprotect of [addr, addr+size).', 'required', { prot: req }),
  madvise: rule('CPU madvise of [addr, addr+size).', 'required', { advice: def('dontneed') }),
  cpu_read: access('CPU access of [addr, addr+size).'),
  cpu_write: access('CPU access of [addr, addr+size).'),
  gpu_read: access('GPU access; faults only where the hardware would.'),
  gpu_write: access('GPU access; faults only where the hardware would.'),
  gpu_atomic: access('GPU access; faults only where the hardware would.'),
  gpu_fault: rule('A recorded GPU page fault: always enters the fault handler.', 'none', { access: req }),
  xe_prefetch: rule(
    'DRM_XE_VM_BIND_OP_PREFETCH on the mirror VMA (kernel >= 6.17).',
    'required',
    { region: def('vram') },
    { perPage: true },
  ),
  xe_madvise: rule(
    'DRM_IOCTL_XE_MADVISE (kernel >= 6.18); exactly one attribute.',
    'required',
    { preferred: opt, atomic: opt },
    { oneOf: ['preferred', 'atomic'] },
  ),
};

export const OP_NAMES = Object.keys(OP_RULES) as Op[];

/** The enum fields of each op's rule, listed once (the readers ask for every event). */
const FIELDS_OF = new Map<OpRule, readonly EnumField[]>(
  Object.values(OP_RULES).map((r) => [r, Object.keys(r.fields) as EnumField[]]),
);

/** The enum fields an op takes. */
export function fieldsOf(rule: OpRule): readonly EnumField[] {
  return FIELDS_OF.get(rule) ?? (Object.keys(rule.fields) as EnumField[]);
}

/** The rule of an op (any string; undefined when it is not an op). */
export function opRule(op: string): OpRule | undefined {
  return Object.hasOwn(OP_RULES, op) ? (OP_RULES as Record<string, OpRule>)[op] : undefined;
}

/** Fields every op takes besides its own (CSV column and JSON key names). */
const COMMON_FIELDS = ['t', 'pid', 'op', 'addr', 'size', 'comment'] as const;
/** Every field name a trace event may have: the CSV columns. */
export const ALL_FIELDS: readonly string[] = [...COMMON_FIELDS.slice(0, 5), ...ENUM_FIELDS, 'comment'];

/**
 * The largest span one access (CPU or GPU) or prefetch may have: the model keeps state for every
 * page such an event touches (page-table blocks, ranges, faults), so a bigger one — 128T, 2^63
 * bytes — would exhaust memory or a JavaScript Map. Refused as bad input (the fast readers send
 * anything over MAX_ACCESS_PAGES to the schema path, which decides). mmap, munmap, mprotect and
 * madvise only touch VMAs and present pages, and take any span below 2^64.
 */
export const MAX_ACCESS_BYTES = 64n << 30n;
const MAX_ACCESS_PAGES = Number(MAX_ACCESS_BYTES >> 12n);

/** Size of an event that gives none: 1 byte (the page of addr), 0 for an op without a size. */
export function defaultSize(rule: OpRule): number {
  return rule.size === 'none' ? 0 : 1;
}

/**
 * Pages touched by [addr, addr+size) when addr has `offset` in its page: ceil((offset+size)/4096),
 * 0 for size 0; an op without a size touches one page. Numbers (exact below 2^53): the fast readers.
 */
export function pagesOf(rule: OpRule, offset: number, size: number): number {
  // (ceil of the exact quotient, never an integer division: V8 would speculate on the quotient
  // being whole and deoptimise the fast reader at the first span that is not)
  return rule.size === 'none' ? 1 : size === 0 ? 0 : Math.ceil((offset + size) / 4096);
}

/** pagesOf() for any 64-bit span (bigint): the schema path. */
export function pagesOfBig(rule: OpRule, offset: bigint, size: bigint): number {
  return rule.size === 'none' ? 1 : size === 0n ? 0 : Number((offset + size + 4095n) >> 12n);
}

/**
 * The fast readers' bound: a span whose pages end above 2^52 or that is larger than
 * MAX_ACCESS_PAGES goes to the schema path, which refuses it or handles it exactly.
 */
export function fastSpanOk(page: number, npages: number): boolean {
  return page + npages <= 2 ** 52 && npages <= MAX_ACCESS_PAGES;
}

/**
 * The enum values of an event, rule by rule: `get(field)` gives the field's value as read
 * (undefined when absent). Returns the fields to set, or a string naming the broken rule.
 * Used by the schema path (which has checked the values) and the fast readers (which defer on
 * any answer but an object).
 */
export function enumValues(
  rule: OpRule,
  get: (f: EnumField) => string | undefined,
): Partial<Record<EnumField, string>> | string {
  const out: Partial<Record<EnumField, string>> = {};
  for (const f of fieldsOf(rule)) {
    const use = rule.fields[f]!;
    const v = get(f);
    if (v === undefined) {
      if (use.use === 'required') return f;
      if (use.use === 'default') out[f] = use.value;
      continue;
    }
    if (!ENUM_SETS[f].has(v)) return f;
    out[f] = v;
  }
  if (rule.oneOf !== undefined && rule.oneOf.filter((f) => out[f] !== undefined).length !== 1) return rule.oneOf[0];
  return out;
}

/** The message of a broken `oneOf` rule. */
export function oneOfMessage(op: string, rule: OpRule): string {
  return `${op} takes exactly one of ${rule.oneOf!.map((f) => `"${f}"`).join(' or ')}`;
}

/** Hex digit values by byte, -1 for anything else (a table beats branches on the hot path). */
export const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

/**
 * Two digits at once, for readers that load bytes two or four at a time (little-endian: the first
 * character in the low byte). HEX2[c0 | c1 << 8] is the value of two hex digits (0..255),
 * DEC2[c0 | c1 << 8] of two decimal digits (0..99); -1 when either byte is not a digit.
 */
export const HEX2 = new Int16Array(65536).fill(-1);
export const DEC2 = new Int8Array(65536).fill(-1);
for (let c0 = 0; c0 < 256; c0++) {
  if (HEX[c0] < 0) continue;
  for (let c1 = 0; c1 < 256; c1++) {
    if (HEX[c1] < 0) continue;
    HEX2[c0 | (c1 << 8)] = HEX[c0] * 16 + HEX[c1];
    if (c0 <= 57 && c1 <= 57) DEC2[c0 | (c1 << 8)] = HEX[c0] * 10 + HEX[c1];
  }
}

/** The closest of `words` to `w` (edit distance at most 2 and less than half its length), for "did you mean". */
export function closest(w: string, words: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(3, Math.ceil(w.length / 2));
  for (const c of words) {
    const d = editDistance(w.toLowerCase(), c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * Other spellings accepted for platform knobs: the names of the reference's simulation model
 * (xe-svm-model.md §10.1) and of the kernel symbols (schema.ts reads the platform header with them;
 * here, not there, so that the command line has them without the schemas). `svm_notifier_size` takes the module
 * parameter's unit: a bare number is MiB.
 */
export const PLATFORM_ALIASES: Readonly<Record<string, (typeof PLATFORM_KNOBS)[keyof typeof PLATFORM_KNOBS]>> = {
  version: 'kernel',
  is_dgfx: 'dgfx',
  pagemap_enabled: 'pagemap',
  vram_capacity: 'vram',
  svm_notifier_size: 'notifier_size',
  atomic_svm_timeslice_ms: 'atomic_timeslice_ms',
  HZ: 'hz',
  has_media_gt: 'media_gt',
  has_device_atomics_on_smem: 'device_atomics_on_smem',
  atomic_on_smem_pte_faults: 'atomic_faults_on_smem_pte',
};
