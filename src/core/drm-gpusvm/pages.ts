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
import type { Errno, Location } from '../decisions.js';
import { migrateToRam } from '../drm-pagemap/migrate.js';
import { isDevicePte, PTE_NONE, PTE_SMEM, PTE_ZERO, pteBo } from '../mm/page-table.js';
import type { SvmRange } from './gpusvm.js';

export interface PagesCtx {
  readOnly: boolean;
  devmemOnly: boolean;
}

export type GetPagesResult = { ok: true; location: Location; faultedIn: number; fast: boolean } | { ok: false; errno: Errno; faultedIn: number };

/**
 * hmm_range_fault() over [start, end) with REQ_FAULT (and REQ_WRITE): returns the pages faulted
 * in, or -1 when a page has no VMA or the VMA forbids the access (-EFAULT).
 */
function hmmRangeFault(sim: SimContext, start: number, end: number, write: boolean): number {
  let faulted = 0;
  for (let p = start; p < end; p++) {
    const v = sim.mm.pt.get(p);
    if (isDevicePte(v) || (v === PTE_SMEM) || (v === PTE_ZERO && !write)) continue;
    const vma = sim.mm.vmas.lookup(p);
    if (vma === undefined || vma.prot === 'none' || (write && vma.prot !== 'rw')) return -1;
    if (vma.kind === 'hugetlb') {
      // A hugetlb fault populates the whole huge page.
      const hs = Math.max(vma.start, Math.floor(p / 512) * 512);
      for (let q = hs; q < Math.min(vma.end, hs + 512); q++) {
        if (sim.mm.pt.get(q) === PTE_NONE) {
          sim.mm.pt.set(q, PTE_SMEM);
          faulted++;
        }
      }
      continue;
    }
    sim.mm.pt.set(p, !write && vma.kind === 'anon' ? PTE_ZERO : PTE_SMEM);
    faulted++;
  }
  return faulted;
}

/**
 * Fault in and DMA-map the pages of a range. Mirrors drm_gpusvm_range_get_pages().
 */
export function rangeGetPages(sim: SimContext, range: SvmRange, ctx: PagesCtx): GetPagesResult {
  if (range.hasDevmemPages || range.hasDmaMapping) {
    return { ok: true, location: range.hasDevmemPages ? 'vram' : 'smem', faultedIn: 0, fast: true };
  }
  const faulted = hmmRangeFault(sim, range.start, range.end, !ctx.readOnly);
  const faultedIn = Math.max(0, faulted);
  if (faulted < 0 || range.unmapped) return { ok: false, errno: 'EFAULT', faultedIn };

  let zdd = 0;
  let sawDevice = false;
  for (let p = range.start; p < range.end; p++) {
    const v = sim.mm.pt.get(p);
    const i = p - range.start;
    if (isDevicePte(v)) {
      if (i > 0 && zdd !== pteBo(v)) return { ok: false, errno: 'EOPNOTSUPP', faultedIn };
      zdd = pteBo(v);
      sawDevice = true;
    } else {
      if (sawDevice) return { ok: false, errno: 'EOPNOTSUPP', faultedIn };
      if (ctx.devmemOnly) return { ok: false, errno: 'EFAULT', faultedIn };
    }
  }
  range.hasDmaMapping = true;
  if (sawDevice) {
    range.hasDevmemPages = true;
    range.devmemBo = zdd;
  }
  return { ok: true, location: sawDevice ? 'vram' : 'smem', faultedIn, fast: false };
}

/**
 * Pull every device page of a range back to RAM. Mirrors drm_gpusvm_range_evict().
 */
export function rangeEvict(sim: SimContext, range: SvmRange): void {
  for (let p = range.start; p < range.end; p++) {
    const v = sim.mm.pt.get(p);
    if (isDevicePte(v)) migrateToRam(sim, p, 'range_evict');
    else if (v === PTE_NONE) {
      const vma = sim.mm.vmas.lookup(p);
      if (vma !== undefined) sim.mm.pt.set(p, vma.kind === 'anon' ? PTE_ZERO : PTE_SMEM);
    }
  }
}

/** Where a range's pages are now, from the CPU page table. */
export function rangeLocation(sim: SimContext, range: SvmRange): Location {
  let device = 0;
  sim.mm.pt.forEachPresent(range.start, range.end, (_p, v) => {
    if (isDevicePte(v)) device++;
  });
  return device === 0 ? 'smem' : device === range.npages ? 'vram' : 'mixed';
}
