/**
 * DOC: Xe VRAM allocation for SVM and migration policy
 *
 * xe_svm_alloc_vram() creates one TTM VRAM BO sized like the range and migrates the range into
 * it (6.17+: through drm_pagemap_populate_mm → xe_drm_pagemap_populate_mm). When VRAM is full,
 * TTM evicts other BOs in LRU order first (an evicted SVM BO goes back to RAM through
 * xe_svm_bo_evict → drm_pagemap_evict_to_ram); if the BO still does not fit, the allocation
 * fails after the 1 s xe_vm_validate_should_retry() window.
 *
 * xe_svm_range_needs_migrate_to_vram() is the policy: only ranges that may hold device pages
 * (migrate_devmem), whose preferred location is VRAM, that are not in VRAM already, and not
 * smaller than 64K on NEED64K platforms.
 */

import { emit, type SimContext } from '../context.js';
import type { Decision, MigrateReason, NoMigrateReason } from '../decisions.js';
import type { XeSvmRange as SvmRange } from './range.js';
import { drmPagemapPopulateMm, evictToRam, migrateToDevmem } from '../drm-pagemap/migrate.js';
import {
  type DevmemBo,
  type DrmPagemapDevmemOps,
  type DrmPagemapOps,
  NO_BO,
  type PopulateResult,
} from '../drm-pagemap/pagemap.js';
import type { GetPagesResult } from '../drm-gpusvm/pages.js';
import { devicePte, PTE_SMEM } from '../mm/page-table.js';
import { Sized, Stat } from '../xe-gt-stats.js';
import { copyDebug, rangeDebug, svmDbg } from './debug.js';

/** The result of an allocation + migration attempt (one object, refilled by every attempt). */
export type AllocVramResult = PopulateResult;
const result: PopulateResult = { ok: false, bo: 0, copied: 0, us: 0, errno: undefined, cause: undefined };

/**
 * Make room for and create a BO of [start, end). Mirrors xe_bo_create() with TTM eviction
 * (ttm_bo_evict_alloc: LRU order). Returns NO_BO when VRAM cannot hold it; `result.us` gets the
 * time spent evicting (and retrying).
 */
function xeBoCreateVram(sim: SimContext, start: number, end: number): DevmemBo {
  const pm = sim.pagemap;
  const npages = end - start;
  let us = 0;
  if (npages <= pm.capacityPages) {
    while (pm.freePages < npages) {
      const victim = pm.lru();
      if (victim === NO_BO) break;
      if (sim.recording) {
        const d: Extract<Decision, { code: 'bo_evict' }> = {
          code: 'bo_evict',
          bo: pm.boId[victim],
          start: pm.boStart[victim],
          end: pm.boStart[victim] + pm.boNpages[victim],
          forRange: { start, end },
        };
        if (sim.procs.size > 1) d.pid = pm.boPid[victim];
        emit(sim, d);
      }
      us += sim.cost.migrate(pm.boNpages[victim]);
      sim.proc.evictionsCaused++;
      evictToRam(sim, victim); // xe_svm_bo_evict() → drm_pagemap_evict_to_ram()
    }
  }
  if (pm.freePages < npages) {
    if (sim.recording) {
      emit(sim, {
        code: 'vram_alloc_failed',
        bytes: BigInt(npages) << 12n,
        free: BigInt(pm.freePages) << 12n,
        errno: sim.platform.vramFailErrno,
      });
    }
    result.us = us + sim.cost.allocRetry();
    return NO_BO;
  }
  const bo = pm.create(start, npages, sim.proc.pid);
  if (sim.recording) emit(sim, { code: 'bo_alloc', bo: pm.boId[bo], start, end, bytes: BigInt(npages) << 12n });
  result.us = us;
  return bo;
}

/**
 * Create a VRAM BO for [start, end) and migrate the range into it.
 * Mirrors xe_drm_pagemap_populate_mm() (drm_pagemap_ops.populate_mm; 6.15/6.16: the body of
 * xe_svm_alloc_vram()).
 */
function xeDrmPagemapPopulateMm(sim: SimContext, start: number, end: number, timesliceMs: number): PopulateResult {
  const r = result;
  r.copied = 0;
  r.errno = undefined;
  r.cause = undefined;
  const bo = xeBoCreateVram(sim, start, end);
  const base = sim.cost.migrate(end - start) + r.us;
  if (bo === NO_BO) {
    r.ok = false;
    r.errno = sim.platform.vramFailErrno;
    r.cause = 'vram_full';
    r.bo = 0;
    r.us = base;
    return r;
  }
  const res = migrateToDevmem(sim, bo, start, end, timesliceMs);
  r.bo = sim.pagemap.boId[bo];
  if (!res.ok) {
    xeBoPut(sim, bo, 'migration_failed');
    r.ok = false;
    r.errno = res.errno!;
    r.cause = res.cause!;
    r.us = base;
    return r;
  }
  r.ok = true;
  r.copied = res.copied;
  r.us = base + res.copyUs;
  return r;
}

/** Xe's drm_pagemap_ops. Mirrors xe_drm_pagemap_ops. */
export const xeDrmPagemapOps: DrmPagemapOps = { populateMm: xeDrmPagemapPopulateMm };

/**
 * Allocate VRAM for a range and migrate it there (the result is reused: read it before the next
 * attempt). Mirrors xe_svm_alloc_vram() (6.17+: drm_pagemap_populate_mm() →
 * xe_drm_pagemap_populate_mm()).
 */
export function xeSvmAllocVram(sim: SimContext, range: SvmRange, timesliceMs: number): AllocVramResult {
  rangeDebug(sim, range, 'ALLOCATE VRAM');
  return sim.kv.v617
    ? drmPagemapPopulateMm(sim, range.start, range.end, timesliceMs)
    : xeDrmPagemapPopulateMm(sim, range.start, range.end, timesliceMs);
}

/** The BO's device pages (one BO = one contiguous run of device pfns). Mirrors xe_svm_populate_devmem_pfn(). */
function xeSvmPopulateDevmemPfn(sim: SimContext, bo: DevmemBo): number {
  return devicePte(sim.pagemap.boId[bo]);
}

/** RAM→VRAM copy of `copied` pages of [start, end). Mirrors xe_svm_copy_to_devmem() (xe_svm_copy() and its ≥6.18 stats). */
function xeSvmCopyToDevmem(sim: SimContext, bo: DevmemBo, start: number, end: number, copied: number): number {
  if (sim.debugVm === true) {
    const pm = sim.pagemap;
    copyDebug(sim, true, start, end, pm.boId[bo], pm.boStart[bo], PTE_SMEM);
  }
  const gt = sim.stats.primary;
  gt.incr(Stat.svm_device_copy_kb, 4 * copied);
  if (copied === 0) return 0;
  const t = sim.cost.copy(copied, 'h2d');
  gt.incr(Stat.svm_device_copy_us, t);
  gt.incrSized(end - start, Sized.device_copy_us, t);
  sim.metrics.copyUs += t;
  return t;
}

/** VRAM→RAM copy of the `copied` pages of `bo` in [start, end). Mirrors xe_svm_copy_to_ram() (xe_svm_copy() and its ≥6.18 stats). */
function xeSvmCopyToRam(sim: SimContext, bo: DevmemBo, start: number, end: number, copied: number): void {
  if (sim.debugVm === true) {
    const pm = sim.pagemap;
    copyDebug(sim, false, start, end, pm.boId[bo], pm.boStart[bo], devicePte(pm.boId[bo]));
  }
  const gt = sim.stats.primary;
  gt.incr(Stat.svm_cpu_copy_kb, 4 * copied);
  if (copied === 0) return;
  const t = sim.cost.copy(copied, 'd2h');
  gt.incr(Stat.svm_cpu_copy_us, t);
  gt.incrSized(end - start, Sized.cpu_copy_us, t);
  sim.metrics.copyUs += t;
}

/** The allocation's last device page is gone: its BO goes. Mirrors xe_svm_devmem_release() (xe_bo_put_async()). */
function xeSvmDevmemRelease(sim: SimContext, bo: DevmemBo): void {
  xeBoPut(sim, bo, 'last_page_gone');
}

/** Free a VRAM BO and record why. Mirrors xe_bo_put(). */
function xeBoPut(sim: SimContext, bo: DevmemBo, cause: 'migration_failed' | 'last_page_gone'): void {
  const pm = sim.pagemap;
  if (sim.recording)
    emit(sim, {
      code: 'bo_free',
      bo: pm.boId[bo],
      start: pm.boStart[bo],
      end: pm.boStart[bo] + pm.boNpages[bo],
      bytes: BigInt(pm.boNpages[bo]) << 12n,
      cause,
    });
  pm.release(bo);
}

/** Xe's callbacks for its SVM allocations. Mirrors xe_svm_devmem_ops. */
export const xeSvmDevmemOps: DrmPagemapDevmemOps = {
  devmemRelease: xeSvmDevmemRelease,
  populateDevmemPfn: xeSvmPopulateDevmemPfn,
  copyToDevmem: xeSvmCopyToDevmem,
  copyToRam: xeSvmCopyToRam,
};

/** Record a migration attempt with the policy that asked for it and, on failure, the cause. */
export function logMigrate(
  sim: SimContext,
  range: SvmRange,
  m: AllocVramResult,
  timesliceMs: number,
  reason: MigrateReason,
): void {
  if (!sim.recording) return;
  emit(sim, {
    code: 'migrate_to_vram',
    range: range.ref(),
    bo: m.bo,
    ok: m.ok,
    errno: m.ok ? undefined : m.errno,
    copiedPages: m.ok ? m.copied : 0,
    timesliceMs,
    reason,
    cause: m.ok ? undefined : m.cause,
  });
}

/** Record a get_pages result. */
export function logGetPages(sim: SimContext, range: SvmRange, gp: GetPagesResult): void {
  if (!sim.recording) return;
  emit(sim, {
    code: 'get_pages',
    range: range.ref(),
    ok: gp.ok,
    errno: gp.ok ? undefined : gp.errno,
    cause: gp.ok ? undefined : gp.cause,
    location: gp.ok ? gp.location : undefined,
    faultedIn: gp.faultedIn,
  });
}

/**
 * Why a range should not migrate to VRAM, or undefined when it should.
 * Mirrors xe_svm_range_needs_migrate_to_vram().
 */
export function xeSvmRangeNeedsMigrateToVram(
  sim: SimContext,
  range: SvmRange,
  preferred: boolean,
): NoMigrateReason | undefined {
  if (!range.migrateDevmem) return 'not_migratable';
  if (!preferred) return 'not_preferred';
  if (range.hasDevmemPages) {
    svmDbg(sim, 'range_in_vram');
    return 'has_devmem_pages';
  }
  const p = sim.platform;
  if (p.need64k && (p.need64kRule === 'lt' ? range.npages < 16 : range.npages <= 16)) {
    svmDbg(sim, 'no_4k_migration');
    return 'need64k';
  }
  return undefined;
}

/** The no_migrate record, with the root cause when the range cannot hold device pages. */
export function noMigrateDecision(range: SvmRange, reason: NoMigrateReason): Decision {
  return reason === 'not_migratable'
    ? { code: 'no_migrate', range: range.ref(), reason, cause: range.notMigratable ?? 'igpu' }
    : { code: 'no_migrate', range: range.ref(), reason };
}
