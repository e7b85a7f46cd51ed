/**
 * DOC: Trace schema — one event model for every encoding
 *
 * The zod schemas below are the single definition of a trace event and of the platform header,
 * shared by the JSON, JSONL and CSV readers (CSV cells arrive as strings; the value parsers accept
 * both). Every field is documented with `.describe()`; docs/trace-format.md is written from them.
 * Objects are strict: an unknown field is an error naming the field and the op.
 */

import { z } from 'zod';
import { KERNEL_VERSIONS, PLATFORM_KNOBS, type Platform } from '../core/platform.js';
import { parseAddr, parseSize, parseTime, ValueError } from './values.js';
import { PID_MAX } from './vocab.js';

/**
 * A zod field from one of our value parsers; the parser's `expected` becomes the message (any
 * JSON value reaches the parser, so `true` or `null` get "expected ..., found true", never zod's
 * "Invalid input").
 */
function parsed<T>(fn: (v: unknown) => T, description: string) {
  return z
    .unknown()
    .transform((v, ctx) => {
      try {
        return fn(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof ValueError ? e.expected : String(e) });
        return z.NEVER;
      }
    })
    .describe(description);
}

const addr = () => parsed(parseAddr, 'Address: hex string 0x..., decimal string or integer (< 2^64).');
const size = () => parsed(parseSize, 'Size in bytes: hex, integer, or with K/M/G/T suffix (binary units).');
const t = parsed(parseTime, 'Time in ns (integer) or with a unit: "1.5ms", "20us". Never decreasing; absent = previous time.').optional();
const comment = z.string().describe('Free text, ignored.').optional();

const prot = z.enum(['r', 'rw', 'none']).describe('CPU protection: r (PROT_READ), rw (PROT_READ|PROT_WRITE), none (PROT_NONE).');
const kind = z
  .enum(['anon', 'shared', 'file', 'hugetlb'])
  .describe('Mapping kind: anon = MAP_PRIVATE|MAP_ANONYMOUS (migratable), shared = MAP_SHARED|MAP_ANONYMOUS (shmem), file, hugetlb.');

const pid = parsed((v) => {
  const n = typeof v === 'number' ? v : /^[0-9]{1,10}$/.test(v as string) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > PID_MAX) throw new ValueError(`a process id (an integer from 1 to ${PID_MAX})`);
  return n;
}, 'Process id: each pid has its own mm and Xe VM, all share the GPU (default 1).').optional();

const base = { t, pid, comment };

export const eventSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('mmap').describe('mmap(MAP_FIXED) of [addr, addr+size).'), ...base, addr: addr(), size: size(), prot: prot.default('rw'), kind: kind.default('anon') }),
  z.strictObject({ op: z.literal('munmap').describe('munmap of [addr, addr+size).'), ...base, addr: addr(), size: size() }),
  z.strictObject({ op: z.literal('mprotect').describe('mprotect of [addr, addr+size).'), ...base, addr: addr(), size: size(), prot }),
  z.strictObject({
    op: z.literal('madvise').describe('CPU madvise of [addr, addr+size).'),
    ...base,
    addr: addr(),
    size: size(),
    advice: z.enum(['dontneed']).default('dontneed').describe('MADV_DONTNEED (the only advice modelled).'),
  }),
  ...(['cpu_read', 'cpu_write', 'gpu_read', 'gpu_write', 'gpu_atomic'] as const).map((op) =>
    z.strictObject({
      op: z.literal(op).describe(op.startsWith('cpu') ? 'CPU access of [addr, addr+size).' : 'GPU access; faults only where the hardware would.'),
      ...base,
      addr: addr(),
      size: size().optional().describe('Bytes accessed; default 1 (the page of addr).'),
    }),
  ),
  z.strictObject({
    op: z.literal('gpu_fault').describe('A recorded GPU page fault: always enters the fault handler.'),
    ...base,
    addr: addr(),
    access: z.enum(['read', 'write', 'atomic']).describe('Fault access type from the fault descriptor.'),
  }),
  z.strictObject({
    op: z.literal('xe_prefetch').describe('DRM_XE_VM_BIND_OP_PREFETCH on the mirror VMA (kernel >= 6.17).'),
    ...base,
    addr: addr(),
    size: size(),
    region: z.enum(['smem', 'vram', 'advised']).default('vram').describe('Target: smem, vram (VRAM0), advised (madvise preferred location, >= 6.18).'),
  }),
  z.strictObject({
    op: z.literal('xe_madvise').describe('DRM_IOCTL_XE_MADVISE (kernel >= 6.18); exactly one attribute.'),
    ...base,
    addr: addr(),
    size: size(),
    preferred: z.enum(['device', 'system']).optional().describe('DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC: DEFAULT_DEVICE or DEFAULT_SYSTEM.'),
    atomic: z.enum(['undefined', 'device', 'global', 'cpu']).optional().describe('DRM_XE_MEM_RANGE_ATTR_ATOMIC: DRM_XE_ATOMIC_*.'),
  }),
]);

export type TraceEvent = z.output<typeof eventSchema>;
export const OP_NAMES = eventSchema.options.map((o) => o.shape.op.value);

// ---------------------------------------------------------------------------------------------
// Platform header

/** A knob value from a fixed set of spellings, with a message naming them. */
function oneOf<T>(table: ReadonlyMap<unknown, T>, expected: string) {
  return z.unknown().transform((v, ctx) => {
    const key = typeof v === 'string' ? v.trim() : v;
    if (!table.has(key)) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return table.get(key) as T;
  });
}

const bool = oneOf(
  new Map<unknown, boolean>([true, 'true', '1', 'yes', 1].map((k) => [k, true] as [unknown, boolean]).concat([false, 'false', '0', 'no', 0].map((k) => [k, false]))),
  'a boolean (true, false, 1, 0, yes or no)',
);

function int(min: number, max: number, what: string) {
  return z
    .unknown()
    .transform((v, ctx) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]{1,16}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${what} (an integer from ${min} to ${max})` });
        return z.NEVER;
      }
      return n;
    });
}

const powerOfTwoMiB = parsed((v) => {
  const s = parseSize(v);
  if (s < 1n << 20n || (s & (s - 1n)) !== 0n) throw new ValueError('a power-of-two size of at least 1M, e.g. 512M');
  return s;
}, 'svm_notifier_size');

/** Platform header keys (snake_case, as in traces and on the command line). */
export const platformSchema = z.strictObject({
  kernel: z.enum(KERNEL_VERSIONS).optional().describe('Kernel profile (default 6.18).'),
  dgfx: bool.optional().describe('Discrete GPU with VRAM (default true).'),
  pagemap: bool.optional().describe('CONFIG_DRM_XE_PAGEMAP (default true).'),
  vram: parsed((v) => {
    const s = parseSize(v);
    if (s % 4096n !== 0n) throw new ValueError('a VRAM size in whole 4K pages (VRAM is allocated by the page), e.g. 4G, 512M or 64K');
    return s;
  }, 'VRAM of tile 0').optional().describe('VRAM of tile 0 (default 16G).'),
  need64k: bool.optional().describe('XE_VRAM_FLAGS_NEED64K (default false).'),
  need64k_rule: z.enum(['lt', 'le']).optional().describe('NEED64K comparison: lt (the released code, default) or le (the 6.15.0-6.15.3 regression).'),
  notifier_size: powerOfTwoMiB.optional().describe('svm_notifier_size (default 512M).'),
  atomic_timeslice_ms: int(0, 1_000_000, 'a timeslice in ms').optional().describe('atomic_svm_timeslice_ms (default 5).'),
  hz: oneOf(new Map<unknown, number>([100, 250, 300, 1000].flatMap((n) => [[n, n], [String(n), n]] as [unknown, number][])), 'a kernel HZ: one of 100, 250, 300, 1000')
    .optional()
    .describe('Kernel HZ (default 250).'),
  media_gt: bool.optional().describe('Tile 0 has a media GT (default true).'),
  va_bits: int(39, 57, 'GPU VA bits').optional().describe('GPU VA bits of the mirror VMA (default 48).'),
  mirror_read_only: bool.optional().describe('Mirror VMA bound read-only (default false).'),
  scratch_pages: bool.optional().describe('VM with scratch pages (default false).'),
  device_atomics_on_smem: bool.optional().describe('has_device_atomics_on_smem (default true; false on PVC).'),
  atomic_faults_on_smem_pte: bool.optional().describe('GPU atomics fault on SMEM PTEs on DGFX (default true).'),
  gc_unbind_tlb_inval: z.enum(['always', 'if_valid']).optional().describe('GC unbind TLB rule (default always <= 6.16, if_valid >= 6.17).'),
  gc: z.enum(['eager', 'lazy']).optional().describe('When the GC worker runs (default eager).'),
  always_migrate_to_vram: bool.optional().describe('6.15-rc1 modparam (default false).'),
  vram_fail_errno: z.enum(['ENOMEM', 'ENOSPC']).optional().describe('Errno of a failed VRAM allocation (default ENOMEM).'),
  vma_merge: bool.optional().describe('Merge adjacent anonymous VMAs (default true).'),
  cost_model: z.enum(['bmg', 'zero']).optional().describe('Cost model for _us counters (default bmg).'),
  fault_exit_returns_zero: bool.optional().describe('6.18.y: the fault handler exit returns 0 for -EACCES / hard get_pages failures (default true on 6.18.y).'),
  pref_system_owner_null: bool.optional().describe('6.18.y: device-private owner NULL when the VMA prefers system (default true on 6.18.y).'),
  devmem_only_fail_to_get_pages: bool.optional().describe('6.18.y: devmem_only VRAM allocation failure goes to get_pages (default true on 6.18.y).'),
  madvise_autoreset_gate: bool.optional().describe('6.18.y: GC attribute reset only for VMAs bound with MADVISE_AUTORESET (default true on 6.18.y).'),
  mirror_madvise_autoreset: bool.optional().describe('Mirror VMA bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (default false).'),
  livelock_bound: int(1, 1_000_000, 'a loop bound').optional().describe('Handler loop iterations / GPU replays without progress before LIVELOCK (default 64).'),
});

/**
 * Other spellings accepted for platform knobs: the names of the reference's simulation model
 * (xe-svm-model.md §10.1) and of the kernel symbols. `svm_notifier_size` takes the module
 * parameter's unit: a bare number is MiB.
 */
export const PLATFORM_ALIASES: Readonly<Record<string, keyof typeof platformSchema.shape>> = {
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

/**
 * Rename aliases to their knob names. Returns the renamed object, or a message when a knob is
 * given twice (under its name and an alias).
 */
export function canonicalKnobs<T>(obj: Record<string, T>): { knobs: Record<string, T | string> } | { twice: string } {
  // Own keys only, looked up with Object.hasOwn: "constructor" or "__proto__" are unknown knobs,
  // never something found on Object.prototype.
  const out: Record<string, T | string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const name = Object.hasOwn(PLATFORM_ALIASES, k) ? PLATFORM_ALIASES[k] : k;
    if (Object.hasOwn(out, name)) return { twice: `platform knob "${name}" is given twice${name !== k ? ` (also as "${k}")` : ''}` };
    Object.defineProperty(out, name, { value: undefined, enumerable: true, writable: true, configurable: true });
    out[name] = k === 'svm_notifier_size' && (typeof v === 'number' || (typeof v === 'string' && /^\s*[0-9]+\s*$/.test(v))) ? `${String(v).trim()}M` : v;
  }
  return { knobs: out };
}

type Knob = keyof typeof PLATFORM_KNOBS;
const KEY_TO_FIELD = Object.fromEntries(Object.entries(PLATFORM_KNOBS).map(([f, k]) => [k, f as Knob])) as Record<string, Knob>;

/** Map validated header keys to Platform fields. */
export function toPlatform(h: z.output<typeof platformSchema>): Partial<Platform> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[KEY_TO_FIELD[k]] = k === 'vram' || k === 'notifier_size' ? v : v;
  }
  return out as Partial<Platform>;
}

// ---------------------------------------------------------------------------------------------
// Expectations (`svmsim test`)

/**
 * What a trace declares must come out of its replay: JSON document field `expect`, the JSONL
 * header's `expect`, or a CSV `#! expect {...}` line. Every part is optional; `stats` lists only
 * the counters it checks; `ranges`, when present, is the exact final list; `events` is keyed by
 * the event's `#N` (0-based seq) in the replay output.
 */
export const expectSchema = z.strictObject({
  stats: z
    .record(z.string().regex(/^gt[0-9]$/, 'a GT name: gt0, gt1'), z.record(z.string(), z.number().int().nonnegative()))
    .optional()
    .describe('GT counters that must have these values at the end: {"gt0": {"svm_pagefault_count": 3}}.'),
  ranges: z
    .array(
      z.strictObject({
        start: addr(),
        end: addr(),
        location: z.enum(['vram', 'smem', 'mixed']).optional(),
        valid: z.boolean().optional(),
      }),
    )
    .optional()
    .describe('The exact final list of GPU SVM ranges, by start address.'),
  events: z
    .record(
      z.string().regex(/^[0-9]+$/, 'an event number (#N of the replay, 0-based)'),
      z.strictObject({
        outcome: z.enum(['ok', 'hit', 'error']).optional(),
        errno: z.string().nullable().optional(),
        codes: z.array(z.string()).optional(),
      }),
    )
    .optional()
    .describe('Per event (#N): outcome, errno (null: none), codes (decision codes that must occur, in this order).'),
  vram_used: z
    .union([z.literal(0), z.literal('0')])
    .transform(() => 0n)
    .or(size())
    .optional()
    .describe('VRAM in use at the end, e.g. "2M" or 0.'),
  thrashing: z.union([z.boolean(), z.number().int().nonnegative()]).optional().describe('Whether any range thrashes (or how many).'),
  metrics: z.record(z.string(), z.number()).optional().describe('Derived figures at the end: {"pagesToVram": 512}.'),
});

export type Expect = z.output<typeof expectSchema>;
