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
 * kernel's interval tree lookup is an O(1) division here); each notifier indexes its ranges by
 * largest-chunk slot (GpusvmNotifier), so lookups and inserts stay cheap at millions of ranges.
 */

import type { SimContext } from '../context.js';
import { type NotifierEvent, type NotMigratableCause, type RangeRef, Span } from '../decisions.js';
import { insertAt, removeAt } from '../mm/array.js';
import { IntMap } from '../mm/int-map.js';

/**
 * Driver callbacks of a gpusvm instance. Mirrors struct drm_gpusvm_ops. Xe sets range_alloc,
 * range_free and invalidate (xe_svm.c gpusvm_ops); notifier_alloc/notifier_free are left NULL, so
 * the generic allocation is used for notifiers and no hook is modelled for them.
 */
export interface GpusvmOps<R extends SvmRange = SvmRange> {
  /**
   * Allocate a range: the driver embeds struct drm_gpusvm_range in its own (xe_svm_range) and
   * returns it; drm-gpusvm initialises the generic part. Mirrors drm_gpusvm_ops.range_alloc.
   */
  rangeAlloc(start: number, npages: number, migrateDevmem: boolean, createdSeq: number): R;
  /** Free a range after drm_gpusvm_range_remove(). Mirrors drm_gpusvm_ops.range_free. */
  rangeFree?(range: R): void;
  /** Called under the notifier lock for every MMU-notifier callback on a linked notifier. Mirrors drm_gpusvm_ops.invalidate. */
  invalidate(
    sim: SimContext,
    notifier: GpusvmNotifier<R>,
    event: NotifierEvent,
    start: number,
    end: number,
    quiet: boolean,
  ): void;
}

/** Bits of SvmRange's flag word. */
const MIGRATE_DEVMEM = 1 << 0;
const UNMAPPED = 1 << 1;
const PARTIAL_UNMAP = 1 << 2;
const HAS_DEVMEM_PAGES = 1 << 3;
const HAS_DMA_MAPPING = 1 << 4;
/** 4 bits for the driver's own flags (driverFlag()). */
const DRIVER_SHIFT = 5;
/** Number of flag bits a driver may use. */
const DRIVER_FLAG_BITS = 4;
/** 3 bits: index into NOT_MIGRATABLE + 1 (0 = undefined). */
const NOT_MIGRATABLE_SHIFT = DRIVER_SHIFT + DRIVER_FLAG_BITS;
/** 5 bits: log2 of the range's pages (chunk sizes are powers of two). */
const ORDER_SHIFT = 12;
const NOT_MIGRATABLE: readonly NotMigratableCause[] = ['shmem', 'file', 'hugetlb', 'igpu', 'no_pagemap'];

/**
 * A range (struct drm_gpusvm_range). The driver allocates it through drm_gpusvm_ops.range_alloc,
 * as a subclass with its own fields (Xe: XeSvmRange); a few flag bits are kept for those.
 *
 * Kept compact because recordings hold millions of them: every flag and the chunk order share
 * one small-integer word. The start and the end are plain fields: page numbers reach 2^36, so V8
 * keeps each as a heap number made once, when the range is; reading one is a load, and passing it
 * on to a call passes that heap number (a getter computing `start + npages` boxed a new one on
 * every call site that V8 did not inline: 16 bytes per fault on the fault path). The flags read
 * like the kernel's through accessors. The range's notifier (drm_gpusvm_range.notifier) is not a
 * field: it is the linked notifier of the block holding `start` (Gpusvm.notifierFind()), the one
 * the range was inserted into, linked as long as the range is.
 */
export class SvmRange {
  /** Flags, not-migratable cause, log2(npages). */
  private f: number;
  /** BO whose device pages are DMA-mapped (drm_gpusvm_range.dpagemap / zdd), 0 if none. */
  devmemBo = 0;
  /** drm_gpusvm_range.notifier_seq: the notifier's seq at the last successful get_pages; -1 = LONG_MAX (never). */
  notifierSeq = -1;
  /** One past the last page (drm_gpusvm_range.itree.last + 1 >> PAGE_SHIFT). */
  readonly end: number;

  constructor(
    /** First page (drm_gpusvm_range.itree.start >> PAGE_SHIFT). */
    readonly start: number,
    npages: number,
    migrateDevmem: boolean,
    /** Event index that created the range. */
    readonly createdSeq: number,
  ) {
    this.f = (migrateDevmem ? MIGRATE_DEVMEM : 0) | ((31 - Math.clz32(npages)) << ORDER_SHIFT);
    this.end = start + npages;
  }

  get npages(): number {
    return 1 << ((this.f >>> ORDER_SHIFT) & 31);
  }

  private flag(bit: number, on: boolean): void {
    this.f = on ? this.f | bit : this.f & ~bit;
  }

  /** Driver flag `i` (0 .. DRIVER_FLAG_BITS - 1). */
  protected driverFlag(i: number): boolean {
    return (this.f & (1 << (DRIVER_SHIFT + i))) !== 0;
  }

  protected setDriverFlag(i: number, on: boolean): void {
    this.flag(1 << (DRIVER_SHIFT + i), on);
  }

  /** drm_gpusvm_range_flags.migrate_devmem */
  get migrateDevmem(): boolean {
    return (this.f & MIGRATE_DEVMEM) !== 0;
  }
  set migrateDevmem(v: boolean) {
    this.flag(MIGRATE_DEVMEM, v);
  }
  get unmapped(): boolean {
    return (this.f & UNMAPPED) !== 0;
  }
  set unmapped(v: boolean) {
    this.flag(UNMAPPED, v);
  }
  get partialUnmap(): boolean {
    return (this.f & PARTIAL_UNMAP) !== 0;
  }
  set partialUnmap(v: boolean) {
    this.flag(PARTIAL_UNMAP, v);
  }
  get hasDevmemPages(): boolean {
    return (this.f & HAS_DEVMEM_PAGES) !== 0;
  }
  set hasDevmemPages(v: boolean) {
    this.flag(HAS_DEVMEM_PAGES, v);
  }
  get hasDmaMapping(): boolean {
    return (this.f & HAS_DMA_MAPPING) !== 0;
  }
  set hasDmaMapping(v: boolean) {
    this.flag(HAS_DMA_MAPPING, v);
  }
  /** Why migrate_devmem is 0 (the CPU VMA kind or no devmem), undefined when it is 1. */
  get notMigratable(): NotMigratableCause | undefined {
    const k = (this.f >>> NOT_MIGRATABLE_SHIFT) & 7;
    return k === 0 ? undefined : NOT_MIGRATABLE[k - 1];
  }
  set notMigratable(v: NotMigratableCause | undefined) {
    const k = v === undefined ? 0 : NOT_MIGRATABLE.indexOf(v) + 1;
    this.f = (this.f & ~(7 << NOT_MIGRATABLE_SHIFT)) | (k << NOT_MIGRATABLE_SHIFT);
  }

  ref(): RangeRef {
    return new Span(this.start, this.end);
  }
}

/** Most slots per notifier for which GpusvmNotifier keeps a by-slot-number index (16 KiB). */
const DIRECT_SLOTS = 4096;

/** Slot-number indexes of unlinked notifiers, all entries undefined, for reuse. */
const DIRECT_POOL: unknown[][] = [];
const DIRECT_POOL_MAX = 16;

/** Empty slot lists, for reuse (a slot's list goes with its last range: munmap churn). */
const LIST_POOL: unknown[][] = [];
const LIST_POOL_MAX = 64;

/** Index of the first range of a start-sorted list whose end is above `page`. */
function listLowerBound(list: readonly SvmRange[], page: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].end <= page) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A notifier and its ranges.
 *
 * The kernel keeps a notifier's ranges in an interval tree (drm_gpusvm_range_find() is
 * interval_tree_iter_first()). Ranges are naturally aligned chunks no larger than the largest
 * chunk size, so none crosses a boundary of that size (a *slot*, 2M for Xe): the ranges are kept
 * per slot, in a start-sorted list of at most 512, and the occupied slots in a sorted typed array.
 * A lookup is a binary search over the slot numbers and one over a short list; inserting or
 * removing a range moves at most one slot's entries, however many ranges the notifier holds.
 *
 * Most lookups name one slot (a page, a chunk candidate, a range's or a BO's span: none crosses a
 * slot boundary). With at most DIRECT_SLOTS slots per notifier (256 with the 512M default) each
 * slot's list is also indexed by slot number (`direct`, 4 bytes a slot), so those lookups skip the
 * binary search over the slot numbers: what cfault.c's hash of 2M blocks does in one probe.
 */
export class GpusvmNotifier<R extends SvmRange = SvmRange> {
  /** mmu_interval_notifier.invalidate_seq (set by mmu_interval_set_seq() in every callback). */
  invalidateSeq = 0;
  /** Ranges linked in the notifier. */
  size = 0;
  /** Occupied slot numbers, relative to the notifier start, ascending (first `nslots` entries). */
  private readonly keys: number[] = [];
  /** The ranges of each occupied slot, by start; parallel to `keys`. */
  private readonly lists: R[][] = [];
  private nslots = 0;
  /**
   * Each slot's list by slot number (undefined: empty slot); null before the first insert, after
   * the notifier is unlinked (the array goes back to DIRECT_POOL), and past DIRECT_SLOTS slots.
   */
  private direct: (R[] | undefined)[] | null = null;
  private readonly directSlots: number;

  constructor(
    /** Block index (start / notifier size); index, start and end change only in reuse(). */
    public index: number,
    /** First page (mmu_interval_notifier.interval_tree.start >> PAGE_SHIFT). */
    public start: number,
    /** One past the last page. */
    public end: number,
    /** Slot size in pages: a power of two that every chunk size divides. */
    private readonly slotPages: number,
  ) {
    const slots = (end - start) / slotPages;
    this.directSlots = slots <= DIRECT_SLOTS ? slots : 0;
  }

  /**
   * Make an unlinked, empty notifier of a pool the notifier of another block of the same size
   * (Gpusvm.notifierAlloc()): its slot arrays are kept, empty.
   */
  reuse(index: number, start: number, end: number): this {
    this.index = index;
    this.start = start;
    this.end = end;
    this.span = null;
    this.invalidateSeq = 0;
    return this;
  }

  /**
   * Give the slot-number index back to the pool (the notifier is unlinked and empty: every entry
   * is undefined again). Notifiers come and go with their last range (munmap churn): a pooled
   * array saves allocating and clearing one per notifier.
   */
  releaseIndex(): void {
    const d = this.direct;
    if (d === null) return;
    this.direct = null;
    if (this.size === 0 && DIRECT_POOL.length < DIRECT_POOL_MAX) DIRECT_POOL.push(d);
  }

  /** The slot-number index, made on the first insert (from the pool when it holds one of the size). */
  private makeIndex(): (R[] | undefined)[] | null {
    const n = this.directSlots;
    if (n === 0) return null;
    const top = DIRECT_POOL.length - 1;
    let d: (R[] | undefined)[];
    if (top >= 0 && DIRECT_POOL[top].length === n) d = DIRECT_POOL.pop() as (R[] | undefined)[];
    else d = new Array<R[] | undefined>(n).fill(undefined);
    for (let i = 0; i < this.nslots; i++) d[this.keys[i]] = this.lists[i];
    this.direct = d;
    return d;
  }

  /** The notifier's Span for records, made at the first ref() (start and end change only in reuse()). */
  private span: Span | null = null;

  /**
   * The interval as a record's span: one Span per notifier (records never write it), not one per
   * record: every invalidate, notifier_create and notifier_remove names its notifier.
   */
  ref(): RangeRef {
    return (this.span ??= new Span(this.start, this.end));
  }

  /** Every range, in address order (a copy). */
  get ranges(): R[] {
    const out: R[] = [];
    for (let i = 0; i < this.nslots; i++) for (const r of this.lists[i]) out.push(r);
    return out;
  }

  private slotOf(page: number): number {
    return Math.floor((page - this.start) / this.slotPages);
  }

  /** Index of the first occupied slot numbered `slot` or above. */
  private slotLowerBound(slot: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.nslots;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Find the first range whose end is above `page`: its slot index and list index go to the
   * shared scratch SEEK (no allocation). False when there is none.
   */
  private seek(page: number): boolean {
    const slot = this.slotOf(page);
    let i = this.slotLowerBound(slot);
    let j = 0;
    if (i < this.nslots && this.keys[i] === slot) {
      j = listLowerBound(this.lists[i], page);
      if (j === this.lists[i].length) {
        i++;
        j = 0;
      }
    }
    SEEK.slot = i;
    SEEK.pos = j;
    return i < this.nslots;
  }

  /**
   * The first range of `list` (one slot's, by start) overlapping [start, end), or undefined.
   * A short walk: a slot holds one 2M range, or the few 4K/64K ranges a workload made in it.
   */
  private static inList<R extends SvmRange>(list: readonly R[], start: number, end: number): R | undefined {
    const n = list.length;
    let j = 0;
    if (n > 8) {
      j = listLowerBound(list, start);
      if (j === n) return undefined;
    } else while (j < n && list[j].end <= start) j++;
    if (j === n) return undefined;
    const r = list[j];
    return r.start < end ? r : undefined;
  }

  /** First range overlapping [start, end). Mirrors drm_gpusvm_range_find(). */
  rangeFind(start: number, end: number): R | undefined {
    const direct = this.direct;
    if (direct !== null) {
      const slot = this.slotOf(start);
      if (slot >= 0 && end - this.start <= (slot + 1) * this.slotPages) {
        // [start, end) lies in one slot: only that slot's ranges can overlap it.
        const list = direct[slot];
        return list === undefined ? undefined : GpusvmNotifier.inList(list, start, end);
      }
    }
    if (!this.seek(start)) return undefined;
    const r = this.lists[SEEK.slot][SEEK.pos];
    return r.start < end ? r : undefined;
  }

  /** The range containing `page`, if any. */
  rangeAt(page: number): R | undefined {
    const slot = this.slotOf(page);
    const direct = this.direct;
    if (direct !== null) {
      const list = direct[slot];
      return list === undefined ? undefined : GpusvmNotifier.inList(list, page, page + 1);
    }
    const i = this.slotLowerBound(slot);
    if (i >= this.nslots || this.keys[i] !== slot) return undefined;
    const list = this.lists[i];
    if (list.length === 1) {
      const r = list[0];
      return r.start <= page && page < r.end ? r : undefined;
    }
    const r = list[listLowerBound(list, page)];
    return r !== undefined && r.start <= page ? r : undefined;
  }

  /** Every range overlapping [start, end), in order (a new array). Mirrors drm_gpusvm_for_each_range(). */
  rangesIn(start: number, end: number): R[] {
    const out: R[] = [];
    out.length = this.rangesInto(start, end, out);
    return out;
  }

  /**
   * rangesIn() written to `out` from index 0, which is never shortened (V8 gives an array's
   * storage back when its length drops, and a caller's reused list would grow it again per call):
   * returns how many; the entries past that are left as they were. For a caller that does not
   * nest and keeps one list.
   */
  rangesInto(start: number, end: number, out: (R | undefined)[]): number {
    if (!this.seek(start)) return 0;
    let k = 0;
    let i = SEEK.slot;
    let j = SEEK.pos;
    for (; i < this.nslots; i++, j = 0) {
      const list = this.lists[i];
      for (; j < list.length; j++) {
        const r = list[j];
        if (r.start >= end) return k;
        out[k++] = r;
      }
    }
    return k;
  }

  insert(r: R): void {
    const start = r.start;
    const slot = this.slotOf(start);
    const i = this.slotLowerBound(slot);
    this.size++;
    if (i < this.nslots && this.keys[i] === slot) {
      const list = this.lists[i];
      insertAt(list, listLowerBound(list, start), r);
      return;
    }
    insertAt(this.keys, i, slot);
    const list = (LIST_POOL.pop() as R[] | undefined) ?? [];
    list.push(r);
    insertAt(this.lists, i, list);
    this.nslots++;
    const direct = this.direct ?? this.makeIndex();
    if (direct !== null) direct[slot] = list;
  }

  remove(r: R): void {
    const start = r.start;
    const slot = this.slotOf(start);
    const i = this.slotLowerBound(slot);
    if (i >= this.nslots || this.keys[i] !== slot) return;
    const list = this.lists[i];
    const j = list.indexOf(r, listLowerBound(list, start));
    if (j < 0) return;
    this.size--;
    if (list.length > 1) {
      removeAt(list, j);
      return;
    }
    removeAt(this.keys, i);
    removeAt(this.lists, i);
    if (this.direct !== null) this.direct[slot] = undefined;
    this.nslots--;
    list.pop();
    if (LIST_POOL.length < LIST_POOL_MAX) LIST_POOL.push(list);
  }
}

/** Most removed notifiers a Gpusvm keeps for reuse. */
const NOTIFIER_POOL_MAX = 16;

/** Scratch result of GpusvmNotifier.seek(). */
const SEEK = { slot: 0, pos: 0 };

export class Gpusvm<R extends SvmRange = SvmRange> {
  /** Linked notifiers by block index (page / notifier size). */
  readonly notifiers = new IntMap<GpusvmNotifier<R>>();
  /** The range that served the last GPU access (a lookup cache; see gpuAccessHits()). */
  lastHit: R | undefined;
  /**
   * lastHit's [start, end), -1 without one: the range's own fields (heap numbers made with the
   * range), not copies: storing a page number above 2^31 into an object field allocates one.
   */
  get lastHitStart(): number {
    const h = this.lastHit;
    return h === undefined ? -1 : h.start;
  }
  get lastHitEnd(): number {
    const h = this.lastHit;
    return h === undefined ? -1 : h.end;
  }
  /** Make `r` the GPU lookup cache's entry (a range's bounds never change once it exists). */
  setLastHit(r: R): void {
    this.lastHit = r;
  }

  /** The notifier found last (a lookup cache; linked notifiers only). */
  private lastNotifier: GpusvmNotifier<R> | undefined;
  /**
   * Removed notifiers, empty, for notifierAlloc() to reuse (a notifier comes and goes with its
   * last range on munmap churn: the object and its slot arrays are kept instead of made again).
   * Nothing keeps a removed notifier: ranges name theirs by address (see SvmRange).
   */
  private readonly pool: GpusvmNotifier<R>[] = [];
  /**
   * mm->notifier_subscriptions->invalidate_seq: starts at 2, odd while an invalidation that hits an
   * interval notifier runs, +1 when it ends (mn_itree_inv_start_range / mn_itree_inv_end). Only the
   * invalidations the model makes move it; other interval notifiers of a real mm move it too.
   */
  invalidateSeq = 2;
  /** Slot size of the notifiers' range index: the largest chunk, at most a notifier. */
  private readonly slotPages: number;

  constructor(
    /** Notifier size in pages. */
    readonly notifierPages: number,
    /** mm_range in pages (vm->size). */
    readonly mmPages: number,
    /** Chunk sizes in pages, descending powers of two; last is 1 (4K). */
    readonly chunkPages: readonly number[],
    /** The driver's callbacks (drm_gpusvm_init()'s ops). */
    readonly ops: GpusvmOps<R>,
  ) {
    this.slotPages = Math.min(chunkPages[0], notifierPages);
  }

  /** Notifier containing `page`, if linked. Mirrors drm_gpusvm_notifier_find(). */
  notifierFind(page: number): GpusvmNotifier<R> | undefined {
    const index = Math.floor(page / this.notifierPages);
    const last = this.lastNotifier;
    if (last !== undefined && last.index === index) return last;
    const n = this.notifiers.get(index);
    if (n !== undefined) this.lastNotifier = n;
    return n;
  }

  /** A fresh notifier for the aligned block containing `page`, not yet linked. Mirrors drm_gpusvm_notifier_alloc(). */
  notifierAlloc(page: number): GpusvmNotifier<R> {
    const index = Math.floor(page / this.notifierPages);
    const start = index * this.notifierPages;
    const end = start + this.notifierPages;
    const n = this.pool.pop();
    return n !== undefined ? n.reuse(index, start, end) : new GpusvmNotifier<R>(index, start, end, this.slotPages);
  }

  /** Link a notifier into the gpusvm. Mirrors drm_gpusvm_notifier_insert(). */
  notifierInsert(n: GpusvmNotifier<R>): void {
    // mmu_interval_notifier_insert() outside an invalidation: seq = subscriptions seq - 1.
    n.invalidateSeq = this.invalidateSeq - 1;
    this.notifiers.set(n.index, n);
  }

  /** Unlink a notifier. Mirrors drm_gpusvm_notifier_remove(). */
  notifierRemove(n: GpusvmNotifier<R>): void {
    this.notifiers.delete(n.index);
    n.releaseIndex();
    if (this.lastNotifier === n) this.lastNotifier = undefined;
    if (n.size === 0 && this.pool.length < NOTIFIER_POOL_MAX) this.pool.push(n);
  }

  /** Linked notifiers overlapping [start, end), in address order. */
  notifiersIn(start: number, end: number): GpusvmNotifier<R>[] {
    if (end <= start) return [];
    const first = Math.floor(start / this.notifierPages);
    const last = Math.floor((end - 1) / this.notifierPages);
    if (first === last) {
      const n = this.notifierFind(start);
      return n === undefined ? [] : [n];
    }
    const out: GpusvmNotifier<R>[] = [];
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

  /**
   * One MMU-notifier callback on a linked notifier: bump its sequence and call the driver's
   * invalidate op. Mirrors drm_gpusvm_notifier_invalidate().
   */
  notifierInvalidate(
    sim: SimContext,
    n: GpusvmNotifier<R>,
    event: NotifierEvent,
    start: number,
    end: number,
    quiet: boolean,
  ): void {
    n.invalidateSeq = this.invalidateSeq; // mmu_interval_set_seq()
    this.ops.invalidate(sim, n, event, start, end, quiet);
  }

  /** The range containing `page`, if any. */
  rangeAt(page: number): R | undefined {
    return this.notifierFind(page)?.rangeAt(page);
  }

  /** Live ranges over all notifiers. */
  rangeCount(): number {
    let n = 0;
    for (const x of this.notifiers.values()) n += x.size;
    return n;
  }

  /** All ranges, sorted by start. */
  allRanges(): R[] {
    const ns = [...this.notifiers.values()].sort((a, b) => a.start - b.start);
    return ns.flatMap((n) => n.ranges);
  }
}
