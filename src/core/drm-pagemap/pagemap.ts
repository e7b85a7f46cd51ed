/**
 * DOC: drm_pagemap — VRAM allocations (devmem), their lifetime, and the driver's ops tables
 *
 * Xe backs every migrated range with one TTM VRAM BO sized exactly like the range
 * (xe_drm_pagemap_populate_mm; 6.15/6.16 xe_svm_alloc_vram). Each device-private page holds a
 * reference on the allocation's zone-device data (zdd); when the last device page is freed —
 * migrated back to RAM, unmapped, or zapped by madvise — the zdd goes and the BO with it
 * (drm_pagemap_zdd_destroy → devmem_release → xe_bo_put_async). There is no partial release:
 * the BO stays fully allocated while one of its pages is still device-resident.
 *
 * drm_pagemap is generic: what only the driver knows it asks through ops tables, as the kernel
 * does, and the model keeps the same split (this layer imports nothing from xe-svm and charges no
 * Xe counter):
 *
 * - `dev_pagemap_ops` (DevPagemapOps): how mm reaches a device-private page — `migrate_to_ram` on
 *   a CPU fault, `page_free` when a page goes. drm_pagemap provides them (drm_pagemap_pagemap_ops,
 *   migrate.ts).
 * - `drm_pagemap_devmem_ops` (DrmPagemapDevmemOps): the driver's callbacks for one allocation —
 *   `populate_devmem_pfn`, `copy_to_devmem`, `copy_to_ram` (where Xe counts its copy statistics)
 *   and `devmem_release`.
 * - `drm_pagemap_ops` (DrmPagemapOps): the driver's `populate_mm` (≥6.17: allocate VRAM for a
 *   range and migrate it there).
 *
 * The pool is shared by every process on the device (one LRU across them); each BO remembers the
 * process whose mm maps its pages.
 *
 * The VRAM pool is a page counter of tile 0's capacity (no buddy-allocator fragmentation).
 * When a new BO does not fit, TTM evicts other evictable BOs in LRU order; SVM BOs are never
 * re-validated, so the LRU is their allocation order (an assumption, UNCONFIRMED in the
 * reference): an intrusive doubly-linked list in allocation order, O(1) to append, unlink and
 * take the oldest.
 */

import type { SimContext } from '../context.js';
import type { Errno, MigrateFailCause } from '../decisions.js';
import { ModelInvariantError } from '../invariant.js';

/** One VRAM allocation: struct drm_pagemap_devmem and the driver BO behind it. */
export class DevmemBo {
  /** Device pages of this BO still present in the CPU page table. */
  resident = 0;
  /** drm_pagemap_devmem.timeslice_expiration, in jiffies. */
  timesliceExpiry = 0;
  /** LRU neighbours (older, newer); null at the ends and once released. */
  lruPrev: DevmemBo | null = null;
  lruNext: DevmemBo | null = null;

  constructor(
    readonly id: number,
    /** First page of the range the BO was created for. */
    readonly start: number,
    /** Pages (= range size at creation). */
    readonly npages: number,
    /** Process whose mm holds the device pages (the BO's CPU mapping lives in one mm). */
    readonly pid: number,
  ) {}
}

/** The result of a populate_mm: the BO made and what the migration cost, or why it failed. */
export interface PopulateResult {
  ok: boolean;
  /** BO number (0 when none was created). */
  bo: number;
  /** Pages copied (with a source page). */
  copied: number;
  /** Cost-model µs of the attempt (allocation, eviction, copy). */
  us: number;
  errno: Errno | undefined;
  cause: MigrateFailCause | undefined;
}

/** How mm reaches device-private pages. Mirrors struct dev_pagemap_ops. */
export interface DevPagemapOps {
  /** `n` device pages of `bo` are freed (unmapped or zapped). Mirrors dev_pagemap_ops.page_free. */
  pageFree(sim: SimContext, bo: DevmemBo, n: number): void;
  /** CPU fault on the device page `page`. Mirrors dev_pagemap_ops.migrate_to_ram. */
  migrateToRam(sim: SimContext, page: number, cause: 'cpu_fault' | 'range_evict' | 'get_pages'): void;
}

/** The driver's callbacks for an allocation. Mirrors struct drm_pagemap_devmem_ops. */
export interface DrmPagemapDevmemOps {
  /** The allocation's last device page is gone: the driver frees its memory. Mirrors devmem_release. */
  devmemRelease(sim: SimContext, bo: DevmemBo): void;
  /** The device PTE value of the allocation's pages (its device pfns). Mirrors populate_devmem_pfn. */
  populateDevmemPfn(sim: SimContext, bo: DevmemBo): number;
  /**
   * Copy the `copied` system pages of [start, end) into `bo` (called before the CPU page table
   * changes); returns the copy's cost-model µs. Mirrors copy_to_devmem.
   */
  copyToDevmem(sim: SimContext, bo: DevmemBo, start: number, end: number, copied: number): number;
  /**
   * Copy the `copied` pages of `bo` in [start, end) back to system memory (called before the CPU
   * page table changes). Mirrors copy_to_ram.
   */
  copyToRam(sim: SimContext, bo: DevmemBo, start: number, end: number, copied: number): void;
}

/** The driver's pagemap callbacks. Mirrors struct drm_pagemap_ops. */
export interface DrmPagemapOps {
  /**
   * Allocate device memory for [start, end) and migrate the range there (the result object is
   * reused: read it before the next call). Mirrors drm_pagemap_ops.populate_mm.
   */
  populateMm(sim: SimContext, start: number, end: number, timesliceMs: number): PopulateResult;
}

export class DrmPagemap {
  /** Live BOs by id (the zdd a device page points at), in allocation order. */
  readonly bos = new Map<number, DevmemBo>();
  usedPages = 0;
  private nextId = 1;
  /** LRU ends: oldest and newest live BO. */
  private lruHead: DevmemBo | null = null;
  private lruTail: DevmemBo | null = null;

  constructor(
    /** VRAM capacity in pages. */
    readonly capacityPages: number,
    /** dev_pagemap.ops: drm_pagemap's own (drm_pagemap_pagemap_ops_get()). */
    readonly pagemapOps: DevPagemapOps,
    /** The driver's drm_pagemap_devmem_ops (set by drm_pagemap_devmem_init() for each allocation). */
    readonly devmemOps: DrmPagemapDevmemOps,
    /** The driver's drm_pagemap_ops. */
    readonly ops: DrmPagemapOps,
  ) {}

  get freePages(): number {
    return this.capacityPages - this.usedPages;
  }

  /** Create a BO (capacity must have been checked). */
  create(start: number, npages: number, pid: number): DevmemBo {
    if (npages > this.freePages) throw new ModelInvariantError(`BO of ${npages} pages created with ${this.freePages} free`);
    const bo = new DevmemBo(this.nextId++, start, npages, pid);
    this.bos.set(bo.id, bo);
    this.usedPages += npages;
    const tail = this.lruTail;
    bo.lruPrev = tail;
    if (tail === null) this.lruHead = bo;
    else tail.lruNext = bo;
    this.lruTail = bo;
    return bo;
  }

  /** Release a BO's VRAM. */
  release(bo: DevmemBo): void {
    if (!this.bos.delete(bo.id)) throw new ModelInvariantError(`BO ${bo.id} released twice`);
    this.usedPages -= bo.npages;
    const prev = bo.lruPrev;
    const next = bo.lruNext;
    if (prev === null) this.lruHead = next;
    else prev.lruNext = next;
    if (next === null) this.lruTail = prev;
    else next.lruPrev = prev;
    bo.lruPrev = bo.lruNext = null;
  }

  get(id: number): DevmemBo {
    const bo = this.bos.get(id);
    if (bo === undefined) throw new ModelInvariantError(`device page points at freed BO ${id}`);
    return bo;
  }

  /** The least recently allocated BO, for TTM eviction. */
  lru(): DevmemBo | undefined {
    return this.lruHead ?? undefined;
  }
}
