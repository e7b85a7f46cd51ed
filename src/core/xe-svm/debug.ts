/**
 * DOC: CONFIG_DRM_XE_DEBUG_VM print points
 *
 * A kernel built with CONFIG_DRM_XE_DEBUG_VM=y turns `vm_dbg()` into `drm_dbg()`; booted with
 * drm.debug=0x2 it prints, on the SVM path, one `range_debug()` line per step of the fault
 * handler, the notifier, the garbage collector and prefetch, one INVALIDATE line per
 * xe_svm_invalidate() call, one COPY line per xe_svm_copy() chunk, and a few drm_dbg / drm_info /
 * drm_err messages. With `SimulatorOptions.debugVm` the model records those print points, where
 * the kernel reaches them, with the values the kernel prints (range flags, notifier seqno); the
 * report layer (src/report/dmesg.ts) decides per kernel version which of them a kernel has and
 * formats them. Without debugVm nothing is recorded and nothing is computed.
 */

import type { SimContext } from '../context.js';
import type { Errno, NotifierEvent, RangeDebugLabel, SvmDbgMessage } from '../decisions.js';
import type { XeSvmRange as SvmRange } from './range.js';

/** XE_MIGRATE_CHUNK_SIZE (SZ_8M) in pages: xe_svm_copy() issues one copy per chunk at most this long. */
const COPY_CHUNK_PAGES = 2048;

/**
 * One range_debug() line: label, [has_devmem_pages, has VRAM binding], notifier_seq.
 * Mirrors range_debug() / xe_svm_range_debug().
 */
export function rangeDebug(sim: SimContext, range: SvmRange, label: RangeDebugLabel): void {
  if (sim.debugVm !== true) return;
  const inVram = range.hasDevmemPages ? 1 : 0;
  sim.log.push({
    code: 'range_debug',
    label,
    range: range.ref(),
    // xe_svm_range_has_vram_binding(): in VRAM and tile_present.
    vram: [inVram, inVram === 1 && range.tilePresent ? 1 : 0],
    seqno: range.notifierSeq,
  });
}

/** The INVALIDATE line at the top of xe_svm_invalidate(). Mirrors the vm_dbg() in xe_svm_invalidate(). */
export function invalidateDebug(
  sim: SimContext,
  seqno: number,
  event: NotifierEvent,
  start: number,
  end: number,
): void {
  if (sim.debugVm === true) sim.log.push({ code: 'invalidate_debug', event, start, end, seqno });
}

/** A drm_dbg / drm_info / drm_err message of the SVM path. */
export function svmDbg(sim: SimContext, msg: SvmDbgMessage, errno?: Errno): void {
  if (sim.debugVm !== true) return;
  sim.log.push(errno === undefined ? { code: 'svm_dbg', msg } : { code: 'svm_dbg', msg, errno });
}

/**
 * The COPY TO VRAM / COPY TO SRAM lines of one migration of [start, end) into or out of BO `bo`
 * (whose first page maps `boStart`): xe_svm_copy() issues one copy per run of pages that have a
 * source page (holes and zero pages have none), split at XE_MIGRATE_CHUNK_SIZE; the BO is
 * physically contiguous. The pages whose PTE is `sourcePte` are copied (PTE_SMEM to VRAM, the
 * BO's device PTE to RAM). Call before the page table changes. Mirrors the vm_dbg() calls in
 * xe_svm_copy().
 */
export function copyDebug(
  sim: SimContext,
  toVram: boolean,
  start: number,
  end: number,
  bo: number,
  boStart: number,
  sourcePte: number,
): void {
  if (sim.debugVm !== true) return;
  for (const run of sim.mm.pt.runs(start, end)) {
    if (run.pte !== sourcePte) continue;
    for (let p = run.start; p < run.end; p += COPY_CHUNK_PAGES) {
      const n = Math.min(COPY_CHUNK_PAGES, run.end - p);
      sim.log.push({ code: 'copy_debug', toVram, page: p, bo, boPage: p - boStart, npages: n });
    }
  }
}
