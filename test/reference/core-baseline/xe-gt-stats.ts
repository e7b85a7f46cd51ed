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

/** Counters of one GT. */
/** Index of every counter name in the 6.18 list (the superset); older kernels use a subset. */
const STAT_INDEX = new Map<string, number>(STATS_6_18.map((n, i) => [n, i]));

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

/** For each suffix, the counter indices of its 4K, 64K and 2M buckets. */
const SIZED_INDEX = new Map<string, readonly number[]>();
for (const n of STATS_6_18) {
  const m = /^svm_(4K|64K|2M)_(.+)$/.exec(n);
  if (m === null) continue;
  const row = [...(SIZED_INDEX.get(m[2]) ?? [-1, -1, -1])];
  row[m[1] === '4K' ? 0 : m[1] === '64K' ? 1 : 2] = STAT_INDEX.get(n)!;
  SIZED_INDEX.set(m[2], row);
}
for (const [suffix, row] of SIZED_INDEX) if (row.includes(-1)) throw new Error(`counter svm_<size>_${suffix} lacks a size bucket`);

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

  /** Add `incr` to a counter; a counter this kernel does not have is ignored. Mirrors xe_gt_stats_incr(). */
  incr(name: StatName, incr = 1): void {
    const i = STAT_INDEX.get(name)!;
    if (this.present[i] === 1) this.values[i] += incr;
  }

  /** Add to the size-bucketed counter `svm_<bucket>_<suffix>`; nothing for a size with no bucket. */
  incrSized(pages: number, suffix: SizedSuffix, incr = 1): void {
    const b = pages === 1 ? 0 : pages === 16 ? 1 : pages === 512 ? 2 : -1;
    if (b < 0) return;
    const i = SIZED_INDEX.get(suffix)![b];
    if (this.present[i] === 1) this.values[i] += incr;
  }

  get(name: StatName): number {
    return this.values[STAT_INDEX.get(name)!];
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

  constructor(kernel: KernelVersion, mediaGt: boolean) {
    this.gts = mediaGt ? [new GtStats(0, kernel), new GtStats(1, kernel)] : [new GtStats(0, kernel)];
  }

  get primary(): GtStats {
    return this.gts[0];
  }

  /** Charge a TLB-side counter to the primary and the media GT. */
  incrAllGts(name: StatName, incr = 1): void {
    for (const g of this.gts) g.incr(name, incr);
  }
}
