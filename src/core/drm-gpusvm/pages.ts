/**
 * DOC: Range pages — drm_gpusvm_range_get_pages() and drm_gpusvm_range_evict()
 *
 * get_pages faults the whole range in through hmm_range_fault() (REQ_FAULT, plus REQ_WRITE
 * unless the mirror VMA is read-only) with Xe as device-private owner, so Xe's own VRAM pages
 * come back as they are. The result must be uniform: all pages in one BO's VRAM
 * (has_devmem_pages) or all in system memory (has_dma_mapping). A device page from another BO,
 * or a system page after a device page, is -EOPNOTSUPP ("mixed"); a system page while the
 * fault demands device memory (devmem_only) is -EFAULT; an unmapped range is -EFAULT.
 *
 * range_evict faults the range with owner NULL, pulling every device page back to RAM through
 * the pagemap's migrate_to_ram (subject to the timeslice).
 */

import type { SimContext } from '../context.js';
import type { Errno, GetPagesFailCause, Location } from '../decisions.js';
import { type FaultCounts, type FaultOpts, faultSpan } from '../mm/fault.js';
import { isDevicePte, pteBo, pteSummary } from '../mm/page-table.js';
import type { SvmRange } from './gpusvm.js';

export interface PagesCtx {
  readOnly: boolean;
  devmemOnly: boolean;
  /** 6.18.y: device-private owner NULL (VMA prefers system): our VRAM pages are pulled back first. */
  ownerNull?: boolean;
}

export type GetPagesResult =
  | { ok: true; location: Location; faultedIn: number; fast: boolean }
  | { ok: false; errno: Errno; cause: GetPagesFailCause; faultedIn: number };

/** faultSpan() options of hmm_range_fault(), by (write, owner NULL): built once. */
const HMM_OPTS: readonly FaultOpts[] = [
  { write: false, migrateDevice: false, cowNotifier: false },
  { write: true, migrateDevice: false, cowNotifier: false },
  { write: false, migrateDevice: 'get_pages', cowNotifier: false },
  { write: true, migrateDevice: 'get_pages', cowNotifier: false },
];
/** Scratch summary of rangeGetPages() and rangeLocation() (read before any other call). */
const SUM = pteSummary();
const EVICT_OPTS: FaultOpts = { write: false, migrateDevice: 'range_evict', cowNotifier: false };

/** Where hmmRangeFault() stopped: its errno and cause (errno undefined: the whole span). Scratch, read at once. */
const HMM_STOP: { errno: Errno | undefined; cause: GetPagesFailCause | undefined } = {
  errno: undefined,
  cause: undefined,
};
/** hmmRangeFault()'s page counts (one scratch: the walk does not nest). */
const HMM_COUNTS: FaultCounts = { pages: 0, zeroPages: 0, cowPages: 0 };

/** Stop hmmRangeFault() with `errno`; returns the pages faulted in so far. */
function hmmStop(errno: Errno, cause: GetPagesFailCause, c: FaultCounts): number {
  HMM_STOP.errno = errno;
  HMM_STOP.cause = cause;
  return c.pages + c.zeroPages + c.cowPages;
}

/**
 * hmm_range_fault() over [start, end) with REQ_FAULT (and REQ_WRITE unless read-only): returns
 * the pages faulted in; the errno that stops the walk (-EFAULT for a page without a readable
 * VMA, -EPERM for a write to a VMA without VM_WRITE) is left in HMM_STOP. With Xe as
 * device-private owner our device pages are returned as they are; with a NULL owner they go
 * through migrate_to_ram first.
 */
function hmmRangeFault(sim: SimContext, start: number, end: number, write: boolean, ownerNull: boolean): number {
  const c = HMM_COUNTS;
  c.pages = c.zeroPages = c.cowPages = 0;
  HMM_STOP.errno = undefined;
  const o = HMM_OPTS[(write ? 1 : 0) + (ownerNull ? 2 : 0)];
  let p = start;
  while (p < end) {
    const vma = sim.mm.vmas.lookup(p);
    if (vma === undefined) return hmmStop('EFAULT', 'no_cpu_vma', c);
    if (vma.prot === 'none') return hmmStop('EFAULT', 'prot_none', c);
    if (write && vma.prot !== 'rw') return hmmStop('EPERM', 'read_only', c);
    // biome-ignore lint/complexity/useMathMinMax: selects one of the two heap numbers; Math.min boxes a new one for the call
    const e = vma.end < end ? vma.end : end;
    faultSpan(sim, vma, p, e, o, c);
    p = e;
  }
  return c.pages + c.zeroPages + c.cowPages;
}

/** The results of the fast path (pages already mapped): shared, never modified. */
const FAST_VRAM: GetPagesResult = Object.freeze({ ok: true, location: 'vram', faultedIn: 0, fast: true });
const FAST_SMEM: GetPagesResult = Object.freeze({ ok: true, location: 'smem', faultedIn: 0, fast: true });
/** The results of a walk that faulted nothing in (the usual case after a migration): shared too. */
const MAPPED_VRAM: GetPagesResult = Object.freeze({ ok: true, location: 'vram', faultedIn: 0, fast: false });
const MAPPED_SMEM: GetPagesResult = Object.freeze({ ok: true, location: 'smem', faultedIn: 0, fast: false });

/**
 * The sequence number of the range's notifier (linked while the range is), read under the
 * notifier lock when get_pages succeeds. Mirrors mmu_interval_read_begin().
 */
function notifierSeq(sim: SimContext, range: SvmRange): number {
  return sim.gpusvm.notifierFind(range.start)?.invalidateSeq ?? -1;
}

/**
 * Fault in and DMA-map the pages of a range. Mirrors drm_gpusvm_range_get_pages().
 */
export function rangeGetPages(sim: SimContext, range: SvmRange, ctx: PagesCtx): GetPagesResult {
  if (range.hasDevmemPages || range.hasDmaMapping) {
    range.notifierSeq = notifierSeq(sim, range);
    return range.hasDevmemPages ? FAST_VRAM : FAST_SMEM;
  }
  const faultedIn = hmmRangeFault(sim, range.start, range.end, !ctx.readOnly, ctx.ownerNull === true);
  if (HMM_STOP.errno !== undefined) return { ok: false, errno: HMM_STOP.errno, cause: HMM_STOP.cause!, faultedIn };
  if (range.unmapped) return { ok: false, errno: 'EFAULT', cause: 'unmapped', faultedIn };

  // The page walk in address order: a device page of another allocation, or a system page
  // after a device page, is "mixed" (-EOPNOTSUPP); a system page under devmem_only is -EFAULT.
  const first = sim.mm.pt.get(range.start);
  const sum = sim.mm.pt.summarize(range.start, range.end, SUM);
  if (isDevicePte(first)) {
    if (sum.device !== range.npages) return { ok: false, errno: 'EOPNOTSUPP', cause: 'mixed_placement', faultedIn };
    if (sum.deviceBo < 0) return { ok: false, errno: 'EOPNOTSUPP', cause: 'mixed_bo', faultedIn };
    range.hasDmaMapping = true;
    range.hasDevmemPages = true;
    range.devmemBo = pteBo(first);
    range.notifierSeq = notifierSeq(sim, range);
    return faultedIn === 0 ? MAPPED_VRAM : { ok: true, location: 'vram', faultedIn, fast: false };
  }
  if (ctx.devmemOnly) return { ok: false, errno: 'EFAULT', cause: 'smem_devmem_only', faultedIn };
  if (sum.device > 0) return { ok: false, errno: 'EOPNOTSUPP', cause: 'mixed_placement', faultedIn };
  range.hasDmaMapping = true;
  range.notifierSeq = notifierSeq(sim, range);
  return faultedIn === 0 ? MAPPED_SMEM : { ok: true, location: 'smem', faultedIn, fast: false };
}

/**
 * Pull every device page of a range back to RAM: hmm_range_fault with REQ_FAULT and no
 * device owner, so device pages go through migrate_to_ram. Mirrors drm_gpusvm_range_evict().
 */
export function rangeEvict(sim: SimContext, range: SvmRange): void {
  let p = range.start;
  while (p < range.end) {
    const vma = sim.mm.vmas.lookup(p);
    if (vma === undefined || vma.prot === 'none') return;
    // biome-ignore lint/complexity/useMathMinMax: selects one of the two heap numbers; Math.min boxes a new one for the call
    const e = vma.end < range.end ? vma.end : range.end;
    faultSpan(sim, vma, p, e, EVICT_OPTS);
    p = e;
  }
}

/** Where a range's pages are now, from the CPU page table. */
export function rangeLocation(sim: SimContext, range: SvmRange): Location {
  const device = sim.mm.pt.summarize(range.start, range.end, SUM).device;
  return device === 0 ? 'smem' : device === range.npages ? 'vram' : 'mixed';
}
