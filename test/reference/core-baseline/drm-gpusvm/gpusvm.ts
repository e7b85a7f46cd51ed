/**
 * DOC: drm_gpusvm — notifiers and ranges
 *
 * GPU SVM tracks the CPU address space in two levels (drm_gpusvm.c, "DOC: Overview"):
 *
 * - A *notifier* (drm_gpusvm_notifier) wraps an mmu_interval_notifier over a naturally aligned
 *   block of `svm_notifier_size` bytes (512 MiB by default). It is created lazily by the first
 *   range in its block and removed when its last range goes.
 * - A *range* (drm_gpusvm_range) is the unit of GPU binding and migration: exactly one chunk size
 *   (2M, 64K or 4K), naturally aligned, inside one notifier, one CPU VMA and one GPU VMA. Ranges
 *   never overlap and are never split or merged; a partially unmapped range is destroyed whole.
 *
 * Range flags are named as facts, as in the kernel: `migrateDevmem` (set at creation),
 * `unmapped`, `partialUnmap`, `hasDevmemPages`, `hasDmaMapping`; Xe adds `tilePresent` and
 * `tileInvalidated` (one tile is modelled, so booleans).
 *
 * Notifiers are kept in a map keyed by block index (their intervals are aligned blocks, so the
 * kernel's interval tree lookup is an O(1) division here); ranges in a sorted array per notifier.
 */

import type { SimContext } from '../context.js';
import type { NotifierEvent, NotMigratableCause, RangeRef } from '../decisions.js';

/** Driver callbacks of a gpusvm instance. Mirrors struct drm_gpusvm_ops. */
export interface GpusvmOps {
  /** Called under the notifier lock for every MMU-notifier callback on a linked notifier. */
  invalidate(sim: SimContext, notifier: GpusvmNotifier, event: NotifierEvent, start: number, end: number, quiet: boolean): void;
}

export class SvmRange {
  /** drm_gpusvm_range_flags.migrate_devmem */
  migrateDevmem: boolean;
  unmapped = false;
  partialUnmap = false;
  hasDevmemPages = false;
  hasDmaMapping = false;
  /** xe_svm_range.tile_present (tile 0) */
  tilePresent = false;
  /** xe_svm_range.tile_invalidated (tile 0) */
  tileInvalidated = false;
  /** BO whose device pages are DMA-mapped (drm_gpusvm_range.dpagemap / zdd), 0 if none. */
  devmemBo = 0;
  /** The PTEs were written with the atomic-enable bit. */
  atomicEnable = false;
  /** 6.15-rc1 xe_svm_range.skip_migrate */
  skipMigrate = false;
  /** drm_gpusvm_range.notifier_seq: the notifier's seq at the last successful get_pages; -1 = LONG_MAX (never). */
  notifierSeq = -1;
  /** Why migrate_devmem is 0 (the CPU VMA kind or no devmem), undefined when it is 1. */
  notMigratable: NotMigratableCause | undefined = undefined;

  constructor(
    readonly id: number,
    readonly start: number,
    readonly end: number,
    readonly notifier: GpusvmNotifier,
    migrateDevmem: boolean,
    /** Event index that created the range. */
    readonly createdSeq: number,
  ) {
    this.migrateDevmem = migrateDevmem;
  }

  get npages(): number {
    return this.end - this.start;
  }

  /** Bound on the tile and not invalidated since. */
  get valid(): boolean {
    return this.tilePresent && !this.tileInvalidated;
  }

  ref(): RangeRef {
    return { start: this.start, end: this.end };
  }
}

export class GpusvmNotifier {
  /** Sorted by start, non-overlapping. */
  readonly ranges: SvmRange[] = [];
  /** mmu_interval_notifier.invalidate_seq (set by mmu_interval_set_seq() in every callback). */
  invalidateSeq = 0;

  constructor(
    readonly index: number,
    readonly start: number,
    readonly end: number,
  ) {}

  ref(): RangeRef {
    return { start: this.start, end: this.end };
  }

  /** Index of the first range whose end is above `page`. */
  private lowerBound(page: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid].end <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First range overlapping [start, end). Mirrors drm_gpusvm_range_find(). */
  rangeFind(start: number, end: number): SvmRange | undefined {
    const r = this.ranges[this.lowerBound(start)];
    return r !== undefined && r.start < end ? r : undefined;
  }

  /** Every range overlapping [start, end), in order. Mirrors drm_gpusvm_for_each_range(). */
  rangesIn(start: number, end: number): SvmRange[] {
    const out: SvmRange[] = [];
    for (let i = this.lowerBound(start); i < this.ranges.length && this.ranges[i].start < end; i++) out.push(this.ranges[i]);
    return out;
  }

  insert(r: SvmRange): void {
    this.ranges.splice(this.lowerBound(r.start), 0, r);
  }

  remove(r: SvmRange): void {
    const i = this.ranges.indexOf(r, Math.max(0, this.lowerBound(r.start) - 1));
    if (i >= 0) this.ranges.splice(i, 1);
  }
}

export class Gpusvm {
  readonly notifiers = new Map<number, GpusvmNotifier>();
  private nextRangeId = 1;
  ops: GpusvmOps = { invalidate: () => {} };
  /** The range that served the last GPU access (a lookup cache; see gpuAccessHits()). */
  lastHit: SvmRange | undefined;
  /**
   * mm->notifier_subscriptions->invalidate_seq: starts at 2, odd while an invalidation that hits an
   * interval notifier runs, +1 when it ends (mn_itree_inv_start_range / mn_itree_inv_end). Only the
   * invalidations the model makes move it; other interval notifiers of a real mm move it too.
   */
  invalidateSeq = 2;

  constructor(
    /** Notifier size in pages. */
    readonly notifierPages: number,
    /** mm_range in pages (vm->size). */
    readonly mmPages: number,
    /** Chunk sizes in pages, descending; last is 1 (4K). */
    readonly chunkPages: readonly number[],
  ) {}

  /** Notifier containing `page`, if linked. Mirrors drm_gpusvm_notifier_find(). */
  notifierFind(page: number): GpusvmNotifier | undefined {
    return this.notifiers.get(Math.floor(page / this.notifierPages));
  }

  /** A fresh notifier for the aligned block containing `page`, not yet linked. Mirrors drm_gpusvm_notifier_alloc(). */
  notifierAlloc(page: number): GpusvmNotifier {
    const index = Math.floor(page / this.notifierPages);
    return new GpusvmNotifier(index, index * this.notifierPages, (index + 1) * this.notifierPages);
  }

  /** Link a notifier into the gpusvm. Mirrors drm_gpusvm_notifier_insert(). */
  notifierInsert(n: GpusvmNotifier): void {
    // mmu_interval_notifier_insert() outside an invalidation: seq = subscriptions seq - 1.
    n.invalidateSeq = this.invalidateSeq - 1;
    this.notifiers.set(n.index, n);
  }

  /** Unlink a notifier. Mirrors drm_gpusvm_notifier_remove(). */
  notifierRemove(n: GpusvmNotifier): void {
    this.notifiers.delete(n.index);
  }

  /** Linked notifiers overlapping [start, end), in address order. */
  notifiersIn(start: number, end: number): GpusvmNotifier[] {
    if (end <= start) return [];
    const first = Math.floor(start / this.notifierPages);
    const last = Math.floor((end - 1) / this.notifierPages);
    const out: GpusvmNotifier[] = [];
    if (last - first + 1 <= this.notifiers.size) {
      for (let i = first; i <= last; i++) {
        const n = this.notifiers.get(i);
        if (n !== undefined) out.push(n);
      }
      return out;
    }
    for (const n of this.notifiers.values()) if (n.index >= first && n.index <= last) out.push(n);
    return out.sort((a, b) => a.start - b.start);
  }

  /** The range containing `page`, if any. */
  rangeAt(page: number): SvmRange | undefined {
    return this.notifierFind(page)?.rangeFind(page, page + 1);
  }

  newRangeId(): number {
    return this.nextRangeId++;
  }

  /** All ranges, sorted by start. */
  allRanges(): SvmRange[] {
    const ns = [...this.notifiers.values()].sort((a, b) => a.start - b.start);
    return ns.flatMap((n) => n.ranges);
  }
}
