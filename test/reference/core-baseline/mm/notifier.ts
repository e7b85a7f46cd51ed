/**
 * DOC: MMU notifiers
 *
 * mm tells interval notifiers about every change to the CPU page table of a span: munmap
 * (MMU_NOTIFY_UNMAP), madvise(DONTNEED) and copy-on-write (MMU_NOTIFY_CLEAR), mprotect
 * (MMU_NOTIFY_PROTECTION_VMA) and page migration, including SVM's own (MMU_NOTIFY_MIGRATE).
 * Each linked drm_gpusvm notifier whose interval overlaps the span gets one callback.
 */

import type { SimContext } from '../context.js';
import type { NotifierEvent } from '../decisions.js';

/**
 * Deliver one invalidation of [start, end) to every overlapping interval notifier.
 * `quiet` callbacks that zap nothing are not logged (per-page callbacks of BO eviction).
 * Mirrors mmu_notifier_invalidate_range_start().
 */
export function mmuNotifierInvalidate(sim: SimContext, event: NotifierEvent, start: number, end: number, quiet = false): void {
  const ns = sim.gpusvm.notifiersIn(start, end);
  if (ns.length === 0) return;
  const g = sim.gpusvm;
  g.invalidateSeq |= 1; // mn_itree_inv_start_range()
  for (const n of ns) drmGpusvmNotifierInvalidate(sim, n, event, start, end, quiet);
  g.invalidateSeq++; // mn_itree_inv_end()
}

/**
 * One notifier callback: bump the sequence and call the driver's invalidate op.
 * Mirrors drm_gpusvm_notifier_invalidate().
 */
function drmGpusvmNotifierInvalidate(
  sim: SimContext,
  n: import('../drm-gpusvm/gpusvm.js').GpusvmNotifier,
  event: NotifierEvent,
  start: number,
  end: number,
  quiet: boolean,
): void {
  n.invalidateSeq = sim.gpusvm.invalidateSeq; // mmu_interval_set_seq()
  sim.gpusvm.ops.invalidate(sim, n, event, start, end, quiet);
}
