/**
 * Test helpers: build core events from byte addresses without going through a trace file.
 */
import type { CoreEvent } from '../src/core/events.js';
import { defaultPlatform, type Platform } from '../src/core/platform.js';
import { Simulator } from '../src/core/simulator.js';
import type { EventResult } from '../src/core/decisions.js';
import { statNames, type StatName } from '../src/core/xe-gt-stats.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OP_RULES, pagesOfBig, type OpRule } from '../src/trace/rules.js';

/** Every trace file under `dir` (.json, .jsonl, .csv), sorted, subdirectories included. */
export function traceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...traceFiles(p));
    else if (/\.(json|jsonl|csv)$/.test(f)) out.push(p);
  }
  return out;
}

export const K = 1024n;
export const M = 1024n * 1024n;
/** Aligned to 512 MiB, so notifier N0 = [B, B+512M). */
export const B = 0x7f0000000000n;

type Extra = Record<string, unknown>;

/**
 * A core event at byte address `addr` of `size` bytes: pages and defaults from the trace rules
 * (src/trace/rules.ts), as the readers make them.
 */
export function ev(op: CoreEvent['op'], addr: bigint, size = 1n, extra: Extra = {}, t = 0): CoreEvent {
  const rule: OpRule = OP_RULES[op];
  const offset = addr & 0xfffn;
  const defaults: Extra = {};
  for (const [f, use] of Object.entries(rule.fields)) if (use.use === 'default') defaults[f] = use.value;
  return {
    op,
    t,
    page: Number(addr >> 12n),
    offset: Number(offset),
    npages: size === 0n ? 0 : pagesOfBig(rule, offset, size),
    sizeAligned: size % 4096n === 0n,
    ...defaults,
    ...extra,
  } as CoreEvent;
}

export class Run {
  readonly sim: Simulator;
  readonly results: EventResult[] = [];
  private t = 0;

  constructor(over: Partial<Platform> = {}) {
    const base = defaultPlatform(over.kernel ?? '6.18');
    this.sim = new Simulator({ ...base, ...over }, { checkInvariants: true });
  }

  /** Set the time (ns) of the next events. */
  at(ns: number): this {
    this.t = ns;
    return this;
  }

  do(op: CoreEvent['op'], addr: bigint, size = 1n, extra: Extra = {}): EventResult {
    const r = this.sim.step(ev(op, addr, size, extra, this.t));
    this.results.push(r);
    return r;
  }

  mmap(addr: bigint, size: bigint, extra: Extra = {}) {
    return this.do('mmap', addr, size, extra);
  }

  /** Counter of gt (default 0). */
  stat(name: StatName, gt = 0): number {
    const s = this.sim.snapshot().stats.find((x) => x.gt === gt);
    return s?.counters.find(([n]) => n === name)?.[1] ?? 0;
  }

  /** All non-zero counters of a GT, as an object. */
  nonZero(gt = 0): Record<string, number> {
    const s = this.sim.snapshot().stats.find((x) => x.gt === gt)!;
    return Object.fromEntries(s.counters.filter(([, v]) => v !== 0));
  }

  ranges() {
    return this.sim.snapshot().ranges;
  }

  vramUsed(): bigint {
    return this.sim.snapshot().vram.used;
  }
}

export const page = (addr: bigint) => Number(addr >> 12n);

/**
 * Every counter of a GT in print order, `_us` values as ">0" when non-zero, for exhaustive checks:
 * compare with `allCounters(kernel, expectedNonZero)`.
 */
export function counters(r: Run, gt = 0): Record<string, number | string> {
  const s = r.sim.snapshot().stats.find((x) => x.gt === gt)!;
  return Object.fromEntries(s.counters.map(([k, v]) => [k, k.endsWith('_us') && v !== 0 ? '>0' : v]));
}

/** Every counter the kernel prints, 0 unless given in `nonZero`. */
export function allCounters(
  kernel: Platform['kernel'],
  nonZero: Record<string, number | string>,
): Record<string, number | string> {
  const names = statNames(kernel);
  for (const k of Object.keys(nonZero))
    if (!names.includes(k as StatName)) throw new Error(`${kernel} has no counter ${k}`);
  return Object.fromEntries(names.map((n) => [n, nonZero[n] ?? 0]));
}

/**
 * GT0 counters of one 2M GPU fault that migrates and binds on 6.18 (reference E1): the fault, its
 * size bucket, one migration attempt, get_pages and bind. Copy counters are added per example.
 */
export const FAULT_2M_MIGRATED_618 = {
  svm_pagefault_count: 1,
  svm_2M_pagefault_count: 1,
  svm_2M_migrate_count: 1,
  svm_2M_migrate_us: '>0',
  svm_2M_get_pages_us: '>0',
  svm_2M_bind_us: '>0',
  svm_2M_pagefault_us: '>0',
} as const;

/** The TLB side of zapping one bound range (per GT on 6.18): one callback, one range. */
export const ONE_ZAP_618 = { tlb_inval_count: 1, svm_tlb_inval_count: 1, svm_tlb_inval_us: '>0' } as const;
