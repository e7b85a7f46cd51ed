/**
 * DOC: xe_svm_range — Xe's range, allocated through drm_gpusvm_ops.range_alloc
 *
 * Xe embeds struct drm_gpusvm_range in struct xe_svm_range and adds its per-tile binding state:
 * `tile_present` (bound on the tile) and `tile_invalidated` (zapped since), plus the model's
 * record of whether the PTEs carry the atomic-enable bit and 6.15-rc1's `skip_migrate`. One tile
 * is modelled, so these are booleans, kept in the driver bits of the range's flag word.
 * drm-gpusvm creates ranges only through the ops table (xe_svm_range_alloc), so it never names
 * these fields.
 */

import { type GpusvmOps, SvmRange } from '../drm-gpusvm/gpusvm.js';
import { forgetInvalidatedRange, xeSvmInvalidate } from './invalidate.js';

const TILE_PRESENT = 0;
const TILE_INVALIDATED = 1;
const ATOMIC_ENABLE = 2;
const SKIP_MIGRATE = 3;

export class XeSvmRange extends SvmRange {
  /** xe_svm_range.tile_present (tile 0) */
  get tilePresent(): boolean {
    return this.driverFlag(TILE_PRESENT);
  }
  set tilePresent(v: boolean) {
    this.setDriverFlag(TILE_PRESENT, v);
  }
  /** xe_svm_range.tile_invalidated (tile 0) */
  get tileInvalidated(): boolean {
    return this.driverFlag(TILE_INVALIDATED);
  }
  set tileInvalidated(v: boolean) {
    this.setDriverFlag(TILE_INVALIDATED, v);
  }
  /** The PTEs were written with the atomic-enable bit. */
  get atomicEnable(): boolean {
    return this.driverFlag(ATOMIC_ENABLE);
  }
  set atomicEnable(v: boolean) {
    this.setDriverFlag(ATOMIC_ENABLE, v);
  }
  /** 6.15-rc1 xe_svm_range.skip_migrate */
  get skipMigrate(): boolean {
    return this.driverFlag(SKIP_MIGRATE);
  }
  set skipMigrate(v: boolean) {
    this.setDriverFlag(SKIP_MIGRATE, v);
  }

  /** Bound on the tile and not invalidated since. */
  get valid(): boolean {
    return this.driverFlag(TILE_PRESENT) && !this.driverFlag(TILE_INVALIDATED);
  }
}

/** Allocate Xe's range. Mirrors xe_svm_range_alloc(). */
export function xeSvmRangeAlloc(start: number, npages: number, migrateDevmem: boolean, createdSeq: number): XeSvmRange {
  return new XeSvmRange(start, npages, migrateDevmem, createdSeq);
}

/**
 * Free a range after drm_gpusvm_range_remove() (the kernel drops its VM reference and frees it;
 * here it leaves xeSvmInvalidate()'s lookup cache). Mirrors xe_svm_range_free().
 */
function xeSvmRangeFree(range: XeSvmRange): void {
  forgetInvalidatedRange(range);
}

/** Xe's drm_gpusvm callbacks. Mirrors gpusvm_ops in xe_svm.c. */
export const xeGpusvmOps: GpusvmOps<XeSvmRange> = {
  rangeAlloc: xeSvmRangeAlloc,
  rangeFree: xeSvmRangeFree,
  invalidate: xeSvmInvalidate,
};
