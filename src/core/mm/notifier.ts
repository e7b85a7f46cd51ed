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
 * Deliver one invalidation of [start, end) to every overlapping interval notifier (each gets
 * drm_gpusvm_notifier_invalidate()). `quiet` callbacks that zap nothing are not logged (per-page
 * callbacks of BO eviction). Mirrors mmu_notifier_invalidate_range_start().
 */
export function mmuNotifierInvalidate(
  sim: SimContext,
  event: NotifierEvent,
  start: number,
  end: number,
  quiet = false,
): void {
  const g = sim.gpusvm;
  if (end <= start) return;
  if (Math.floor(start / g.notifierPages) === Math.floor((end - 1) / g.notifierPages)) {
    // One notifier block (the common case): no list.
    const n = g.notifierFind(start);
    if (n === undefined) return;
    g.invalidateSeq |= 1; // mn_itree_inv_start_range()
    g.notifierInvalidate(sim, n, event, start, end, quiet);
    g.invalidateSeq++; // mn_itree_inv_end()
    return;
  }
  const ns = g.notifiersIn(start, end);
  if (ns.length === 0) return;
  g.invalidateSeq |= 1;
  for (const n of ns) g.notifierInvalidate(sim, n, event, start, end, quiet);
  g.invalidateSeq++;
}
