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
 * reference): a doubly-linked list in allocation order, O(1) to append, unlink and take the oldest.
 *
 * Representation: a BO is a slot (a small integer, `DevmemBo`) in typed-array columns of the
 * pagemap, as a C driver keeps structs in an array — start, pages, owner, resident pages,
 * timeslice expiry, LRU links — with a free list of slots; no object per allocation. The BO id
 * (what a device PTE holds and the records print) finds the slot in an open-addressing table.
 */

import type { SimContext } from '../context.js';
import type { Errno, MigrateFailCause } from '../decisions.js';
import { resized } from '../columns.js';
import { ModelInvariantError } from '../invariant.js';

/**
 * One VRAM allocation — struct drm_pagemap_devmem and the driver BO behind it — as its slot in
 * DrmPagemap's columns (boId, boStart, boNpages, boPid, boResident, boExpiry, boThrash). 0 is no BO.
 */
export type DevmemBo = number;

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

/** No BO (slot 0 is never used). */
export const NO_BO = 0;

export class DrmPagemap {
  /** Live BOs. */
  size = 0;
  usedPages = 0;
  private nextId = 1;
  /** Slots allocated, the next never-used slot and the head of the free list (linked through lruNext). */
  private cap = 64;
  private top = 1;
  private free = NO_BO;
  /** BO id (its device pfns: what the device PTEs hold). */
  boId = new Int32Array(64);
  /** First page of the range the BO was created for. */
  boStart = new Float64Array(64);
  /** Pages (= range size at creation). */
  boNpages = new Int32Array(64);
  /** Process whose mm holds the device pages (the BO's CPU mapping lives in one mm). */
  boPid = new Int32Array(64);
  /** Device pages of this BO still present in the CPU page table. */
  boResident = new Int32Array(64);
  /** drm_pagemap_devmem.timeslice_expiration, in jiffies. */
  boExpiry = new Float64Array(64);
  /** Row of this allocation's track in the thrashing detector (-1 before its first migration; ThrashColumns). */
  boThrash = new Int32Array(64);
  /** LRU neighbours (older, newer); NO_BO at the ends. */
  private lruPrev = new Int32Array(64);
  private lruNext = new Int32Array(64);
  /** Oldest and newest live BO. */
  private head = NO_BO;
  private tail = NO_BO;
  /** Id table: slot keys are BO ids (ids start at 1; 0 marks an empty slot), values BO slots. */
  private keys = new Int32Array(64);
  private vals = new Int32Array(64);
  private shift = 32 - 6;

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

  /** Create a BO (capacity must have been checked); the newest in the LRU. */
  create(start: number, npages: number, pid: number): DevmemBo {
    if (npages > this.capacityPages - this.usedPages)
      throw new ModelInvariantError(`BO of ${npages} pages created with ${this.freePages} free`);
    if ((this.size + 1) * 2 > this.keys.length) this.growTable();
    let bo = this.free;
    if (bo !== NO_BO) this.free = this.lruNext[bo];
    else {
      if (this.top === this.cap) this.growSlots();
      bo = this.top++;
    }
    const id = this.nextId++;
    this.boId[bo] = id;
    this.boStart[bo] = start;
    this.boNpages[bo] = npages;
    this.boPid[bo] = pid;
    this.boResident[bo] = 0;
    this.boExpiry[bo] = 0;
    this.boThrash[bo] = -1;
    const tail = this.tail;
    this.lruPrev[bo] = tail;
    this.lruNext[bo] = NO_BO;
    if (tail === NO_BO) this.head = bo;
    else this.lruNext[tail] = bo;
    this.tail = bo;
    this.place(id, bo);
    this.size++;
    this.usedPages += npages;
    return bo;
  }

  /** Release a BO's VRAM (its slot goes to the free list). */
  release(bo: DevmemBo): void {
    const id = this.boId[bo];
    if (bo === NO_BO || id === 0 || !this.unplace(id)) throw new ModelInvariantError(`BO ${id} released twice`);
    this.size--;
    this.usedPages -= this.boNpages[bo];
    const prev = this.lruPrev[bo];
    const next = this.lruNext[bo];
    if (prev === NO_BO) this.head = next;
    else this.lruNext[prev] = next;
    if (next === NO_BO) this.tail = prev;
    else this.lruPrev[next] = prev;
    this.boId[bo] = 0;
    this.lruNext[bo] = this.free;
    this.free = bo;
  }

  /** The live BO with this id, or NO_BO. */
  find(id: number): DevmemBo {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = Math.imul(id, 0x9e3779b1) >>> this.shift; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === id) return this.vals[i];
      if (k === 0) return NO_BO;
    }
  }

  /** The live BO with this id (a device page points at it). */
  get(id: number): DevmemBo {
    const bo = this.find(id);
    if (bo === NO_BO) throw new ModelInvariantError(`device page points at freed BO ${id}`);
    return bo;
  }

  /** The least recently allocated BO, for TTM eviction (NO_BO when none). */
  lru(): DevmemBo {
    return this.head;
  }

  /** Live BOs in allocation order. */
  *values(): IterableIterator<DevmemBo> {
    for (let bo = this.head; bo !== NO_BO; bo = this.lruNext[bo]) yield bo;
  }

  private place(id: number, bo: DevmemBo): void {
    const mask = this.keys.length - 1;
    let i = Math.imul(id, 0x9e3779b1) >>> this.shift;
    while (this.keys[i] !== 0) i = (i + 1) & mask;
    this.keys[i] = id;
    this.vals[i] = bo;
  }

  /** Remove id from the table (backward-shift deletion); false when absent. */
  private unplace(id: number): boolean {
    const keys = this.keys;
    const vals = this.vals;
    const mask = keys.length - 1;
    const shift = this.shift;
    let i = Math.imul(id, 0x9e3779b1) >>> shift;
    for (; keys[i] !== id; i = (i + 1) & mask) if (keys[i] === 0) return false;
    // Pull later entries of the probe run into the hole.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const h = Math.imul(keys[j], 0x9e3779b1) >>> shift;
      if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
        keys[i] = keys[j];
        vals[i] = vals[j];
        i = j;
      }
    }
    keys[i] = 0;
    vals[i] = NO_BO;
    return true;
  }

  private growTable(): void {
    const n = this.keys.length * 2;
    this.keys = new Int32Array(n);
    this.vals = new Int32Array(n);
    this.shift--;
    for (let bo = this.head; bo !== NO_BO; bo = this.lruNext[bo]) this.place(this.boId[bo], bo);
  }

  private growSlots(): void {
    const cap = this.cap * 2;
    this.boId = resized(this.boId, cap);
    this.boStart = resized(this.boStart, cap);
    this.boNpages = resized(this.boNpages, cap);
    this.boPid = resized(this.boPid, cap);
    this.boResident = resized(this.boResident, cap);
    this.boExpiry = resized(this.boExpiry, cap);
    this.boThrash = resized(this.boThrash, cap);
    this.lruPrev = resized(this.lruPrev, cap);
    this.lruNext = resized(this.lruNext, cap);
    this.cap = cap;
  }
}
