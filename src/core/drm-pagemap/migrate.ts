/**
 * DOC: drm_pagemap migration — RAM to VRAM, VRAM to RAM, eviction
 *
 * - migrateToDevmem: migrate_vma over [start, end) selecting system pages only. Holes and
 *   zero-page PTEs of an anonymous VMA are collected without a source page (nothing to copy);
 *   device-private pages are not collected, and anything short of all pages fails
 *   (cpages == 0 → -EFAULT, cpages != npages → -EBUSY). migrate_vma_setup fires an
 *   MMU_NOTIFY_MIGRATE callback before the collection is judged.
 * - migrateToRam: the dev_pagemap migrate_to_ram op run on a CPU fault on a device page. The
 *   window is the whole allocation ([ALIGN_DOWN(addr, size), +size) clamped to the CPU VMA), and
 *   while `now < timeslice_expiration` it returns without migrating (the CPU retries).
 * - evictToRam: TTM evicting a BO: every still-resident page moves back, one notifier callback
 *   per page (migrate_device_pfns → try_to_migrate).
 *
 * The copies themselves are the driver's: drm_pagemap calls the allocation's
 * drm_pagemap_devmem_ops (populate_devmem_pfn, copy_to_devmem, copy_to_ram, devmem_release), and
 * Xe counts its copy statistics there (xe-svm/migrate.ts). drm_pagemap_pagemap_ops (page_free,
 * migrate_to_ram) is what mm calls for device-private pages.
 */

import type { SimContext } from '../context.js';
import { emit } from '../context.js';
import type { Errno, MigrateFailCause } from '../decisions.js';
import { mmuNotifierInvalidate } from '../mm/notifier.js';
import { devicePte, isDevicePte, PTE_SMEM, pteBo, type CpuPageTable } from '../mm/page-table.js';
import { inProcessOf } from '../processes.js';
import type { DevPagemapOps, DevmemBo, PopulateResult } from './pagemap.js';

/** Account a migration back to RAM in the derived metrics and the thrashing tracker. */
function noteToRam(sim: SimContext, bo: DevmemBo, pages: number): void {
  sim.metrics.migrationsToRam++;
  sim.metrics.pagesToRam += pages;
  sim.thrash.migratedAlloc(sim.pagemap, bo, false, pages, sim.seq, sim.clock.now);
}

/**
 * Drop `n` device-page references of a BO; at zero the driver releases it (devmem_release).
 * Mirrors drm_pagemap_page_free() → drm_pagemap_zdd_put() → drm_pagemap_zdd_destroy().
 */
function drmPagemapPageFree(sim: SimContext, bo: DevmemBo, n: number): void {
  const pm = sim.pagemap;
  if ((pm.boResident[bo] -= n) === 0) pm.devmemOps.devmemRelease(sim, bo);
}

/** What a migration to device memory did (one object, refilled by every call: read it before the next). */
export interface MigrateResult {
  ok: boolean;
  /** Pages copied (with a source page). */
  copied: number;
  /** Cost-model µs of the copy. */
  copyUs: number;
  errno: Errno | undefined;
  cause: MigrateFailCause | undefined;
}
const migrated: MigrateResult = { ok: false, copied: 0, copyUs: 0, errno: undefined, cause: undefined };

function migrateFailed(errno: Errno, cause: MigrateFailCause): MigrateResult {
  migrated.ok = false;
  migrated.copied = 0;
  migrated.copyUs = 0;
  migrated.errno = errno;
  migrated.cause = cause;
  return migrated;
}

/** First page of [start, end) without a source page (hole or zero page), or -1. */
function firstPageWithoutSource(pt: CpuPageTable, start: number, end: number): number {
  let p = start;
  for (const run of pt.runs(start, end)) {
    if (run.start > p) return p; // a hole (pte_none) before this run
    if (run.pte !== PTE_SMEM) return run.start;
    p = run.end;
  }
  return p < end ? p : -1;
}

/**
 * Migrate the system pages of [start, end) into `bo`.
 * Mirrors drm_pagemap_migrate_to_devmem() (6.15/6.16: drm_gpusvm_migrate_to_devmem()).
 */
export function migrateToDevmem(
  sim: SimContext,
  bo: DevmemBo,
  start: number,
  end: number,
  timesliceMs: number,
): MigrateResult {
  const vma = sim.mm.vmas.lookup(start);
  if (vma === undefined) return migrateFailed('ENOENT', 'no_cpu_vma');
  if (start < vma.start || end > vma.end) return migrateFailed('EINVAL', 'spans_cpu_vmas');
  if (vma.kind !== 'anon') return migrateFailed('EBUSY', 'not_anonymous');

  // migrate_vma_setup(): the MIGRATE notifier fires before collection is judged.
  mmuNotifierInvalidate(sim, 'MIGRATE', start, end);

  const npages = end - start;
  const sum = sim.mm.pt.summarize(start, end);
  const copied = sum.smem;
  const cpages = npages - sum.device;
  if (cpages === 0) return migrateFailed('EFAULT', 'all_device_private');
  if (cpages !== npages) return migrateFailed('EBUSY', 'partly_device_private');

  const pm = sim.pagemap;
  const ops = pm.devmemOps;
  const pte = ops.populateDevmemPfn(sim, bo);
  const copyUs = ops.copyToDevmem(sim, bo, start, end, copied);
  // migrate_vma_pages(): pages without a source (holes, zero pages) get their device page inserted
  // under a second MMU_NOTIFY_MIGRATE from the first such page to the end (__migrate_device_pages).
  if (copied !== npages)
    mmuNotifierInvalidate(sim, 'MIGRATE', firstPageWithoutSource(sim.mm.pt, start, end), end, true);

  sim.metrics.migrationsToVram++;
  sim.metrics.pagesToVram += copied;
  sim.thrash.migratedAlloc(pm, bo, true, npages, sim.seq, sim.clock.now);
  sim.mm.pt.fill(start, end, pte);
  pm.boResident[bo] = npages;
  if (sim.kv.v615) pm.boExpiry[bo] = sim.clock.jiffies() + sim.clock.msecsToJiffies(timesliceMs);
  migrated.ok = true;
  migrated.copied = copied;
  migrated.copyUs = copyUs;
  migrated.errno = undefined;
  migrated.cause = undefined;
  return migrated;
}

/**
 * Wait until a BO's timeslice has expired: migrate_to_ram returns 0 without migrating (no sleep,
 * no VM_FAULT_RETRY) while jiffies < timeslice_expiration, so the CPU (or the hmm walk's -EBUSY
 * loop) re-faults until the first jiffy tick at or after the expiry. Records the wait.
 */
function waitTimeslice(sim: SimContext, bo: DevmemBo, by: 'cpu' | 'evict' | 'get_pages'): void {
  if (!sim.kv.v615) return;
  const pm = sim.pagemap;
  const expiry = pm.boExpiry[bo];
  if (sim.clock.jiffies() >= expiry) return;
  const from = sim.clock.now;
  const until = sim.clock.jiffiesToNs(expiry);
  sim.clock.advanceTo(until);
  if (sim.recording)
    emit(sim, {
      code: 'timeslice_wait',
      bo: pm.boId[bo],
      start: pm.boStart[bo],
      end: pm.boStart[bo] + pm.boNpages[bo],
      fromNs: from,
      untilNs: until,
      expiryJiffies: expiry,
      by,
    });
}

/** Pages of [start, end) whose PTE is `pte`. */
function countPte(pt: CpuPageTable, start: number, end: number, pte: number): number {
  const sum = pt.summarize(start, end);
  if (sum.deviceBo === pteBo(pte)) return sum.device;
  let n = 0;
  for (const r of pt.runs(start, end)) if (r.pte === pte) n += r.end - r.start;
  return n;
}

/**
 * CPU fault on device page `page`: move the whole allocation window back to RAM.
 * Mirrors drm_pagemap_migrate_to_ram() / __drm_pagemap_migrate_to_ram()
 * (6.15/6.16: drm_gpusvm_migrate_to_ram()).
 */
function drmPagemapMigrateToRam(sim: SimContext, page: number, cause: 'cpu_fault' | 'range_evict' | 'get_pages'): void {
  const pt = sim.mm.pt;
  const v = pt.get(page);
  if (!isDevicePte(v)) return;
  const pm = sim.pagemap;
  const bo = pm.get(pteBo(v));
  waitTimeslice(sim, bo, cause === 'cpu_fault' ? 'cpu' : cause === 'range_evict' ? 'evict' : 'get_pages');

  const vma = sim.mm.vmas.lookup(page);
  const boPages = pm.boNpages[bo];
  const boStart = pm.boStart[bo];
  let start = Math.floor(page / boPages) * boPages;
  let end = start + boPages;
  if (vma !== undefined) {
    start = Math.max(start, vma.start);
    end = Math.min(end, vma.end);
  }
  mmuNotifierInvalidate(sim, 'MIGRATE', start, end);

  // migrate_vma_setup() collects this BO's pages of the window; copy_to_ram copies them. The
  // window is the BO's span (clamped to the VMA), and a BO's device pages lie in its span only:
  // for the whole span they are the BO's resident pages.
  const whole = start === boStart && end === boStart + boPages;
  const collected = whole ? pm.boResident[bo] : countPte(pt, start, end, v);
  pm.devmemOps.copyToRam(sim, bo, start, end, collected);
  // A whole span still fully resident is all this BO's device pages: one fill, no run list.
  let n: number;
  if (whole && collected === boPages) {
    pt.fill(start, end, PTE_SMEM);
    n = collected;
  } else n = pt.replace(start, end, v, PTE_SMEM);
  if (sim.recording) emit(sim, { code: 'migrate_to_ram', bo: pm.boId[bo], start, end, pages: n, cause });
  noteToRam(sim, bo, n);
  drmPagemapPageFree(sim, bo, n);
}

/**
 * Ask the driver to allocate device memory for [start, end) and migrate it there.
 * Mirrors drm_pagemap_populate_mm() (≥6.17).
 */
export function drmPagemapPopulateMm(sim: SimContext, start: number, end: number, timesliceMs: number): PopulateResult {
  return sim.pagemap.ops.populateMm(sim, start, end, timesliceMs);
}

/** drm_pagemap's dev_pagemap_ops, which mm calls for device-private pages. Mirrors drm_pagemap_pagemap_ops. */
export const drmPagemapPagemapOps: DevPagemapOps = {
  pageFree: drmPagemapPageFree,
  migrateToRam: drmPagemapMigrateToRam,
};

/**
 * Evict a whole BO to RAM (TTM eviction of a CPU_ADDR_MIRROR BO).
 * Mirrors drm_pagemap_evict_to_ram() (6.15/6.16: drm_gpusvm_evict_to_ram()) via xe_svm_bo_evict().
 */
export function evictToRam(sim: SimContext, bo: DevmemBo): void {
  // The BO's pages live in its owner's mm: the callbacks zap in the owner's VM.
  const pid = sim.pagemap.boPid[bo];
  if (sim.proc.pid === pid) evictOwnedToRam(sim, bo);
  else inProcessOf(sim, pid, () => evictOwnedToRam(sim, bo));
}

/**
 * The eviction of a BO whose pages are all still resident and whose span lies in at most one
 * range covering it (the usual case: the BO was made for that range): one callback over the span,
 * or none without a range — what the per-run, per-range walk of evictOwnedToRam() does then,
 * without building its lists. False when the BO is not such a case (nothing done).
 */
function evictWholeToRam(sim: SimContext, bo: DevmemBo): boolean {
  const pm = sim.pagemap;
  const npages = pm.boNpages[bo];
  if (pm.boResident[bo] !== npages || sim.debugVm === true) return false;
  const start = pm.boStart[bo];
  const end = start + npages;
  const g = sim.gpusvm;
  if (Math.floor(start / g.notifierPages) !== Math.floor((end - 1) / g.notifierPages)) return false;
  const n = g.notifierFind(start);
  const r = n?.rangeFind(start, end);
  if (r !== undefined) {
    if (r.start > start || r.end < end) return false;
    mmuNotifierInvalidate(sim, 'MIGRATE', start, end, true);
  }
  pm.devmemOps.copyToRam(sim, bo, start, end, npages);
  sim.mm.pt.fill(start, end, PTE_SMEM);
  return true;
}

function evictOwnedToRam(sim: SimContext, bo: DevmemBo): void {
  const pm = sim.pagemap;
  if (evictWholeToRam(sim, bo)) {
    evicted(sim, bo, pm.boNpages[bo]);
    return;
  }
  const boStart = pm.boStart[bo];
  const boEnd = boStart + pm.boNpages[bo];
  const pte = devicePte(pm.boId[bo]);
  const runs = sim.mm.pt.runs(boStart, boEnd).filter((r) => r.pte === pte);
  let pages = 0;
  for (const run of runs) {
    // One callback per device page (try_to_migrate); only the first page of each range finds
    // a valid binding, so one quiet callback per range piece gives the same zaps and counters.
    // With debugVm every page's callback is made, as the kernel prints one INVALIDATE for each.
    if (sim.debugVm === true) {
      for (let p = run.start; p < run.end; p++) mmuNotifierInvalidate(sim, 'MIGRATE', p, p + 1, true);
      continue;
    }
    for (const n of sim.gpusvm.notifiersIn(run.start, run.end)) {
      for (const r of n.rangesIn(run.start, run.end)) {
        mmuNotifierInvalidate(sim, 'MIGRATE', Math.max(run.start, r.start), Math.min(run.end, r.end), true);
      }
    }
  }
  for (const run of runs) pages += run.end - run.start;
  pm.devmemOps.copyToRam(sim, bo, boStart, boEnd, pages);
  for (const run of runs) sim.mm.pt.fill(run.start, run.end, PTE_SMEM);
  evicted(sim, bo, pages);
}

/** Record and account the eviction of `pages` pages of a BO (the copy and the page table done). */
function evicted(sim: SimContext, bo: DevmemBo, pages: number): void {
  if (sim.recording) {
    const pm = sim.pagemap;
    emit(sim, {
      code: 'migrate_to_ram',
      bo: pm.boId[bo],
      start: pm.boStart[bo],
      end: pm.boStart[bo] + pm.boNpages[bo],
      pages,
      cause: 'bo_evict',
    });
  }
  sim.metrics.evictions++;
  noteToRam(sim, bo, pages);
  drmPagemapPageFree(sim, bo, pages);
}
