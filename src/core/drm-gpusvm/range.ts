/**
 * DOC: Range creation — drm_gpusvm_range_find_or_insert() and chunk selection
 *
 * On a GPU fault (or a prefetch) GPU SVM returns the range containing the address, or creates
 * one. The new range takes the largest chunk size (2M, 64K, 4K) whose naturally aligned
 * candidate fits inside the CPU VMA, the notifier and the GPU VMA, does not overlap an existing
 * range, and — when it is no larger than `check_pages_threshold` (64K on DGFX) — has every page
 * already present in the CPU page table (drm_gpusvm_check_pages(); the zero page and our own
 * device-private pages count as present). 4K candidates skip both checks.
 *
 * The notifier is registered before the CPU VMA lookup; when the lookup or a check fails the
 * fresh notifier is removed again, so a failed fault leaves no notifier behind.
 */

import { emit, type SimContext } from '../context.js';
import type { ChunkReject, Decision, Errno, NotMigratableCause } from '../decisions.js';
import { pteSummary } from '../mm/page-table.js';
import type { Gpusvm, GpusvmNotifier } from './gpusvm.js';

/** The driver's range type (what its drm_gpusvm_ops.range_alloc returns). */
type Range = SimContext['gpusvm'] extends Gpusvm<infer R> ? R : never;

/** The subset of struct drm_gpusvm_ctx that range creation reads. */
export interface RangeCtx {
  readOnly: boolean;
  devmemPossible: boolean;
  /** In pages; 0 disables drm_gpusvm_check_pages(). */
  checkPagesThreshold: number;
  /** 6.18.y ctx.device_private_page_owner == NULL: our device pages count as absent. */
  ownerNull?: boolean;
}

/** The GPU VA span a range must fit in (the driver's GPU VMA: gpuva_start, gpuva_end), in pages. */
export interface GpuvaSpan {
  readonly start: number;
  readonly end: number;
}

/** A chunk size rangeChunkSize() passed over, and why. */
interface ChunkRejection {
  pages: number;
  reason: ChunkReject;
}

/** `rejected` of a found range, or of any range when nothing records: shared, never written. */
const NONE_REJECTED: ChunkRejection[] = [];

type Found = { ok: true; range: Range; created: boolean; rejected: ChunkRejection[] };

export type FindOrInsertResult =
  | Found
  | { ok: false; errno: Errno; reason: Extract<Decision, { code: 'range_error' }>['reason'] };

/**
 * rangeFindOrInsert()'s results for a range that exists (every fault after the first on a range)
 * and for a range it made: one object each, refilled per call, read by the caller before it calls
 * again (no allocation per fault).
 */
const FOUND: Found = { ok: true, range: undefined as unknown as Range, created: false, rejected: NONE_REJECTED };
const CREATED: Found = { ok: true, range: undefined as unknown as Range, created: true, rejected: NONE_REJECTED };

/** checkPages()'s scratch summary. */
const SUM = pteSummary();

/**
 * Every page of [start, end) is present in the CPU page table (no-fault hmm snapshot). Device
 * pages count as present only when they belong to the owner passed in (Xe); with a NULL owner
 * (6.18.y, VMA prefers system) our own VRAM pages are absent. Mirrors drm_gpusvm_check_pages().
 */
export function checkPages(sim: SimContext, start: number, end: number, ownerNull = false): boolean {
  const s = sim.mm.pt.summarize(start, end, SUM);
  return s.none === 0 && (!ownerNull || s.device === 0);
}

/**
 * Choose the chunk for a new range at `page`; 0 when nothing fits (the kernel's LONG_MAX).
 * Mirrors drm_gpusvm_range_chunk_size().
 */
export function rangeChunkSize(
  sim: SimContext,
  notifier: GpusvmNotifier,
  vmaStart: number,
  vmaEnd: number,
  page: number,
  gpuVma: GpuvaSpan,
  ctx: RangeCtx,
  /** Where each rejected candidate and why is noted, or null. */
  rejected: ChunkRejection[] | null,
): number {
  const chunks = sim.gpusvm.chunkPages;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    const start = Math.floor(page / c) * c;
    const end = start + c;
    const misfit: ChunkReject | undefined =
      start < vmaStart || end > vmaEnd
        ? 'cpu_vma'
        : start < notifier.start || end > notifier.end
          ? 'notifier'
          : start < gpuVma.start || end > gpuVma.end
            ? 'gpu_vma'
            : undefined;
    if (misfit !== undefined) {
      rejected?.push({ pages: c, reason: misfit });
      continue;
    }
    if (c !== 1) {
      if (notifier.rangeFind(start, end) !== undefined) {
        rejected?.push({ pages: c, reason: 'overlap' });
        continue;
      }
      if (
        ctx.checkPagesThreshold !== 0 &&
        c <= ctx.checkPagesThreshold &&
        !checkPages(sim, start, end, ctx.ownerNull)
      ) {
        rejected?.push({ pages: c, reason: 'check_pages' });
        continue;
      }
    }
    return c;
  }
  return 0;
}

/**
 * Find the range containing `page` or create one. A successful result is shared: valid until the
 * next call. Mirrors drm_gpusvm_range_find_or_insert().
 */
export function rangeFindOrInsert(
  sim: SimContext,
  page: number,
  gpuVma: GpuvaSpan,
  ctx: RangeCtx,
  seq: number,
): FindOrInsertResult {
  const gpusvm = sim.gpusvm;
  if (page >= gpusvm.mmPages) return { ok: false, errno: 'EINVAL', reason: 'out_of_mm' };

  let notifier = gpusvm.notifierFind(page);
  const fresh = notifier === undefined;
  if (notifier === undefined) notifier = gpusvm.notifierAlloc(page);

  const vma = sim.mm.vmas.lookup(page);
  if (vma === undefined) return { ok: false, errno: 'ENOENT', reason: 'no_cpu_vma' };
  if (!ctx.readOnly && vma.prot !== 'rw') return { ok: false, errno: 'EPERM', reason: 'cpu_vma_readonly' };

  // rangeFind(page, page + 1) as a lookup of one page: `page + 1` would box a heap number.
  const existing = notifier.rangeAt(page);
  if (existing !== undefined) {
    FOUND.range = existing;
    return FOUND;
  }

  const migrateDevmem = ctx.devmemPossible && vma.kind === 'anon';
  const notMigratable: NotMigratableCause | undefined = !ctx.devmemPossible
    ? sim.platform.dgfx
      ? 'no_pagemap'
      : 'igpu'
    : vma.kind === 'anon'
      ? undefined
      : vma.kind === 'shared'
        ? 'shmem'
        : vma.kind;
  // The rejected candidates only go into the decision record: not collected when nothing records.
  const rejected: ChunkRejection[] | null = sim.recording ? [] : null;
  const chunk = rangeChunkSize(sim, notifier, vma.start, vma.end, page, gpuVma, ctx, rejected);
  if (chunk === 0) return { ok: false, errno: 'EINVAL', reason: 'no_chunk' };

  const start = Math.floor(page / chunk) * chunk;
  const range = gpusvm.ops.rangeAlloc(start, chunk, migrateDevmem, seq);
  range.notMigratable = notMigratable;
  notifier.insert(range);
  if (fresh) {
    gpusvm.notifierInsert(notifier);
    if (sim.recording) emit(sim, { code: 'notifier_create', notifier: notifier.ref() });
  }
  CREATED.range = range;
  CREATED.rejected = rejected ?? NONE_REJECTED;
  return CREATED;
}

/**
 * Remove a range; drop its notifier when it was the last one. Mirrors drm_gpusvm_range_remove().
 */
export function rangeRemove(sim: SimContext, range: Range): void {
  rangeUnmapPages(range);
  const n = sim.gpusvm.notifierFind(range.start) as GpusvmNotifier<Range>;
  n.remove(range);
  sim.gpusvm.ops.rangeFree?.(range); // drm_gpusvm_range_put(): the last reference
  if (n.size === 0) {
    sim.gpusvm.notifierRemove(n);
    if (sim.recording) emit(sim, { code: 'notifier_remove', notifier: n.ref() });
  }
}

/**
 * Drop the range's DMA mappings and device-page association.
 * Mirrors drm_gpusvm_range_unmap_pages().
 */
export function rangeUnmapPages(range: Range): void {
  range.hasDmaMapping = false;
  range.hasDevmemPages = false;
  range.devmemBo = 0;
}

/**
 * Mark a range unmapped by an MMU_NOTIFY_UNMAP of [start, end).
 * Mirrors drm_gpusvm_range_set_unmapped().
 */
export function rangeSetUnmapped(range: Range, start: number, end: number): void {
  range.unmapped = true;
  if (range.start < start || range.end > end) range.partialUnmap = true;
}
