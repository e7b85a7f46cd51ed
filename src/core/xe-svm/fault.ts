/**
 * DOC: GPU page faults on the CPU-address-mirror VMA — xe_svm_handle_pagefault()
 *
 * The hardware faults when a PTE is not present or invalidated, or when an atomic hits a PTE
 * without the atomic-enable bit (on DGFX, system-memory SVM PTEs lack it). The handler then runs
 * a retry loop under vm->lock:
 *
 *   retry: run the garbage collector; find or create the range;
 *          valid already (and in VRAM if the fault demands it)? done;
 *          migrate to VRAM if the policy says so and tries remain (a failure retries);
 *          get the pages (mixed → evict the range and retry); bind.
 *
 * Atomic faults on DGFX demand device memory (`devmem_only`, from 6.15): three migration tries,
 * -EACCES when the range cannot migrate at all, and a timeslice that keeps the pages in VRAM
 * after the migration (a literal 5 ms in 6.15/6.16, `atomic_svm_timeslice_ms` from 6.17),
 * doubled after every attempt. get_pages -EPERM/-EFAULT/-EOPNOTSUPP are retried while tries
 * remain or the fault is not devmem_only: without bound for ordinary faults (and for every fault
 * on 6.15-rc1), which the simulator cuts at `livelock_bound` and reports as LIVELOCK.
 * From 6.18, madvise attributes decide: the preferred location gates migration and the atomic
 * attribute decides whether an atomic needs VRAM (xe_vma_need_vram_for_atomic()).
 * 6.18.y (one knob each): the common exit `out` returns 0 (acked without a bind: the GPU replays),
 * the device-private owner is NULL when the VMA prefers system memory, and a devmem_only
 * migration failure with tries left goes straight to get_pages.
 *
 * Statistics follow the kernel's increments exactly: svm_pagefault_count once per handler
 * invocation (≥6.16), the size-bucket counters once per loop iteration (≥6.18), and so on.
 */

import { emit, type SimContext } from '../context.js';
import type { Errno, MigrateReason, NoMigrateReason } from '../decisions.js';
import type { GpuAccess } from '../events.js';
import type { XeSvmRange as SvmRange } from './range.js';
import { rangeEvict, rangeGetPages, type PagesCtx } from '../drm-gpusvm/pages.js';
import { rangeFindOrInsert, type RangeCtx } from '../drm-gpusvm/range.js';
import { ModelInvariantError } from '../invariant.js';
import { bucketOf, Sized, Stat } from '../xe-gt-stats.js';
import { rangeDebug, svmDbg } from './debug.js';
import { xeSvmGarbageCollector } from './gc.js';
import { expectInvalidation } from './invalidate.js';
import { logGetPages, logMigrate, noMigrateDecision, xeSvmAllocVram, xeSvmRangeNeedsMigrateToVram } from './migrate.js';
import type { GpuVma } from './vm.js';

/**
 * Whether a GPU atomic to this VMA needs VRAM: 1 yes, 0 no, -1 never allowed (-EACCES).
 * Mirrors xe_vma_need_vram_for_atomic() (≥6.18); older kernels: atomic on DGFX.
 */
function xeVmaNeedVramForAtomic(sim: SimContext, vma: GpuVma, atomic: boolean): number {
  const p = sim.platform;
  if (sim.kv.rc1) return 0;
  if (!p.dgfx || !atomic) return 0;
  if (!sim.kv.v618) return 1;
  switch (vma.attrs.atomic) {
    case 'device':
      return p.deviceAtomicsOnSmem ? 0 : 1;
    case 'cpu':
      return -1;
    default:
      return 1;
  }
}

/** Valid on the tile, and in VRAM when the fault demands it. Mirrors xe_svm_range_is_valid(). */
function xeSvmRangeIsValid(range: SvmRange, devmemOnly: boolean): boolean {
  return range.valid && (!devmemOnly || range.hasDevmemPages);
}

/**
 * Whether the PTEs of a range get the atomic-enable bit. VRAM: always (6.18: not with atomic
 * attribute CPU). System memory: only with has_device_atomics_on_smem, and then (6.18) always for
 * atomic=device, never for atomic=CPU, otherwise only on iGPU or outside long-running (compute)
 * mode — SVM VMs are fault-mode LR VMs, so on DGFX system-memory SVM PTEs lack the bit and GPU
 * atomics to them fault. `atomic_faults_on_smem_pte` stands for that LR-mode condition.
 * Mirrors xe_atomic_for_vram() / xe_atomic_for_system() in xe_pt.c.
 */
function ptesAtomicEnable(sim: SimContext, range: SvmRange, vma: GpuVma): boolean {
  const p = sim.platform;
  const v618 = sim.kv.v618;
  if (range.hasDevmemPages) return !(v618 && vma.attrs.atomic === 'cpu');
  if (!p.deviceAtomicsOnSmem) return false;
  if (v618 && vma.attrs.atomic === 'cpu') return false;
  if (v618 && vma.attrs.atomic === 'device') return true;
  return !p.dgfx || !p.atomicFaultsOnSmemPte;
}

/**
 * Bind a range's pages into the GPU page table of the tile. SVM binds never send a TLB
 * invalidation. Mirrors xe_vm_range_rebind().
 */
export function xeVmRangeRebind(sim: SimContext, range: SvmRange, vma: GpuVma): void {
  range.tilePresent = true;
  range.tileInvalidated = false;
  range.atomicEnable = ptesAtomicEnable(sim, range, vma);
  if (sim.recording)
    emit(sim, {
      code: 'bind',
      range: range.ref(),
      location: range.hasDevmemPages ? 'vram' : 'smem',
      atomicEnable: range.atomicEnable,
    });
}

/** Why a migration is attempted, from the policy the fault handler applies. */
function migrateReason(sim: SimContext, devmemOnly: boolean): MigrateReason {
  if (sim.kv.rc1) return sim.platform.alwaysMigrateToVram ? 'always_migrate_to_vram' : 'migrate_once';
  if (devmemOnly) return 'devmem_only';
  return sim.kv.v618 ? 'preferred_device' : 'default_policy';
}

/**
 * The drm_gpusvm_ctx of a fault, filled per handler invocation (the callees read it and keep no
 * reference to it: one object serves every fault).
 */
const faultRangeCtx: RangeCtx = { readOnly: false, devmemPossible: false, checkPagesThreshold: 0, ownerNull: false };
const faultPagesCtx: PagesCtx = { readOnly: false, devmemOnly: false, ownerNull: false };

/**
 * The handler proper, one VMA lookup. Mirrors __xe_svm_handle_pagefault().
 */
function handlePagefaultInner(
  sim: SimContext,
  vma: GpuVma,
  needVram: boolean,
  page: number,
  access: GpuAccess,
  seq: number,
): Errno | undefined {
  const p = sim.platform;
  const kv = sim.kv;
  const rc1 = kv.rc1;
  const v618 = kv.v618;
  const gt = sim.stats.primary;
  const devmemPossible = p.dgfx && p.pagemap;
  const devmemOnly = !rc1 && needVram && p.pagemap;
  // 6.15 and 6.16 use a literal 5 ms; the debugfs knob atomic_svm_timeslice_ms exists from 6.17.
  let timesliceMs = devmemOnly ? (kv.v617 ? p.atomicTimesliceMs : 5) : 0;
  let tries = devmemOnly ? 3 : 1;
  // 6.18.y: ctx.device_private_page_owner = NULL when the VMA prefers system (no pagemap) and the
  // fault is not devmem_only (set at every iteration in the kernel; attributes do not change inside).
  const ownerNull = p.prefSystemOwnerNull && !(vma.attrs.preferred === 'device' && p.dgfx) && !devmemOnly;
  const ctx = faultRangeCtx;
  ctx.readOnly = vma.readOnly;
  ctx.devmemPossible = devmemPossible;
  ctx.checkPagesThreshold = devmemPossible ? 16 : 0;
  ctx.ownerNull = ownerNull;

  if (kv.v616) gt.incr(Stat.svm_pagefault_count);
  if (sim.recording) {
    emit(
      sim,
      ownerNull
        ? { code: 'fault', page, access, devmemOnly, timesliceMs, tries, ownerNull }
        : { code: 'fault', page, access, devmemOnly, timesliceMs, tries },
    );
  }

  let us = sim.cost.faultBase();
  let range: SvmRange | undefined;
  // The size bucket of the range's svm_<size>_* counters (≥6.18; -1: none or an older kernel).
  let sb = -1;
  let err: Errno | undefined;

  for (let iter = 0; ; iter++) {
    // The kernel would loop forever (-EPERM/-EFAULT get_pages retries); the simulator stops here.
    if (iter >= p.livelockBound) {
      emit(sim, { code: 'livelock', loop: 'handler_retry', iterations: iter });
      return 'LIVELOCK';
    }
    if (sim.vm.gcList.length > 0 && xeSvmGarbageCollector(sim)) return 'EAGAIN';

    const res = rangeFindOrInsert(sim, page, vma, ctx, seq);
    if (!res.ok) {
      emit(sim, { code: 'range_error', errno: res.errno, reason: res.reason });
      return res.errno;
    }
    range = res.range;
    expectInvalidation(sim, range);
    if (sim.recording) {
      emit(
        sim,
        range.notMigratable === undefined || !res.created
          ? {
              code: 'range',
              range: range.ref(),
              created: res.created,
              rejected: res.rejected,
              migrateDevmem: range.migrateDevmem,
            }
          : {
              code: 'range',
              range: range.ref(),
              created: true,
              rejected: res.rejected,
              migrateDevmem: false,
              notMigratable: range.notMigratable,
            },
      );
    }
    const npages = range.npages;
    sb = v618 ? bucketOf(npages) : -1;
    if (sb >= 0) gt.incr(Sized.pagefault_count + sb);

    if (devmemOnly && !range.migrateDevmem) {
      emit(sim, { code: 'not_migratable_atomic', range: range.ref(), cause: range.notMigratable ?? 'igpu' });
      err = 'EACCES';
      if (!v618) return err;
      break;
    }

    if (xeSvmRangeIsValid(range, devmemOnly)) {
      if (sim.recording) emit(sim, { code: 'range_valid', range: range.ref() });
      rangeDebug(sim, range, 'PAGE FAULT - VALID');
      if (sb >= 0) gt.incr(Sized.valid_pagefault_count + sb);
      break;
    }

    rangeDebug(sim, range, 'PAGE FAULT');
    // Migration policy.
    let noMigrate: NoMigrateReason | undefined;
    let attempt = false;
    if (rc1) {
      noMigrate = range.skipMigrate
        ? 'skip_migrate'
        : !range.migrateDevmem
          ? 'not_migratable'
          : npages < 16
            ? 'below_64k'
            : undefined;
      if (noMigrate === undefined) {
        range.skipMigrate = true;
        attempt = true;
      }
    } else {
      tries--;
      const preferred = v618 ? (vma.attrs.preferred === 'device' && p.dgfx) || devmemOnly : p.dgfx;
      noMigrate = tries < 0 ? 'tries_exhausted' : xeSvmRangeNeedsMigrateToVram(sim, range, preferred);
      attempt = noMigrate === undefined;
    }
    if (attempt) {
      if (sb >= 0) gt.incr(Sized.migrate_count + sb);
      const m = xeSvmAllocVram(sim, range, timesliceMs);
      if (sb >= 0) gt.incr(Sized.migrate_us + sb, m.us);
      us += m.us;
      if (sim.recording) logMigrate(sim, range, m, timesliceMs, migrateReason(sim, devmemOnly));
      if (!rc1) timesliceMs *= 2;
      if (!m.ok) {
        if (!(rc1 || tries > 0 || !devmemOnly)) {
          svmDbg(sim, 'vram_alloc_exceeded', m.errno);
          return m.errno; // directly, also on 6.18.y
        }
        svmDbg(sim, 'vram_alloc_retry', m.errno);
        if (!(devmemOnly && p.devmemOnlyFailToGetPages)) {
          emit(sim, { code: 'retry', reason: 'migrate_failed', timesliceMs });
          continue;
        }
        // 6.18.y: a devmem_only failure with tries left goes straight to get_pages.
        emit(sim, { code: 'migrate_failed_get_pages' });
      }
    } else if (noMigrate !== undefined && sim.recording) {
      emit(sim, noMigrateDecision(range, noMigrate));
    }

    rangeDebug(sim, range, 'GET PAGES');
    const pctx = faultPagesCtx;
    pctx.readOnly = vma.readOnly;
    pctx.devmemOnly = devmemOnly;
    pctx.ownerNull = ownerNull;
    const gp = rangeGetPages(sim, range, pctx);
    const gpUs = gp.ok && gp.fast ? 0 : sim.cost.getPages(npages, gp.faultedIn);
    if (sim.recording) logGetPages(sim, range, gp);
    if (!gp.ok) {
      if (gp.errno === 'EOPNOTSUPP' || gp.errno === 'EFAULT' || gp.errno === 'EPERM') {
        if (gp.errno === 'EOPNOTSUPP') {
          emit(sim, { code: 'range_evict', range: range.ref() });
          rangeDebug(sim, range, 'PAGE FAULT - EVICT PAGES');
          rangeEvict(sim, range);
        }
        if (!rc1) timesliceMs *= 2;
        if (rc1 || tries > 0 || !devmemOnly) {
          svmDbg(sim, 'get_pages_retry', gp.errno);
          rangeDebug(sim, range, 'PAGE FAULT - RETRY PAGES');
          emit(sim, { code: 'retry', reason: 'get_pages_failed', timesliceMs });
          continue;
        }
        svmDbg(sim, 'get_pages_exceeded', gp.errno);
      }
      rangeDebug(sim, range, 'PAGE FAULT - FAIL PAGE COLLECT');
      err = gp.errno;
      us += gpUs;
      break;
    }
    us += gpUs;
    if (sb >= 0) gt.incr(Sized.get_pages_us + sb, gpUs);

    rangeDebug(sim, range, 'PAGE FAULT - BIND');
    xeVmRangeRebind(sim, range, vma);
    // The GPU's replayed access finds this range first (the lookup cache of gpuAccessHits()).
    sim.gpusvm.setLastHit(range);
    const bindUs = sim.cost.bind();
    us += bindUs;
    if (sb >= 0) gt.incr(Sized.bind_us + sb, bindUs);
    if (rc1 && p.alwaysMigrateToVram) range.skipMigrate = false;
    break;
  }
  if (range === undefined) throw new ModelInvariantError('fault loop left without a range');
  // The common exit `out` (≥6.18).
  if (sb >= 0) gt.incr(Sized.pagefault_us + sb, us);
  if (err !== undefined && p.faultExitReturnsZero) {
    // 6.18.y: `out` returns 0: the fault is acked, nothing is bound, the GPU will fault again.
    emit(sim, { code: 'fault_acked_unbound', range: range.ref(), errno: err });
    return undefined;
  }
  return err;
}

/**
 * Handle a GPU page fault on a CPU-address-mirror VMA. Mirrors xe_svm_handle_pagefault()
 * (6.18: the wrapper that computes need_vram and re-looks-up the VMA on -EAGAIN).
 */
function xeSvmHandlePagefault(
  sim: SimContext,
  vma: GpuVma,
  page: number,
  access: GpuAccess,
  seq: number,
): Errno | undefined {
  let cur = vma;
  for (let i = 0; ; i++) {
    if (i >= sim.platform.livelockBound) {
      emit(sim, { code: 'livelock', loop: 'vma_relookup', iterations: i });
      return 'LIVELOCK';
    }
    const needVram = xeVmaNeedVramForAtomic(sim, cur, access === 'atomic');
    if (needVram < 0) {
      emit(sim, { code: 'atomic_cpu_attr' });
      return 'EACCES';
    }
    const err = handlePagefaultInner(sim, cur, needVram > 0, page, access, seq);
    if (err !== 'EAGAIN') return err;
    emit(sim, { code: 'vma_relookup' });
    const next = sim.vm.findVma(page);
    if (next === undefined) return 'EINVAL';
    cur = next;
  }
}

/**
 * Handle a GPU fault report: find the GPU VMA, then the SVM handler.
 * Mirrors handle_pagefault() in xe_gt_pagefault.c for CPU-address-mirror VMAs.
 */
export function handlePagefault(sim: SimContext, page: number, access: GpuAccess, seq: number): Errno | undefined {
  sim.metrics.gpuFaults++;
  const vma = sim.vm.findVma(page);
  let err: Errno | undefined;
  if (vma === undefined) {
    emit(sim, { code: 'no_gpu_vma', page });
    err = 'EINVAL';
  } else {
    err = xeSvmHandlePagefault(sim, vma, page, access, seq);
  }
  if (err !== undefined) sim.metrics.failedFaults++;
  return err;
}

/**
 * Whether the hardware would fault on a GPU access to `page`: no valid mapping, or an atomic
 * to PTEs without atomic enable. Returns the serving range when it would not.
 */
export function gpuAccessHits(sim: SimContext, page: number, access: GpuAccess): SvmRange | undefined {
  // GPU accesses are local: try the range that served the previous one first. A removed range is
  // never valid (the GC and madvise unbind it first), so a stale cache entry cannot hit.
  const gs = sim.gpusvm;
  const last = gs.lastHit;
  const r =
    last !== undefined && gs.lastHitStart <= page && page < gs.lastHitEnd && last.valid ? last : gs.rangeAt(page);
  if (r === undefined || !r.valid || r.unmapped) return undefined;
  if (access === 'atomic' && !r.atomicEnable) return undefined;
  if (r !== last) gs.setLastHit(r);
  return r;
}
