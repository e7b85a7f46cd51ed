/**
 * DOC: GT statistics (xe_gt_stats.c)
 *
 * Each GT keeps an array of 64-bit counters indexed by `enum xe_gt_stats_id`; debugfs
 * `gtN/stats` prints them in enum order as `"%s: %lld\n"`, one line per counter, no header
 * (xe_gt_stats_print_info()). The list differs per kernel version; counter names are the
 * kernel's, verbatim.
 *
 * Fault, migration and copy counters are charged to GT0 (the primary GT that raises compute
 * faults and owns the migrate queue); TLB counters to every GT that receives an invalidation,
 * i.e. GT0 and the media GT1.
 */

import { kernelAtLeast, type KernelVersion } from './platform.js';

const STATS_6_15 = ['tlb_inval_count', 'vma_pagefault_count', 'vma_pagefault_kb'] as const;

const STATS_6_16 = ['svm_pagefault_count', 'tlb_inval_count', 'vma_pagefault_count', 'vma_pagefault_kb'] as const;

/**
 * 6.18: the 37 counters of xe_gt_stats.c @ 4208fac3dce5 ("drm/xe: Add more SVM GT stats").
 * The hw_engine_group_* counters (2b277b506138) came after 6.19-rc1 and are in no modelled tree.
 */
const STATS_6_18 = [
  'svm_pagefault_count',
  'tlb_inval_count',
  'svm_tlb_inval_count',
  'svm_tlb_inval_us',
  'vma_pagefault_count',
  'vma_pagefault_kb',
  'svm_4K_pagefault_count',
  'svm_64K_pagefault_count',
  'svm_2M_pagefault_count',
  'svm_4K_valid_pagefault_count',
  'svm_64K_valid_pagefault_count',
  'svm_2M_valid_pagefault_count',
  'svm_4K_pagefault_us',
  'svm_64K_pagefault_us',
  'svm_2M_pagefault_us',
  'svm_4K_migrate_count',
  'svm_64K_migrate_count',
  'svm_2M_migrate_count',
  'svm_4K_migrate_us',
  'svm_64K_migrate_us',
  'svm_2M_migrate_us',
  'svm_device_copy_us',
  'svm_4K_device_copy_us',
  'svm_64K_device_copy_us',
  'svm_2M_device_copy_us',
  'svm_cpu_copy_us',
  'svm_4K_cpu_copy_us',
  'svm_64K_cpu_copy_us',
  'svm_2M_cpu_copy_us',
  'svm_device_copy_kb',
  'svm_cpu_copy_kb',
  'svm_4K_get_pages_us',
  'svm_64K_get_pages_us',
  'svm_2M_get_pages_us',
  'svm_4K_bind_us',
  'svm_64K_bind_us',
  'svm_2M_bind_us',
] as const;

export type StatName = (typeof STATS_6_18)[number];

/** The counter names of `gtN/stats` for a kernel, in enum (print) order. */
export function statNames(kernel: KernelVersion): readonly StatName[] {
  if (kernelAtLeast(kernel, '6.18')) return STATS_6_18;
  if (kernelAtLeast(kernel, '6.16')) return STATS_6_16;
  return STATS_6_15;
}

/** Size bucket of a range or copy, as the kernel names it in counters. */
export type SizeBucket = '4K' | '64K' | '2M';

/** Bucket for a page count of exactly 1, 16 or 512 pages; undefined otherwise (counts nowhere). */
export function sizeBucket(pages: number): SizeBucket | undefined {
  return pages === 1 ? '4K' : pages === 16 ? '64K' : pages === 512 ? '2M' : undefined;
}

/** Index of every counter name in the 6.18 list (the superset); older kernels use a subset. */
const STAT_INDEX = new Map<string, number>(STATS_6_18.map((n, i) => [n, i]));

/**
 * Counter indices by their kernel names (`Stat.svm_pagefault_count`): the hot paths charge a
 * counter by index, as the kernel's `xe_gt_stats_incr(gt, XE_GT_STATS_ID_..., n)` does by enum.
 */
export const Stat = Object.freeze(Object.fromEntries(STATS_6_18.map((n, i) => [n, i]))) as {
  readonly [K in StatName]: number;
};

/** The size-bucketed counter suffixes (`svm_<bucket>_<suffix>`). */
export type SizedSuffix =
  | 'pagefault_count'
  | 'valid_pagefault_count'
  | 'pagefault_us'
  | 'migrate_count'
  | 'migrate_us'
  | 'device_copy_us'
  | 'cpu_copy_us'
  | 'get_pages_us'
  | 'bind_us';

/**
 * For each suffix, the index of its `svm_4K_<suffix>` counter; the 64K and 2M counters follow it
 * in the enum (checked below), so bucket b is at index + b.
 */
export const Sized = {} as { readonly [K in SizedSuffix]: number };
for (const n of STATS_6_18) {
  const m = /^svm_(4K|64K|2M)_(.+)$/.exec(n);
  if (m === null) continue;
  const i = STAT_INDEX.get(n)!;
  const b = m[1] === '4K' ? 0 : m[1] === '64K' ? 1 : 2;
  const base = (Sized as Record<string, number>)[m[2]];
  if (b === 0) (Sized as Record<string, number>)[m[2]] = i;
  else if (base === undefined || i !== base + b)
    throw new Error(`counter ${n} does not follow svm_4K_${m[2]} in enum order`);
}
Object.freeze(Sized);

/**
 * Bucket index of a page count for sized counters: 0 4K, 1 64K, 2 2M, -1 none. A hot path that
 * charges several sized counters for one range computes it once and charges `Sized.x + bucket`.
 */
export function bucketOf(pages: number): number {
  return pages === 1 ? 0 : pages === 16 ? 1 : pages === 512 ? 2 : -1;
}

/** One GT's counters: xe_gt_stats.counters[] (an array indexed by the 6.18 enum order). */
export class GtStats {
  private readonly values = new Float64Array(STATS_6_18.length);
  /** Which of the 6.18 counters this kernel has. */
  private readonly present = new Uint8Array(STATS_6_18.length);

  constructor(
    readonly gt: number,
    readonly kernel: KernelVersion,
  ) {
    for (const n of statNames(kernel)) this.present[STAT_INDEX.get(n)!] = 1;
  }

  /**
   * Add `incr` to counter `i` (a `Stat` index). A counter this kernel does not have counts in its
   * slot too (no test on the hot path) but is never read: get() and entries() skip it.
   * Mirrors xe_gt_stats_incr().
   */
  incr(i: number, incr = 1): void {
    this.values[i] += incr;
  }

  /** Add to the size-bucketed counter `svm_<bucket>_<suffix>` (`sized` a `Sized` index); nothing for a size with no bucket. */
  incrSized(pages: number, sized: number, incr = 1): void {
    const b = bucketOf(pages);
    if (b >= 0) this.values[sized + b] += incr;
  }

  /** A counter's value (0 for a counter this kernel does not have). */
  get(name: StatName): number {
    const i = STAT_INDEX.get(name)!;
    return this.present[i] === 1 ? this.values[i] : 0;
  }

  /** Whether this kernel has the counter. */
  has(name: string): boolean {
    const i = STAT_INDEX.get(name);
    return i !== undefined && this.present[i] === 1;
  }

  /** [name, value] pairs in print order. */
  entries(): [StatName, number][] {
    return statNames(this.kernel).map((n) => [n, this.values[STAT_INDEX.get(n)!]]);
  }
}

export class TileStats {
  readonly gts: GtStats[];
  /** gts[0], the primary GT (fault, migration and copy counters). */
  readonly primary: GtStats;
  /** gts[1], the media GT, or null. */
  private readonly media: GtStats | null;

  constructor(kernel: KernelVersion, mediaGt: boolean) {
    this.primary = new GtStats(0, kernel);
    this.media = mediaGt ? new GtStats(1, kernel) : null;
    this.gts = this.media !== null ? [this.primary, this.media] : [this.primary];
  }

  /** Charge a TLB-side counter (a `Stat` index) to the primary and the media GT. */
  incrAllGts(i: number, incr = 1): void {
    this.primary.incr(i, incr);
    if (this.media !== null) this.media.incr(i, incr);
  }
}
