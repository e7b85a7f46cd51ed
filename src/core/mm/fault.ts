/**
 * DOC: CPU page faults over a span (handle_mm_fault, as hmm_range_fault and the CPU use it)
 *
 * Faulting a span inside one CPU VMA, run by run:
 *
 * - NONE: a read of private anonymous memory maps the zero page; a write, or any access to
 *   shared/file memory, allocates a page; hugetlb populates the whole huge page.
 * - ZERO on a write: copy-on-write (wp_page_copy), which fires MMU_NOTIFY_CLEAR for the page.
 * - a device-private page, when the caller wants device pages back (a CPU access, or hmm with
 *   no device owner as in drm_gpusvm_range_evict): the pagemap's migrate_to_ram moves the whole
 *   allocation window; hmm with Xe as owner leaves Xe's own device pages alone.
 */

import type { SimContext } from '../context.js';
import { mmuNotifierInvalidate } from './notifier.js';
import { isDevicePte, PTE_NONE, PTE_SMEM, PTE_ZERO } from './page-table.js';
import type { CpuVma } from './vma.js';

const HUGE = 512;

export interface FaultOpts {
  write: boolean;
  /** Migrate device-private pages back to RAM, and why; false leaves them (hmm owner = Xe). */
  migrateDevice: false | 'cpu_fault' | 'range_evict' | 'get_pages';
  /** Fire the copy-on-write MMU_NOTIFY_CLEAR for zero pages written. */
  cowNotifier: boolean;
}

export interface FaultCounts {
  /** Pages newly allocated. */
  pages: number;
  /** Zero pages newly mapped. */
  zeroPages: number;
  /** Zero pages replaced by a copy. */
  cowPages: number;
}

/** Whether any range of a linked notifier overlaps [start, end). */
function anyRange(sim: SimContext, start: number, end: number): boolean {
  const g = sim.gpusvm;
  if (Math.floor(start / g.notifierPages) === Math.floor((end - 1) / g.notifierPages)) {
    // One notifier block (the common case): no list.
    const n = g.notifierFind(start);
    return n !== undefined && n.rangeFind(start, end) !== undefined;
  }
  for (const n of g.notifiersIn(start, end)) if (n.rangeFind(start, end) !== undefined) return true;
  return false;
}

/** Populate a hole [s, e) of `vma`. */
function populateHole(sim: SimContext, vma: CpuVma, s: number, e: number, write: boolean, c: FaultCounts): void {
  if (vma.kind === 'hugetlb') {
    const hs = Math.max(vma.start, Math.floor(s / HUGE) * HUGE);
    const he = Math.min(vma.end, Math.ceil(e / HUGE) * HUGE);
    for (const gap of holes(sim, hs, he)) {
      sim.mm.pt.fill(gap.start, gap.end, PTE_SMEM);
      c.pages += gap.end - gap.start;
    }
    return;
  }
  const v = !write && vma.kind === 'anon' ? PTE_ZERO : PTE_SMEM;
  sim.mm.pt.fill(s, e, v);
  if (v === PTE_ZERO) c.zeroPages += e - s;
  else c.pages += e - s;
}

/** The NONE holes of [start, end). */
function holes(sim: SimContext, start: number, end: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let p = start;
  for (const r of sim.mm.pt.runs(start, end)) {
    if (r.start > p) out.push({ start: p, end: r.start });
    p = r.end;
  }
  if (p < end) out.push({ start: p, end });
  return out;
}

/** faultSpan()'s counts when the caller does not want them. */
const DISCARDED: FaultCounts = { pages: 0, zeroPages: 0, cowPages: 0 };

/** faultSpan()'s scratch run [start, end) (read into locals at once: the loop changes the table). */
const RUN = new Float64Array(2);

/**
 * faultSpan() of one page (a CPU access, the last page of a span). Apart from the loop: `page` is
 * the caller's value, passed on to each call as it came; a loop variable that also takes computed
 * page numbers is a double, boxed into a new heap number at every call it is passed to.
 */
function faultPage(sim: SimContext, vma: CpuVma, page: number, o: FaultOpts, c: FaultCounts): FaultCounts {
  const pt = sim.mm.pt;
  for (;;) {
    const v = pt.get(page);
    if (v === PTE_NONE) populateHole(sim, vma, page, page + 1, o.write, c);
    else if (isDevicePte(v)) {
      if (o.migrateDevice !== false) {
        sim.pagemap.pagemapOps.migrateToRam(sim, page, o.migrateDevice); // dev_pagemap_ops.migrate_to_ram
        continue; // look at the same page again: it is in RAM now
      }
    } else if (v === PTE_ZERO && o.write) {
      if (o.cowNotifier && anyRange(sim, page, page + 1)) mmuNotifierInvalidate(sim, 'CLEAR', page, page + 1);
      pt.set(page, PTE_SMEM);
      c.cowPages++;
    }
    return c;
  }
}

/**
 * Fault [start, end) of `vma` (the span must lie inside it), adding what it did to `c`. Mirrors
 * handle_mm_fault() for each page that needs it.
 */
export function faultSpan(
  sim: SimContext,
  vma: CpuVma,
  start: number,
  end: number,
  o: FaultOpts,
  /** Where the counts go; by default a shared scratch that nobody reads (no allocation per call). */
  c: FaultCounts = DISCARDED,
): FaultCounts {
  // the only page (a CPU access is one page): its PTE alone, no run to find
  if (start + 1 === end) return faultPage(sim, vma, start, o, c);
  const pt = sim.mm.pt;
  // The first lookup takes the caller's `start` as it came (see faultPage()); a range already
  // populated (every get_pages after the first) is one run and ends the walk there.
  let p = start;
  let pte = pt.firstRunAt(start, end, RUN);
  for (;;) {
    if (pte === PTE_NONE || RUN[0] > p) {
      const e = pte === PTE_NONE ? end : RUN[0];
      populateHole(sim, vma, p, e, o.write, c);
      p = e;
    } else {
      const rs = RUN[0];
      const re = RUN[1];
      if (isDevicePte(pte)) {
        if (o.migrateDevice !== false) {
          sim.pagemap.pagemapOps.migrateToRam(sim, p, o.migrateDevice); // dev_pagemap_ops.migrate_to_ram
          pte = pt.firstRunAt(p, end, RUN); // look at the same page again: it is in RAM now
          continue;
        }
      } else if (pte === PTE_ZERO && o.write) {
        if (o.cowNotifier && anyRange(sim, rs, re)) {
          for (let q = rs; q < re; q++) {
            mmuNotifierInvalidate(sim, 'CLEAR', q, q + 1);
            pt.set(q, PTE_SMEM);
          }
        } else {
          pt.fill(rs, re, PTE_SMEM);
        }
        c.cowPages += re - rs;
      }
      p = re;
    }
    if (p >= end) return c;
    if (p + 1 === end) return faultPage(sim, vma, p, o, c); // the last page: its PTE alone
    pte = pt.firstRunAt(p, end, RUN);
  }
}
