/**
 * DOC: Xe ioctls on SVM — VM_BIND prefetch (≥6.16) and madvise (≥6.18)
 *
 * Prefetch (DRM_XE_VM_BIND_OP_PREFETCH on a CPU-address-mirror VMA): ranges are created over
 * the span without the check_pages threshold (so unpopulated memory still gets 64K and 2M
 * ranges), holes in the CPU mappings are skipped to the next CPU VMA (xe_svm_find_vma_start),
 * ranges already bound in the requested place are skipped (xe_svm_range_validate), and the rest
 * are migrated (region VRAM) or pulled back (region SMEM), faulted in and bound. A failed VRAM
 * allocation or get_pages fails the ioctl with -ENODATA ("retry from userspace"). No fault
 * counters move.
 *
 * Madvise (DRM_IOCTL_XE_MADVISE): the mirror VMA is split at the span's ends; ranges straddling a
 * new boundary are evicted to RAM if they hold VRAM and then unbound and removed; the attribute
 * is applied, and only if it changed are the VMA's valid ranges zapped, with one TLB
 * invalidation for the span (no svm_tlb_inval_count). Pages are not migrated by madvise.
 */

import { emit, sendTlbInval, type SimContext } from '../context.js';
import type { Errno, RangeRef } from '../decisions.js';
import type { AtomicAttr, PreferredLoc, PrefetchRegion } from '../events.js';
import type { XeSvmRange as SvmRange } from './range.js';
import { rangeEvict, rangeGetPages } from '../drm-gpusvm/pages.js';
import { rangeFindOrInsert, rangeRemove } from '../drm-gpusvm/range.js';
import { rangeDebug, svmDbg } from './debug.js';
import { xeVmRangeRebind } from './fault.js';
import { xeVmRangeUnbind } from './gc.js';
import { logGetPages, logMigrate, noMigrateDecision, xeSvmAllocVram, xeSvmRangeNeedsMigrateToVram } from './migrate.js';
import type { GpuVma } from './vm.js';

/** Ranges already bound where the prefetch wants them. Mirrors xe_svm_range_validate(). */
function xeSvmRangeValidate(range: SvmRange, devmemPreferred: boolean): boolean {
  return range.valid && range.hasDevmemPages === devmemPreferred;
}

/** Collect the ranges of one GPU VMA's part of the span. Mirrors vm_bind_ioctl_ops_create() for prefetch. */
function prefetchCollect(
  sim: SimContext,
  vma: GpuVma,
  start: number,
  end: number,
  devmemPreferred: boolean,
  seq: number,
): SvmRange[] | Errno {
  const p = sim.platform;
  const ctx = { readOnly: vma.readOnly, devmemPossible: p.dgfx && p.pagemap, checkPagesThreshold: 0 };
  const out: SvmRange[] = [];
  let skipped = 0;
  let addr = Math.max(start, vma.start);
  const lim = Math.min(end, vma.end);
  while (addr < lim) {
    const res = rangeFindOrInsert(sim, addr, vma, ctx, seq);
    if (!res.ok) {
      if (res.errno !== 'ENOENT') {
        emit(sim, { code: 'range_error', errno: res.errno, reason: res.reason });
        return res.errno;
      }
      const next = sim.mm.vmas.nextStart(addr, lim);
      emit(sim, { code: 'prefetch_hole', page: addr, next });
      if (next === null) break;
      addr = next;
      continue;
    }
    if (xeSvmRangeValidate(res.range, devmemPreferred)) {
      skipped++;
      rangeDebug(sim, res.range, 'PREFETCH - RANGE IS VALID');
    } else {
      out.push(res.range);
      rangeDebug(sim, res.range, 'PREFETCH - RANGE CREATED');
    }
    addr = res.range.end;
  }
  emit(sim, { code: 'prefetch_collect', ranges: out.map((r) => r.ref()), skipped });
  return out;
}

/** Migrate, fault in and bind one collected range. Mirrors prefetch_ranges(). */
function prefetchRange(sim: SimContext, vma: GpuVma, range: SvmRange, devmemPreferred: boolean): Errno | undefined {
  if (!devmemPreferred) {
    // xe_svm_range_migrate_to_smem(): only when the range knows it has device pages.
    if (range.hasDevmemPages) {
      emit(sim, { code: 'range_evict', range: range.ref() });
      rangeEvict(sim, range);
    }
  } else {
    const reason = xeSvmRangeNeedsMigrateToVram(sim, range, true);
    if (reason === undefined) {
      const m = xeSvmAllocVram(sim, range, 0);
      logMigrate(sim, range, m, 0, 'prefetch');
      if (!m.ok) {
        svmDbg(sim, 'prefetch_vram_failed', m.errno);
        return 'ENODATA';
      }
      rangeDebug(sim, range, 'PREFETCH - RANGE MIGRATED TO VRAM');
    } else {
      emit(sim, noMigrateDecision(range, reason));
    }
  }
  const gp = rangeGetPages(sim, range, { readOnly: vma.readOnly, devmemOnly: false });
  logGetPages(sim, range, gp);
  if (!gp.ok) {
    if (gp.errno === 'EOPNOTSUPP') {
      emit(sim, { code: 'range_evict', range: range.ref() });
      rangeDebug(sim, range, 'PAGE FAULT - EVICT PAGES');
      rangeEvict(sim, range);
    }
    svmDbg(sim, 'prefetch_get_pages_failed', gp.errno);
    return gp.errno === 'EOPNOTSUPP' || gp.errno === 'EFAULT' || gp.errno === 'EPERM' ? 'ENODATA' : gp.errno;
  }
  rangeDebug(sim, range, 'PREFETCH - RANGE GET PAGES DONE');
  xeVmRangeRebind(sim, range, vma);
  return undefined;
}

/** DRM_XE_VM_BIND_OP_PREFETCH over [start, end) of the mirror VMA(s). */
export function xeVmPrefetch(
  sim: SimContext,
  start: number,
  end: number,
  region: PrefetchRegion,
  seq: number,
): Errno | undefined {
  const vmas = sim.vm.vmasIn(start, end);
  if (vmas.length === 0) return 'EINVAL';
  for (const vma of vmas) {
    const devmemPreferred =
      sim.platform.dgfx && (region === 'vram' || (region === 'advised' && vma.attrs.preferred === 'device'));
    const ranges = prefetchCollect(sim, vma, start, end, devmemPreferred, seq);
    if (typeof ranges === 'string') return ranges;
    for (const r of ranges) {
      const err = prefetchRange(sim, vma, r, devmemPreferred);
      if (err !== undefined) return err;
    }
  }
  return undefined;
}

/** Remove ranges straddling `b` before the VMA is split there. Mirrors xe_svm_unmap_address_range(). */
function unmapStraddling(sim: SimContext, b: number): void {
  const r = sim.gpusvm.rangeAt(b);
  if (r === undefined || r.start >= b) return;
  const evicted = sim.platform.dgfx && r.hasDevmemPages;
  if (evicted) rangeEvict(sim, r);
  rangeDebug(sim, r, 'GARBAGE COLLECTOR'); // __xe_svm_garbage_collector()
  const tlbInval = xeVmRangeUnbind(sim, r);
  emit(sim, { code: 'madvise_range_remove', range: r.ref(), evicted, tlbInval });
  rangeRemove(sim, r);
}

export type MadviseAttr = { preferred: PreferredLoc } | { atomic: AtomicAttr };

/** DRM_IOCTL_XE_MADVISE over [start, end). Mirrors xe_vm_madvise_ioctl(). */
export function xeVmMadvise(sim: SimContext, start: number, end: number, attr: MadviseAttr): Errno | undefined {
  if (sim.vm.vmasIn(start, end).length === 0) return 'EINVAL';
  for (const b of [start, end]) {
    const v = sim.vm.findVma(b);
    if (v !== undefined && v.start < b) {
      unmapStraddling(sim, b);
      sim.vm.splitAt(b);
      emit(sim, { code: 'madvise_split', at: b });
    }
  }
  let changed = false;
  for (const v of sim.vm.vmasIn(start, end)) {
    if ('preferred' in attr) {
      if (v.attrs.preferred === attr.preferred) continue;
      emit(sim, {
        code: 'madvise_attr',
        start: v.start,
        end: v.end,
        attr: 'preferred',
        from: v.attrs.preferred,
        to: attr.preferred,
      });
      v.attrs.preferred = attr.preferred;
    } else {
      if (v.attrs.atomic === attr.atomic) continue;
      emit(sim, {
        code: 'madvise_attr',
        start: v.start,
        end: v.end,
        attr: 'atomic',
        from: v.attrs.atomic,
        to: attr.atomic,
      });
      v.attrs.atomic = attr.atomic;
    }
    changed = true;
  }
  if (!changed) return undefined;
  // xe_vm_invalidate_madvise_range(): zap every valid range in the span, one TLB invalidation.
  const zapped: RangeRef[] = [];
  for (const n of sim.gpusvm.notifiersIn(start, end)) {
    for (const r of n.rangesIn(start, end)) {
      if (r.valid) {
        r.tileInvalidated = true;
        zapped.push(r.ref());
      }
    }
  }
  const tlbInval = zapped.length > 0;
  if (tlbInval) sendTlbInval(sim);
  emit(sim, { code: 'madvise_zap', zapped, tlbInval });
  return undefined;
}
