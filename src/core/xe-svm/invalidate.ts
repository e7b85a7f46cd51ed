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

/**
 * One range at the start of a callback: zap its PTEs when it is bound and valid. Returns whether
 * it zapped (the caller sends one TLB invalidation for all). Mirrors
 * xe_svm_range_notifier_event_begin().
 */
function rangeNotifierEventBegin(sim: SimContext, r: XeSvmRange, zapped: RangeRef[] | null): boolean {
  // Skip unmapped ranges and ranges never bound.
  rangeDebug(sim, r, 'NOTIFIER');
  if (r.unmapped || !r.tilePresent) return false;
  rangeDebug(sim, r, 'NOTIFIER - EXECUTE');
  // xe_pt_zap_ptes_range() only acts on a valid mapping.
  if (r.tileInvalidated) return false;
  r.tileInvalidated = true;
  if (zapped !== null) zapped.push(r.ref());
  if (sim.kv.v618) sim.stats.incrAllGts(Stat.svm_tlb_inval_count);
  return true;
}

/**
 * One range at the end of a callback: drop its DMA mappings and, for an UNMAP, mark it unmapped
 * and queue it for the garbage collector. Mirrors xe_svm_range_notifier_event_end().
 */
function rangeNotifierEventEnd(
  sim: SimContext,
  r: XeSvmRange,
  unmap: boolean,
  start: number,
  end: number,
  unmapped: RangeRef[] | null,
): void {
  rangeUnmapPages(r);
  if (!unmap) return;
  const queued = r.unmapped;
  rangeDebug(sim, r, 'GARBAGE COLLECTOR ADD');
  rangeSetUnmapped(r, start, end);
  if (!queued) sim.vm.gcList.push(r); // xe_svm_garbage_collector_add_range()
  if (unmapped !== null) unmapped.push(r.ref());
}

/**
 * The range a callback most likely names, and its start and size as plain numbers (not its `end`,
 * a getter whose sum a call that is not inlined returns boxed): a lookup cache.
 * The fault handler puts its range here (the MIGRATE callback of its move to VRAM names it), and
 * every callback the range it found (the CPU fault that brings it back names it again). Only a
 * linked range is kept — xeSvmRangeFree() drops it when it goes — and a range belongs to one
 * notifier object, so a range of another process or simulator never matches.
 */
const cache = {
  range: undefined as XeSvmRange | undefined,
  /** The range's notifier (ranges of several processes may share addresses). */
  notifier: undefined as GpusvmNotifier<XeSvmRange> | undefined,
  start: 0,
  npages: 0,
};

/** Make `range` the first guess of the next xeSvmInvalidate() (a range the fault handler found). */
export function expectInvalidation(sim: SimContext, range: XeSvmRange): void {
  remember(range, sim.gpusvm.notifierFind(range.start));
}

function remember(range: XeSvmRange, notifier: GpusvmNotifier<XeSvmRange> | undefined): void {
  cache.range = range;
  cache.notifier = notifier;
  cache.start = range.start;
  cache.npages = range.npages;
}

/** Forget `range` in the lookup cache of xeSvmInvalidate() (it is being freed). */
export function forgetInvalidatedRange(range: XeSvmRange): void {
  if (cache.range === range) cache.range = undefined;
}

/**
 * The ranges of a callback that names several (munmap, eviction of a BO spanning ranges): one list
 * for every callback, its entries cleared after use (callbacks do not nest), instead of an array
 * per callback (GpusvmNotifier.rangesInto()).
 */
const RANGES: (XeSvmRange | undefined)[] = [];

/** Mirrors xe_svm_invalidate(). */
export function xeSvmInvalidate(
  sim: SimContext,
  notifier: GpusvmNotifier<XeSvmRange>,
  event: NotifierEvent,
  start: number,
  end: number,
  quiet: boolean,
): void {
  // (Tested here: a call that is not inlined boxes the page numbers it is passed.)
  if (sim.debugVm === true) invalidateDebug(sim, notifier.invalidateSeq, event, start, end);
  const s = Math.max(start, notifier.start);
  const e = Math.min(end, notifier.end);
  // The common case is one range (a migration or a CPU fault of one range): ranges do not
  // overlap, so the first one overlapping [s, e) is the only one when it reaches e. No list then.
  let first = cache.range;
  if (first === undefined || cache.notifier !== notifier || s < cache.start || e > cache.start + cache.npages) {
    first = notifier.rangeFind(s, e);
    if (first === undefined) return;
    remember(first, notifier);
  }
  const ranges = cache.start + cache.npages >= e ? null : RANGES;
  const n = ranges === null ? 1 : notifier.rangesInto(s, e, RANGES);

  const recording = sim.recording;
  const zapped: RangeRef[] | null = recording ? [] : null;
  let tlbInval = false;
  if (ranges === null) tlbInval = rangeNotifierEventBegin(sim, first, zapped);
  else for (let i = 0; i < n; i++) if (rangeNotifierEventBegin(sim, ranges[i]!, zapped)) tlbInval = true;
  // One range-based TLB invalidation covers every zapped range.
  if (tlbInval) {
    sendTlbInval(sim);
    if (sim.kv.v618) sim.stats.incrAllGts(Stat.svm_tlb_inval_us, sim.cost.tlbInval());
  }

  const unmap = event === 'UNMAP';
  const unmapped: RangeRef[] | null = recording && unmap ? [] : null;
  // (Without an UNMAP the end of a callback only drops the DMA mappings: no page numbers passed.)
  if (ranges === null) {
    if (unmap) rangeNotifierEventEnd(sim, first, true, start, end, unmapped);
    else rangeUnmapPages(first);
  } else {
    for (let i = 0; i < n; i++) {
      rangeNotifierEventEnd(sim, ranges[i]!, unmap, start, end, unmapped);
      ranges[i] = undefined; // (keeps no range alive between callbacks)
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
