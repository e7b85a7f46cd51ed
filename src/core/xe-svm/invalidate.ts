/**
 * DOC: xe_svm_invalidate() — the driver's MMU-notifier callback
 *
 * For every range of the notifier overlapping the event span:
 *
 * 1. ranges that are not `unmapped` and have a valid mapping on the tile get their PTEs zapped
 *    (xe_svm_range_notifier_event_begin → xe_pt_zap_ptes_range): `tile_invalidated` is set and,
 *    from 6.18, `svm_tlb_inval_count` is charged once per zapped range on the primary and the
 *    media GT;
 * 2. if anything was zapped, one range-based TLB invalidation covers the union, sent to GT0 and
 *    GT1: `tlb_inval_count` +1 per GT per callback, however many ranges were zapped;
 * 3. every overlapping range drops its DMA mappings (flags cleared) and, for MMU_NOTIFY_UNMAP,
 *    is marked unmapped (partial_unmap when the span does not cover it) and queued for the
 *    garbage collector.
 *
 * Xe does not filter by event type or by owner: its own migrations invalidate too.
 */

import { emit, sendTlbInval, type SimContext } from '../context.js';
import type { NotifierEvent, RangeRef } from '../decisions.js';
import type { GpusvmNotifier } from '../drm-gpusvm/gpusvm.js';
import type { XeSvmRange } from './range.js';
import { rangeSetUnmapped, rangeUnmapPages } from '../drm-gpusvm/range.js';
import { Stat } from '../xe-gt-stats.js';
import { invalidateDebug, rangeDebug } from './debug.js';

/** Mirrors xe_svm_invalidate(). */
export function xeSvmInvalidate(
  sim: SimContext,
  notifier: GpusvmNotifier<XeSvmRange>,
  event: NotifierEvent,
  start: number,
  end: number,
  quiet: boolean,
): void {
  invalidateDebug(sim, notifier.invalidateSeq, event, start, end);
  const s = Math.max(start, notifier.start);
  const e = Math.min(end, notifier.end);
  const ranges = notifier.rangesIn(s, e);
  const n = ranges.length;
  if (n === 0) return;

  const v618 = sim.kv.v618;
  const recording = sim.recording;
  const zapped: RangeRef[] | null = recording ? [] : null;
  let nzapped = 0;
  for (let i = 0; i < n; i++) {
    const r = ranges[i];
    // xe_svm_range_notifier_event_begin(): skip unmapped ranges and ranges never bound.
    rangeDebug(sim, r, 'NOTIFIER');
    if (r.unmapped || !r.tilePresent) continue;
    rangeDebug(sim, r, 'NOTIFIER - EXECUTE');
    // xe_pt_zap_ptes_range() only acts on a valid mapping.
    if (r.tileInvalidated) continue;
    r.tileInvalidated = true;
    nzapped++;
    if (zapped !== null) zapped.push(r.ref());
    if (v618) sim.stats.incrAllGts(Stat.svm_tlb_inval_count);
  }
  const tlbInval = nzapped > 0;
  if (tlbInval) {
    sendTlbInval(sim);
    if (v618) sim.stats.incrAllGts(Stat.svm_tlb_inval_us, sim.cost.tlbInval());
  }

  const unmap = event === 'UNMAP';
  const unmapped: RangeRef[] | null = recording && unmap ? [] : null;
  for (let i = 0; i < n; i++) {
    const r = ranges[i];
    rangeUnmapPages(r);
    if (unmap) {
      const queued = r.unmapped;
      rangeDebug(sim, r, 'GARBAGE COLLECTOR ADD');
      rangeSetUnmapped(r, start, end);
      if (!queued) sim.vm.gcList.push(r); // xe_svm_garbage_collector_add_range()
      if (unmapped !== null) unmapped.push(r.ref());
    }
  }
  if (!recording || (quiet && !tlbInval)) return;
  emit(sim, {
    code: 'invalidate',
    event,
    start: s,
    end: e,
    notifier: notifier.ref(),
    ranges: n,
    zapped: zapped!,
    tlbInval,
    unmapped: unmapped ?? [],
  });
}
