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
 * reference): an intrusive doubly-linked list in allocation order (BoTable), O(1) to append,
 * unlink and take the oldest.
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
  /** Index of this allocation's track in the thrashing detector (-1 before its first migration; ThrashSubject). */
  thrashIx = -1;

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

/**
 * The live BOs: found by id (what a device PTE holds) in an open-addressing table of small
 * integers (linear probing, backward-shift deletion), and kept in allocation (LRU) order in an
 * intrusive doubly-linked list. Reads like the Map it replaces (`size`, `get`, `has`, `values()` in
 * allocation order), without a Map's hashing and its holes after millions of create/free pairs.
 */
export class BoTable {
  /** Slot keys: BO ids (ids start at 1; 0 marks an empty slot). */
  private keys = new Int32Array(64);
  private vals: (DevmemBo | null)[] = new Array<DevmemBo | null>(64).fill(null);
  private shift = 32 - 6;
  size = 0;
  /** Oldest and newest live BO. */
  head: DevmemBo | null = null;
  private tail: DevmemBo | null = null;

  private home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.shift;
  }

  get(id: number): DevmemBo | undefined {
    const mask = this.keys.length - 1;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === id) return this.vals[i]!;
      if (k === 0) return undefined;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Add a new BO (its id not yet present) as the newest. */
  add(bo: DevmemBo): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.place(bo);
    this.size++;
    const tail = this.tail;
    bo.lruPrev = tail;
    bo.lruNext = null;
    if (tail === null) this.head = bo;
    else tail.lruNext = bo;
    this.tail = bo;
  }

  private place(bo: DevmemBo): void {
    const mask = this.keys.length - 1;
    let i = this.home(bo.id);
    while (this.keys[i] !== 0) i = (i + 1) & mask;
    this.keys[i] = bo.id;
    this.vals[i] = bo;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    this.keys = new Int32Array(n);
    this.vals = new Array<DevmemBo | null>(n).fill(null);
    this.shift--;
    for (let bo = this.head; bo !== null; bo = bo.lruNext) this.place(bo);
  }

  /** Remove the BO with this id; false when there is none. */
  delete(id: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = this.home(id);
    for (; keys[i] !== id; i = (i + 1) & mask) if (keys[i] === 0) return false;
    const bo = this.vals[i]!;
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(keys[j]);
      if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
        keys[i] = keys[j];
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    keys[i] = 0;
    this.vals[i] = null;
    this.size--;
    const prev = bo.lruPrev;
    const next = bo.lruNext;
    if (prev === null) this.head = next;
    else prev.lruNext = next;
    if (next === null) this.tail = prev;
    else next.lruPrev = prev;
    bo.lruPrev = bo.lruNext = null;
    return true;
  }

  /** Live BOs in allocation order. */
  *values(): IterableIterator<DevmemBo> {
    for (let bo = this.head; bo !== null; bo = bo.lruNext) yield bo;
  }
}

export class DrmPagemap {
  /** Live BOs by id (the zdd a device page points at), in allocation (LRU) order. */
  readonly bos = new BoTable();
  usedPages = 0;
  private nextId = 1;

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
    if (npages > this.freePages)
      throw new ModelInvariantError(`BO of ${npages} pages created with ${this.freePages} free`);
    const bo = new DevmemBo(this.nextId++, start, npages, pid);
    this.bos.add(bo);
    this.usedPages += npages;
    return bo;
  }

  /** Release a BO's VRAM. */
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
    return this.bos.head ?? undefined;
  }
}
