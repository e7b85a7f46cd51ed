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
 * Copies go through Xe's xe_svm_copy(), whose ≥6.18 statistics count only pages with a source.
 */

import { emit, type SimContext } from '../context.js';
import type { Decision, Errno, MigrateFailCause } from '../decisions.js';
import { mmuNotifierInvalidate } from '../mm/notifier.js';
import { devicePte, isDevicePte, PTE_SMEM, pteBo } from '../mm/page-table.js';
import { kernelAtLeast } from '../platform.js';
import { inProcessOf } from '../processes.js';
import { copyDebug, firstPageWithoutSource, isSmemPte } from '../xe-svm/debug.js';
import type { DevmemBo } from './pagemap.js';

/** Account a VRAM→RAM copy of `copied` pages by a call of `npages` pages. Mirrors xe_svm_copy() stats. */
function statsCopyToRam(sim: SimContext, copied: number, npages: number): void {
  const gt = sim.stats.primary;
  gt.incr('svm_cpu_copy_kb', 4 * copied);
  if (copied === 0) return;
  const t = sim.cost.copy(copied, 'd2h');
  gt.incr('svm_cpu_copy_us', t);
  gt.incrSized(npages, 'cpu_copy_us', t);
  sim.metrics.copyUs += t;
}

/** Account a migration back to RAM in the derived metrics and the thrashing tracker. */
function noteToRam(sim: SimContext, bo: DevmemBo, pages: number): void {
  sim.metrics.migrationsToRam++;
  sim.metrics.pagesToRam += pages;
  sim.thrash.migrated(bo.start, bo.npages, 'ram', pages, sim.seq, sim.clock.now);
}

/** Account a RAM→VRAM copy. Mirrors xe_svm_copy() stats. */
function statsCopyToVram(sim: SimContext, copied: number, npages: number): number {
  const gt = sim.stats.primary;
  gt.incr('svm_device_copy_kb', 4 * copied);
  if (copied === 0) return 0;
  const t = sim.cost.copy(copied, 'h2d');
  gt.incr('svm_device_copy_us', t);
  gt.incrSized(npages, 'device_copy_us', t);
  return t;
}

/** Drop `n` device-page references of a BO; release it at zero. Mirrors drm_pagemap_zdd_put(). */
export function devmemPagesFreed(sim: SimContext, bo: DevmemBo, n: number, cause: Extract<Decision, { code: 'bo_free' }>['cause']): void {
  bo.resident -= n;
  if (bo.resident === 0) {
    sim.pagemap.release(bo);
    emit(sim, { code: 'bo_free', bo: bo.id, start: bo.start, end: bo.start + bo.npages, bytes: BigInt(bo.npages) << 12n, cause });
  }
}

export type MigrateResult = { ok: true; copied: number; copyUs: number } | { ok: false; errno: Errno; cause: MigrateFailCause };

/**
 * Migrate the system pages of [start, end) into `bo`.
 * Mirrors drm_pagemap_migrate_to_devmem() (6.15/6.16: drm_gpusvm_migrate_to_devmem()).
 */
export function migrateToDevmem(sim: SimContext, bo: DevmemBo, start: number, end: number, timesliceMs: number): MigrateResult {
  const vma = sim.mm.vmas.lookup(start);
  if (vma === undefined) return { ok: false, errno: 'ENOENT', cause: 'no_cpu_vma' };
  if (start < vma.start || end > vma.end) return { ok: false, errno: 'EINVAL', cause: 'spans_cpu_vmas' };
  if (vma.kind !== 'anon') return { ok: false, errno: 'EBUSY', cause: 'not_anonymous' };

  // migrate_vma_setup(): the MIGRATE notifier fires before collection is judged.
  mmuNotifierInvalidate(sim, 'MIGRATE', start, end);

  const npages = end - start;
  const sum = sim.mm.pt.summarize(start, end);
  const copied = sum.smem;
  const cpages = npages - sum.device;
  if (cpages === 0) return { ok: false, errno: 'EFAULT', cause: 'all_device_private' };
  if (cpages !== npages) return { ok: false, errno: 'EBUSY', cause: 'partly_device_private' };

  copyDebug(sim, true, start, end, bo.id, bo.start, isSmemPte);
  // migrate_vma_pages(): pages without a source (holes, zero pages) get their device page inserted
  // under a second MMU_NOTIFY_MIGRATE from the first such page to the end (__migrate_device_pages).
  if (copied !== npages) mmuNotifierInvalidate(sim, 'MIGRATE', firstPageWithoutSource(sim.mm.pt, start, end), end, true);

  const copyUs = statsCopyToVram(sim, copied, npages);
  sim.metrics.copyUs += copyUs;
  sim.metrics.migrationsToVram++;
  sim.metrics.pagesToVram += copied;
  sim.thrash.migrated(bo.start, bo.npages, 'vram', npages, sim.seq, sim.clock.now);
  sim.mm.pt.fill(start, end, devicePte(bo.id));
  bo.resident = npages;
  if (kernelAtLeast(sim.platform.kernel, '6.15')) {
    bo.timesliceExpiry = sim.clock.jiffies() + sim.clock.msecsToJiffies(timesliceMs);
  }
  return { ok: true, copied, copyUs };
}

/**
 * Wait until a BO's timeslice has expired: migrate_to_ram returns 0 without migrating (no sleep,
 * no VM_FAULT_RETRY) while jiffies < timeslice_expiration, so the CPU (or the hmm walk's -EBUSY
 * loop) re-faults until the first jiffy tick at or after the expiry. Records the wait.
 */
function waitTimeslice(sim: SimContext, bo: DevmemBo, by: 'cpu' | 'evict' | 'get_pages'): void {
  if (!kernelAtLeast(sim.platform.kernel, '6.15')) return;
  const now = sim.clock.jiffies();
  if (now >= bo.timesliceExpiry) return;
  const from = sim.clock.now;
  const until = sim.clock.jiffiesToNs(bo.timesliceExpiry);
  sim.clock.advanceTo(until);
  emit(sim, { code: 'timeslice_wait', bo: bo.id, start: bo.start, end: bo.start + bo.npages, fromNs: from, untilNs: until, expiryJiffies: bo.timesliceExpiry, by });
}

/**
 * CPU fault on device page `page`: move the whole allocation window back to RAM.
 * Mirrors drm_pagemap_migrate_to_ram() / __drm_pagemap_migrate_to_ram()
 * (6.15/6.16: drm_gpusvm_migrate_to_ram()).
 */
export function migrateToRam(sim: SimContext, page: number, cause: 'cpu_fault' | 'range_evict' | 'get_pages'): void {
  const v = sim.mm.pt.get(page);
  if (!isDevicePte(v)) return;
  const bo = sim.pagemap.get(pteBo(v));
  waitTimeslice(sim, bo, cause === 'cpu_fault' ? 'cpu' : cause === 'range_evict' ? 'evict' : 'get_pages');

  const vma = sim.mm.vmas.lookup(page);
  let start = Math.floor(page / bo.npages) * bo.npages;
  let end = start + bo.npages;
  if (vma !== undefined) {
    start = Math.max(start, vma.start);
    end = Math.min(end, vma.end);
  }
  mmuNotifierInvalidate(sim, 'MIGRATE', start, end);

  copyDebug(sim, false, start, end, bo.id, bo.start, (pte) => pte === v);
  const n = sim.mm.pt.replace(start, end, v, PTE_SMEM);
  emit(sim, { code: 'migrate_to_ram', bo: bo.id, start, end, pages: n, cause });
  statsCopyToRam(sim, n, end - start);
  noteToRam(sim, bo, n);
  devmemPagesFreed(sim, bo, n, 'last_page_gone');
}

/**
 * Evict a whole BO to RAM (TTM eviction of a CPU_ADDR_MIRROR BO).
 * Mirrors drm_pagemap_evict_to_ram() (6.15/6.16: drm_gpusvm_evict_to_ram()) via xe_svm_bo_evict().
 */
export function evictToRam(sim: SimContext, bo: DevmemBo): void {
  // The BO's pages live in its owner's mm: the callbacks zap in the owner's VM.
  inProcessOf(sim, bo.pid, () => evictOwnedToRam(sim, bo));
}

function evictOwnedToRam(sim: SimContext, bo: DevmemBo): void {
  const pte = devicePte(bo.id);
  const runs = sim.mm.pt.runs(bo.start, bo.start + bo.npages).filter((r) => r.pte === pte);
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
  copyDebug(sim, false, bo.start, bo.start + bo.npages, bo.id, bo.start, (v) => v === pte);
  for (const run of runs) {
    sim.mm.pt.fill(run.start, run.end, PTE_SMEM);
    pages += run.end - run.start;
  }
  emit(sim, { code: 'migrate_to_ram', bo: bo.id, start: bo.start, end: bo.start + bo.npages, pages, cause: 'bo_evict' });
  statsCopyToRam(sim, pages, bo.npages);
  sim.metrics.evictions++;
  noteToRam(sim, bo, pages);
  devmemPagesFreed(sim, bo, pages, 'last_page_gone');
}
