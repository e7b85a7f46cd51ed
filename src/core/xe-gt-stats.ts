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
  'hw_engine_group_suspend_lr_queue_count',
  'hw_engine_group_skip_lr_queue_count',
  'hw_engine_group_wait_dma_queue_count',
  'hw_engine_group_suspend_lr_queue_us',
  'hw_engine_group_wait_dma_queue_us',
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
export class GtStats {
  private readonly values = new Map<StatName, number>();
  private readonly names: ReadonlySet<StatName>;

  constructor(
    readonly gt: number,
    readonly kernel: KernelVersion,
  ) {
    this.names = new Set(statNames(kernel));
    for (const n of statNames(kernel)) this.values.set(n, 0);
  }

  /** Add `incr` to a counter; a counter this kernel does not have is ignored. Mirrors xe_gt_stats_incr(). */
  incr(name: StatName, incr = 1): void {
    if (!this.names.has(name)) return;
    this.values.set(name, (this.values.get(name) ?? 0) + incr);
  }

  /** Add to the size-bucketed counter `svm_<bucket>_<suffix>`; nothing for a size with no bucket. */
  incrSized(pages: number, suffix: string, incr = 1): void {
    const b = sizeBucket(pages);
    if (b !== undefined) this.incr(`svm_${b}_${suffix}` as StatName, incr);
  }

  get(name: StatName): number {
    return this.values.get(name) ?? 0;
  }

  /** Whether this kernel has the counter. */
  has(name: string): boolean {
    return this.names.has(name as StatName);
  }

  /** [name, value] pairs in print order. */
  entries(): [StatName, number][] {
    return statNames(this.kernel).map((n) => [n, this.values.get(n) ?? 0]);
  }
}

/** The GTs of tile 0: gt0 (primary) and, if present, gt1 (media). */
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
