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
import type { Decision, Errno, MigrateFailCause, MigrateReason, NoMigrateReason } from '../decisions.js';
import type { XeSvmRange as SvmRange } from './range.js';
import { evictToRam, migrateToDevmem } from '../drm-pagemap/migrate.js';
import type { GetPagesResult } from '../drm-gpusvm/pages.js';
import { rangeDebug, svmDbg } from './debug.js';

export type AllocVramResult =
  | { ok: true; bo: number; copied: number; us: number }
  | { ok: false; errno: Errno; cause: MigrateFailCause; bo: number; us: number };

/**
 * Make room for and create a BO of `npages` pages. Mirrors xe_bo_create() with TTM eviction
 * (ttm_bo_evict_alloc: LRU order). Returns undefined when VRAM cannot hold it.
 */
function xeBoCreateVram(sim: SimContext, range: SvmRange): { bo?: import('../drm-pagemap/pagemap.js').DevmemBo; us: number } {
  const pm = sim.pagemap;
  let us = 0;
  if (range.npages <= pm.capacityPages) {
    while (pm.freePages < range.npages) {
      const victim = pm.lru();
      if (victim === undefined) break;
      const d: Extract<Decision, { code: 'bo_evict' }> = { code: 'bo_evict', bo: victim.id, start: victim.start, end: victim.start + victim.npages, forRange: range.ref() };
      if (sim.procs.size > 1) d.pid = victim.pid;
      emit(sim, d);
      us += sim.cost.migrate(victim.npages);
      sim.proc.evictionsCaused++;
      evictToRam(sim, victim);
    }
  }
  if (pm.freePages < range.npages) {
    emit(sim, {
      code: 'vram_alloc_failed',
      bytes: BigInt(range.npages) << 12n,
      free: BigInt(pm.freePages) << 12n,
      errno: sim.platform.vramFailErrno,
    });
    return { us: us + sim.cost.allocRetry() };
  }
  const bo = pm.create(range.start, range.npages, sim.proc.pid);
  emit(sim, { code: 'bo_alloc', bo: bo.id, start: range.start, end: range.end, bytes: BigInt(range.npages) << 12n });
  return { bo, us };
}

/**
 * Allocate VRAM for a range and migrate it there. Mirrors xe_svm_alloc_vram()
 * (6.17+: drm_pagemap_populate_mm() → xe_drm_pagemap_populate_mm()).
 */
export function xeSvmAllocVram(sim: SimContext, range: SvmRange, timesliceMs: number): AllocVramResult {
  rangeDebug(sim, range, 'ALLOCATE VRAM');
  const created = xeBoCreateVram(sim, range);
  const base = sim.cost.migrate(range.npages) + created.us;
  if (created.bo === undefined) return { ok: false, errno: sim.platform.vramFailErrno, cause: 'vram_full', bo: 0, us: base };
  const bo = created.bo;
  const res = migrateToDevmem(sim, bo, range.start, range.end, timesliceMs);
  if (!res.ok) {
    sim.pagemap.release(bo);
    emit(sim, { code: 'bo_free', bo: bo.id, start: bo.start, end: bo.start + bo.npages, bytes: BigInt(bo.npages) << 12n, cause: 'migration_failed' });
    return { ok: false, errno: res.errno, cause: res.cause, bo: bo.id, us: base };
  }
  return { ok: true, bo: bo.id, copied: res.copied, us: base + res.copyUs };
}

/** Record a migration attempt with the policy that asked for it and, on failure, the cause. */
export function logMigrate(sim: SimContext, range: SvmRange, m: AllocVramResult, timesliceMs: number, reason: MigrateReason): void {
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
export function xeSvmRangeNeedsMigrateToVram(sim: SimContext, range: SvmRange, preferred: boolean): NoMigrateReason | undefined {
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
