/**
 * DOC: Trace schema — one event model for every encoding
 *
 * The zod schemas below are the single definition of a trace event and of the platform header,
 * shared by the JSON, JSONL and CSV readers (CSV cells arrive as strings; the value parsers accept
 * both). Every field is documented with `.describe()`; docs/trace-format.md is written from them.
 * Objects are strict: an unknown field is an error naming the field and the op.
 */

import { z } from 'zod';
import type { Op } from '../core/events.js';
import { KERNEL_VERSIONS, PLATFORM_KNOBS, type Platform } from '../core/platform.js';
import { ENUMS, OP_RULES, PLATFORM_ALIASES, type EnumField, type FieldUse } from './rules.js';
import { jsonPattern, parseAddr, parsePid, parseSize, parseTime, PID_MAX, SYNTAX, ValueError } from './values.js';

/**
 * What a value field accepts, as JSON Schema (the zod fields below are transforms, which JSON
 * Schema cannot express): read by scripts/schemas.mjs through `jsonSchemaOverride`.
 */
const jsonShapes = new WeakMap<z.ZodType, Record<string, unknown>>();

/**
 * A zod field from one of our value parsers; the parser's `expected` becomes the message (any
 * JSON value reaches the parser, so `true` or `null` get "expected ..., found true", never zod's
 * "Invalid input").
 */
function parsed<T>(fn: (v: unknown) => T, description: string, json: Record<string, unknown>) {
  const s = z
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
  jsonShapes.set(s, json);
  return s;
}

/** For z.toJSONSchema's `override`: the JSON Schema of a value field. */
export function jsonSchemaOverride(ctx: { zodSchema: unknown; jsonSchema: Record<string, unknown> }): void {
  const shape = jsonShapes.get(ctx.zodSchema as z.ZodType);
  if (shape !== undefined) Object.assign(ctx.jsonSchema, shape);
}

const uint = (extra: Record<string, unknown> = {}) => ({ type: 'integer', minimum: 0, ...extra });
const addr = () =>
  parsed(parseAddr, 'Address: hex string 0x... or JSON integer (< 2^64); a string without 0x is an error.', {
    anyOf: [{ type: 'string', pattern: jsonPattern(SYNTAX.hex) }, uint({ maximum: Number.MAX_SAFE_INTEGER })],
  });
const SIZE_JSON = {
  anyOf: [
    { type: 'string', pattern: jsonPattern(SYNTAX.hex, SYNTAX.decimal, SYNTAX.sizeWithUnit) },
    { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  ],
};
const size = () => parsed(parseSize, 'Size in bytes: hex, integer, or with K/M/G/T suffix (binary units).', SIZE_JSON);
const t = parsed(
  parseTime,
  'Time in ns (integer) or with a unit: "1.5ms", "20us". Never decreasing; absent = previous time.',
  {
    anyOf: [{ type: 'string', pattern: jsonPattern(SYNTAX.time) }, uint({ maximum: Number.MAX_SAFE_INTEGER })],
  },
).optional();
const comment = z.string().describe('Free text, ignored.').optional();
const pid = parsed(parsePid, 'Process id: each pid has its own mm and Xe VM, all share the GPU (default 1).', {
  anyOf: [
    { type: 'string', pattern: SYNTAX.pid.source },
    { type: 'integer', minimum: 1, maximum: PID_MAX },
  ],
}).optional();

const base = { t, pid, comment };

/** An enum field as an op takes it (rules.ts). */
function enumField(f: EnumField, use: FieldUse) {
  const e = z.enum(ENUMS[f].values as unknown as [string, ...string[]]).describe(ENUMS[f].doc);
  return use.use === 'default' ? e.default(use.value) : use.use === 'optional' ? e.optional() : e;
}

function opSchema(op: Op) {
  const rule = OP_RULES[op];
  const fields: Record<string, z.ZodType> = {};
  if (rule.size === 'required') fields.size = size();
  else if (rule.size === 'optional')
    fields.size = size().optional().describe('Bytes accessed; default 1 (the page of addr).');
  for (const [f, use] of Object.entries(rule.fields) as [EnumField, FieldUse][]) fields[f] = enumField(f, use);
  return z.strictObject({ op: z.literal(op).describe(rule.doc), ...base, addr: addr(), ...fields });
}

const opSchemas = (Object.keys(OP_RULES) as Op[]).map(opSchema);

/** One event of any encoding (a JSONL line, an element of a JSON document's events, a CSV row). */
export const eventSchema = z.discriminatedUnion(
  'op',
  opSchemas as [ReturnType<typeof opSchema>, ...ReturnType<typeof opSchema>[]],
);

/** A validated event: the common fields, and the enum fields its op takes (with defaults applied). */
export type TraceEvent = { op: Op; t?: number; pid?: number; comment?: string; addr: bigint; size?: bigint } & Partial<
  Record<EnumField, string>
>;

// ---------------------------------------------------------------------------------------------
// Platform header

export { PLATFORM_ALIASES };

/** A knob value from a fixed set of spellings, with a message naming them. */
function oneOf<T>(table: ReadonlyMap<unknown, T>, expected: string) {
  const s = z.unknown().transform((v, ctx) => {
    const key = typeof v === 'string' ? v.trim() : v;
    if (!table.has(key)) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return table.get(key) as T;
  });
  jsonShapes.set(s, { enum: [...table.keys()] });
  return s;
}

const bool = oneOf(
  new Map<unknown, boolean>(
    [true, 'true', '1', 'yes', 1]
      .map((k) => [k, true] as [unknown, boolean])
      .concat([false, 'false', '0', 'no', 0].map((k) => [k, false])),
  ),
  'a boolean (true, false, 1, 0, yes or no)',
);

function int(min: number, max: number, what: string) {
  const s = z.unknown().transform((v, ctx) => {
    const n =
      typeof v === 'number'
        ? v
        : typeof v === 'string' && /^[0-9]{1,16}$/.test(v.trim())
          ? Number(v.trim())
          : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${what} (an integer from ${min} to ${max})` });
      return z.NEVER;
    }
    return n;
  });
  jsonShapes.set(s, {
    anyOf: [
      { type: 'integer', minimum: min, maximum: max },
      { type: 'string', pattern: '^\\s*[0-9]{1,16}\\s*$' },
    ],
  });
  return s;
}

const powerOfTwoMiB = parsed(
  (v) => {
    const s = parseSize(v);
    if (s < 1n << 20n || (s & (s - 1n)) !== 0n) throw new ValueError('a power-of-two size of at least 1M, e.g. 512M');
    return s;
  },
  'svm_notifier_size',
  SIZE_JSON,
);

/** Platform header keys (snake_case, as in traces and on the command line). */
export const platformSchema = z.strictObject({
  kernel: z.enum(KERNEL_VERSIONS).optional().describe('Kernel profile (default 6.18).'),
  dgfx: bool.optional().describe('Discrete GPU with VRAM (default true).'),
  pagemap: bool.optional().describe('CONFIG_DRM_XE_PAGEMAP (default true).'),
  vram: parsed(
    (v) => {
      const s = parseSize(v);
      if (s % 4096n !== 0n)
        throw new ValueError('a VRAM size in whole 4K pages (VRAM is allocated by the page), e.g. 4G, 512M or 64K');
      return s;
    },
    'VRAM of tile 0',
    SIZE_JSON,
  )
    .optional()
    .describe('VRAM of tile 0 (default 16G).'),
  need64k: bool.optional().describe('XE_VRAM_FLAGS_NEED64K (default false).'),
  need64k_rule: z
    .enum(['lt', 'le'])
    .optional()
    .describe('NEED64K comparison: lt (the released code, default) or le (the 6.15.0-6.15.3 regression).'),
  notifier_size: powerOfTwoMiB.optional().describe('svm_notifier_size (default 512M).'),
  atomic_timeslice_ms: int(0, 1_000_000, 'a timeslice in ms')
    .optional()
    .describe('atomic_svm_timeslice_ms (default 5).'),
  hz: oneOf(
    new Map<unknown, number>(
      [100, 250, 300, 1000].flatMap(
        (n) =>
          [
            [n, n],
            [String(n), n],
          ] as [unknown, number][],
      ),
    ),
    'a kernel HZ: one of 100, 250, 300, 1000',
  )
    .optional()
    .describe('Kernel HZ (default 250).'),
  media_gt: bool.optional().describe('Tile 0 has a media GT (default true).'),
  va_bits: int(39, 57, 'GPU VA bits').optional().describe('GPU VA bits of the mirror VMA (default 48).'),
  mirror_read_only: bool.optional().describe('Mirror VMA bound read-only (default false).'),
  scratch_pages: bool.optional().describe('VM with scratch pages (default false).'),
  device_atomics_on_smem: bool.optional().describe('has_device_atomics_on_smem (default true; false on PVC).'),
  atomic_faults_on_smem_pte: bool.optional().describe('GPU atomics fault on SMEM PTEs on DGFX (default true).'),
  gc_unbind_tlb_inval: z
    .enum(['always', 'if_valid'])
    .optional()
    .describe('GC unbind TLB rule (default always <= 6.16, if_valid >= 6.17).'),
  gc: z.enum(['eager', 'lazy']).optional().describe('When the GC worker runs (default eager).'),
  always_migrate_to_vram: bool.optional().describe('6.15-rc1 modparam (default false).'),
  vram_fail_errno: z
    .enum(['ENOMEM', 'ENOSPC'])
    .optional()
    .describe('Errno of a failed VRAM allocation (default ENOMEM).'),
  vma_merge: bool.optional().describe('Merge adjacent anonymous VMAs (default true).'),
  cost_model: z.enum(['bmg', 'zero']).optional().describe('Cost model for _us counters (default bmg).'),
  fault_exit_returns_zero: bool
    .optional()
    .describe(
      '6.18.y: the fault handler exit returns 0 for -EACCES / hard get_pages failures (default true on 6.18.y).',
    ),
  pref_system_owner_null: bool
    .optional()
    .describe('6.18.y: device-private owner NULL when the VMA prefers system (default true on 6.18.y).'),
  devmem_only_fail_to_get_pages: bool
    .optional()
    .describe('6.18.y: devmem_only VRAM allocation failure goes to get_pages (default true on 6.18.y).'),
  madvise_autoreset_gate: bool
    .optional()
    .describe('6.18.y: GC attribute reset only for VMAs bound with MADVISE_AUTORESET (default true on 6.18.y).'),
  mirror_madvise_autoreset: bool
    .optional()
    .describe('Mirror VMA bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (default false).'),
  livelock_bound: int(1, 1_000_000, 'a loop bound')
    .optional()
    .describe('Handler loop iterations / GPU replays without progress before LIVELOCK (default 64).'),
});

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
    if (Object.hasOwn(out, name))
      return { twice: `platform knob "${name}" is given twice${name !== k ? ` (also as "${k}")` : ''}` };
    Object.defineProperty(out, name, { value: undefined, enumerable: true, writable: true, configurable: true });
    out[name] =
      k === 'svm_notifier_size' && (typeof v === 'number' || (typeof v === 'string' && /^\s*[0-9]+\s*$/.test(v)))
        ? `${String(v).trim()}M`
        : v;
  }
  return { knobs: out };
}

type Knob = keyof typeof PLATFORM_KNOBS;
const KEY_TO_FIELD = Object.fromEntries(Object.entries(PLATFORM_KNOBS).map(([f, k]) => [k, f as Knob])) as Record<
  string,
  Knob
>;

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
  thrashing: z
    .union([z.boolean(), z.number().int().nonnegative()])
    .optional()
    .describe('Whether any range thrashes (or how many).'),
  metrics: z.record(z.string(), z.number()).optional().describe('Derived figures at the end: {"pagesToVram": 512}.'),
});

export type Expect = z.output<typeof expectSchema>;
