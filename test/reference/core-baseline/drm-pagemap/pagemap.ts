/**
 * DOC: drm_pagemap — VRAM allocations (devmem) and their lifetime
 *
 * Xe backs every migrated range with one TTM VRAM BO sized exactly like the range
 * (xe_drm_pagemap_populate_mm; 6.15/6.16 xe_svm_alloc_vram). Each device-private page holds a
 * reference on the allocation's zone-device data (zdd); when the last device page is freed —
 * migrated back to RAM, unmapped, or zapped by madvise — the zdd goes and the BO with it
 * (drm_pagemap_zdd_destroy → devmem_release → xe_bo_put_async). There is no partial release:
 * the BO stays fully allocated while one of its pages is still device-resident.
 *
 * The pool is shared by every process on the device (one LRU across them); each BO remembers the
 * process whose mm maps its pages.
 *
 * The VRAM pool is a byte counter of tile 0's capacity (no buddy-allocator fragmentation).
 * When a new BO does not fit, TTM evicts other evictable BOs in LRU order; SVM BOs are never
 * re-validated, so the LRU is their allocation order (an assumption, UNCONFIRMED in the
 * reference): the Map below keeps insertion order, which is exactly that.
 */

import { ModelInvariantError } from '../invariant.js';

export interface DevmemBo {
  readonly id: number;
  /** First page of the range the BO was created for. */
  readonly start: number;
  /** Pages (= range size at creation). */
  readonly npages: number;
  /** Device pages of this BO still present in the CPU page table. */
  resident: number;
  /** drm_pagemap_devmem.timeslice_expiration, in jiffies. */
  timesliceExpiry: number;
  /** Process whose mm holds the device pages (the BO's CPU mapping lives in one mm). */
  readonly pid: number;
}

export class DrmPagemap {
  /** Live BOs in allocation (LRU) order. */
  readonly bos = new Map<number, DevmemBo>();
  usedPages = 0;
  private nextId = 1;

  constructor(
    /** VRAM capacity in pages. */
    readonly capacityPages: number,
  ) {}

  get freePages(): number {
    return this.capacityPages - this.usedPages;
  }

  /** Create a BO (capacity must have been checked). */
  create(start: number, npages: number, pid: number): DevmemBo {
    if (npages > this.freePages) throw new ModelInvariantError(`BO of ${npages} pages created with ${this.freePages} free`);
    const bo: DevmemBo = { id: this.nextId++, start, npages, resident: 0, timesliceExpiry: 0, pid };
    this.bos.set(bo.id, bo);
    this.usedPages += npages;
    return bo;
  }

  /** Release a BO's VRAM. Mirrors drm_pagemap_devmem_release() / xe_svm_devmem_release(). */
  release(bo: DevmemBo): void {
    if (!this.bos.delete(bo.id)) throw new ModelInvariantError(`BO ${bo.id} released twice`);
    this.usedPages -= bo.npages;
  }

  get(id: number): DevmemBo {
    const bo = this.bos.get(id);
    if (bo === undefined) throw new ModelInvariantError(`device page points at freed BO ${id}`);
    return bo;
  }

  /** The least recently allocated BO, for TTM eviction. */
  lru(): DevmemBo | undefined {
    return this.bos.values().next().value;
  }
}
