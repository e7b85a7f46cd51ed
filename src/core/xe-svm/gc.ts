/**
 * DOC: SVM garbage collector
 *
 * Ranges unmapped by munmap are queued by the notifier and destroyed by the garbage collector,
 * which runs from a worker and synchronously at the start of every GPU fault
 * (xe_svm_garbage_collector). For each range: unbind its GPU mapping (xe_vm_range_unbind) and
 * remove it (drm_gpusvm_range_remove; the notifier goes with its last range). The GC never
 * moves device pages: after a partial munmap the rest of a VRAM range stays in VRAM, and its BO
 * lives on, until the CPU touches it or it is unmapped.
 *
 * The unbind sends a TLB invalidation always up to 6.16 (unbind_range_prepare() sets
 * needs_invalidation unconditionally: one per GC'd bound range), and from 6.17 (bcc287203ca7)
 * only when the VM has scratch pages or the range still had a valid mapping
 * (xe_pt_op_check_range_skip_invalidation); after an UNMAP notifier the mapping is already
 * invalid, so normally no extra invalidation. Knob `gc_unbind_tlb_inval`.
 *
 * From 6.18 removing a range also resets the GPU VMA's madvise attributes over the range
 * (xe_svm_range_set_default_attr), splitting the VMA when it is larger than the range; any reset
 * makes a running fault handler look its VMA up again (-EAGAIN), which counts the fault twice.
 * 6.18.y (knob `madvise_autoreset_gate`): only VMAs bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET
 * are reset; a mirror VMA bound without it keeps its attributes and never causes -EAGAIN.
 */

import { emit, sendTlbInval, type SimContext } from '../context.js';
import type { XeSvmRange as SvmRange } from './range.js';
import { rangeRemove } from '../drm-gpusvm/range.js';
import { rangeDebug } from './debug.js';
import { DEFAULT_ATTRS, isDefaultAttrs } from './vm.js';

/** Unbind a range's GPU mapping. Mirrors xe_vm_range_unbind(). Returns whether a TLB invalidation was sent. */
export function xeVmRangeUnbind(sim: SimContext, range: SvmRange): boolean {
  if (!range.tilePresent) return false;
  const p = sim.platform;
  const inval = p.gcUnbindTlbInval === 'always' || p.scratchPages || range.valid;
  range.tilePresent = false;
  range.tileInvalidated = false;
  if (inval) sendTlbInval(sim);
  return inval;
}

/**
 * Reset the memory attributes of the GPU VMA over [start, end) to the defaults.
 * Mirrors xe_svm_range_set_default_attr(). Returns true for -EAGAIN, which the kernel returns
 * whenever it changed the VMA (reset in place or split), so that a running fault handler looks
 * its VMA up again.
 */
function rangeSetDefaultAttr(sim: SimContext, start: number, end: number): boolean {
  const vma = sim.vm.findVma(start);
  if (vma === undefined) return false;
  // 6.18.y: only VMAs bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET are reset.
  if (sim.platform.madviseAutoresetGate && !vma.autoreset) return false;
  if (isDefaultAttrs(vma.attrs)) return false;
  if (vma.start === start && vma.end === end) {
    vma.attrs = { ...DEFAULT_ATTRS };
    emit(sim, { code: 'gpuvma_attr_reset', start, end, split: false });
    return true;
  }
  sim.vm.splitAt(start);
  sim.vm.splitAt(end);
  const inner = sim.vm.findVma(start);
  if (inner !== undefined) inner.attrs = { ...DEFAULT_ATTRS };
  emit(sim, { code: 'gpuvma_attr_reset', start, end, split: true });
  return true;
}

/** Process the GC list. Mirrors xe_svm_garbage_collector(). Returns true for -EAGAIN (a VMA was split). */
export function xeSvmGarbageCollector(sim: SimContext): boolean {
  let again = false;
  const list = sim.vm.gcList;
  // Walk by index and truncate at the end: shift() per range would be quadratic for big munmaps.
  for (let i = 0; i < list.length; i++) {
    const range = list[i];
    rangeDebug(sim, range, 'GARBAGE COLLECTOR');
    const unbound = range.tilePresent;
    const tlbInval = xeVmRangeUnbind(sim, range);
    emit(sim, { code: 'gc_range', range: range.ref(), partialUnmap: range.partialUnmap, unbound, tlbInval });
    rangeRemove(sim, range);
    if (sim.kv.v618 && rangeSetDefaultAttr(sim, range.start, range.end)) again = true;
  }
  list.length = 0;
  return again;
}
