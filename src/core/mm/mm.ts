/**
 * DOC: The process's mm — syscalls and CPU page faults
 *
 * What the CPU side of a trace does to the page table, and which MMU notifier events that fires:
 *
 * - mmap: a new VMA (MAP_FIXED over an existing mapping first unmaps the overlap).
 * - munmap: one MMU_NOTIFY_UNMAP callback over the span, then the PTEs go; device-private pages
 *   drop their BO references (the BO is freed with its last page). The SVM garbage collector then
 *   unbinds and removes the unmapped ranges.
 * - mprotect: MMU_NOTIFY_PROTECTION_VMA over each VMA whose flags change and that has page
 *   tables (change_protection()); an unchanged VMA fires nothing.
 * - madvise(MADV_DONTNEED): MMU_NOTIFY_CLEAR per VMA (zap_page_range_single()); pages go.
 * - CPU read/write: page faults. A read of untouched private anonymous memory maps the zero page;
 *   a write (or any access to shared/file memory) allocates a page; a write to the zero page
 *   copies it (wp_page_copy(), MMU_NOTIFY_CLEAR); a touch of a device-private page runs the
 *   pagemap's migrate_to_ram.
 */

import { emit, type SimContext } from '../context.js';
import type { Errno } from '../decisions.js';
import type { MapKind, Prot } from '../events.js';
import { mmuNotifierInvalidate } from './notifier.js';
import { faultSpan, type FaultCounts, type FaultOpts } from './fault.js';
import { isDevicePte, PTE_NONE, PTE_SMEM, PTE_ZERO, type PteRun, pteBo, pteSummary } from './page-table.js';

const HUGE_PAGES = 512;
/** faultSpan() options of a CPU access (built once). */
const CPU_READ: FaultOpts = { write: false, migrateDevice: 'cpu_fault', cowNotifier: true };
const CPU_WRITE: FaultOpts = { write: true, migrateDevice: 'cpu_fault', cowNotifier: true };

/** zapPtes()'s scratch summary. */
const ZAP = pteSummary();

/** zapPtes()'s result (one scratch, read at once: a munmap happens once per event). */
const FREED = { pagesFreed: 0, devicePagesFreed: 0 };

/**
 * Zap the PTEs of [start, end), dropping device-page references; the counts freed are returned in
 * a shared object, valid until the next call. Mirrors zap_page_range_single().
 */
function zapPtes(sim: SimContext, start: number, end: number): typeof FREED {
  const pt = sim.mm.pt;
  const sum = pt.summarize(start, end, ZAP);
  const pagesFreed = sum.zero + sum.smem + sum.device;
  const devicePagesFreed = sum.device;
  FREED.pagesFreed = pagesFreed;
  FREED.devicePagesFreed = devicePagesFreed;
  if (devicePagesFreed === 0 || sum.deviceBo > 0) {
    // no device page, or all of one BO (the common cases): no per-BO tally
    const bo = sum.deviceBo;
    pt.fill(start, end, PTE_NONE);
    if (devicePagesFreed > 0) sim.pagemap.pagemapOps.pageFree(sim, sim.pagemap.get(bo), devicePagesFreed); // dev_pagemap_ops.page_free
    return FREED;
  }
  // device pages of several BOs: free each BO's pages, in address order of first appearance
  const perBo = new Map<number, number>();
  for (const r of pt.runs(start, end))
    if (isDevicePte(r.pte)) perBo.set(pteBo(r.pte), (perBo.get(pteBo(r.pte)) ?? 0) + r.end - r.start);
  pt.fill(start, end, PTE_NONE);
  for (const [id, n] of perBo) sim.pagemap.pagemapOps.pageFree(sim, sim.pagemap.get(id), n); // dev_pagemap_ops.page_free
  return FREED;
}

/**
 * hugetlb VMAs can only be split at huge-page boundaries (hugetlb_vm_op_split() refuses with
 * -EINVAL otherwise).
 */
export function splitsHugetlb(sim: SimContext, start: number, end: number): boolean {
  const vmas = sim.mm.vmas;
  for (let i = vmas.lowerBound(start); i < vmas.length; i++) {
    const v = vmas.at(i);
    if (v.start >= end) break;
    if (v.kind !== 'hugetlb') continue;
    if ((start > v.start && start % HUGE_PAGES !== 0) || (end < v.end && end % HUGE_PAGES !== 0)) return true;
  }
  return false;
}

/** munmap(start, npages). Mirrors do_vmi_munmap(). Returns an errno or undefined. */
export function doMunmap(sim: SimContext, start: number, end: number): void {
  if (!sim.mm.vmas.overlaps(start, end)) return;
  mmuNotifierInvalidate(sim, 'UNMAP', start, end);
  const { pagesFreed, devicePagesFreed } = zapPtes(sim, start, end);
  sim.mm.vmas.remove(start, end);
  if (sim.recording) emit(sim, { code: 'vma_unmap', start, end, pagesFreed, devicePagesFreed });
}

/**
 * TASK_SIZE in pages: the top of the user address space. Taken as the lower half of the VA width
 * (`va_bits` 48 → 2^47 - 4K as x86-64 with 4-level paging, 57 → 2^56 - 4K with 5-level).
 */
function taskSizePages(vaBits: number): number {
  return vaBits === 48 ? TASK_SIZE_48 : 2 ** (vaBits - 1 - 12) - 1;
}
const TASK_SIZE_48 = 2 ** (48 - 1 - 12) - 1;

/**
 * The address check of mmap: `len > TASK_SIZE` or `addr > TASK_SIZE - len` is -ENOMEM.
 * Mirrors __get_unmapped_area().
 */
function getUnmappedAreaFits(sim: SimContext, start: number, end: number): boolean {
  const top = taskSizePages(sim.platform.vaBits);
  if (end <= top) return true;
  emit(sim, { code: 'mmap_above_task_size', start, end, taskSize: top });
  return false;
}

/** mmap(MAP_FIXED) of [start, end). Mirrors do_mmap() + mmap_region(). */
export function doMmap(sim: SimContext, start: number, end: number, prot: Prot, kind: MapKind): Errno | undefined {
  if (!getUnmappedAreaFits(sim, start, end)) return 'ENOMEM';
  if (kind === 'hugetlb' && (start % HUGE_PAGES !== 0 || end % HUGE_PAGES !== 0)) return 'EINVAL';
  doMunmap(sim, start, end);
  const merged = sim.mm.vmas.insertSpan(start, end, prot, kind);
  if (sim.recording) emit(sim, { code: 'vma_map', start, end, prot, kind, merged });
  return undefined;
}

/** Scratch for a presence check. */
const RUN: PteRun = { start: 0, end: 0, pte: 0 };

/** Walk [start, end) VMA by VMA; ENOMEM at the first hole (as mprotect/madvise do). */
function coveredPieces(
  sim: SimContext,
  start: number,
  end: number,
): { pieces: { start: number; end: number }[]; hole: boolean } {
  const pieces: { start: number; end: number }[] = [];
  let cur = start;
  for (const v of sim.mm.vmas.overlapping(start, end)) {
    if (v.start > cur) return { pieces, hole: true };
    pieces.push({ start: Math.max(v.start, start), end: Math.min(v.end, end) });
    cur = Math.min(v.end, end);
  }
  return { pieces, hole: cur < end };
}

/** mprotect(start, len, prot). Mirrors do_mprotect_pkey() / change_protection(). */
export function doMprotect(sim: SimContext, start: number, end: number, prot: Prot): Errno | undefined {
  if (splitsHugetlb(sim, start, end)) return 'EINVAL';
  const { pieces, hole } = coveredPieces(sim, start, end);
  const stop = hole ? (pieces.length > 0 ? pieces[pieces.length - 1].end : start) : end;
  if (stop > start) {
    const changed = sim.mm.vmas.protect(start, stop, prot);
    for (const c of changed) {
      // change_protection() starts the notifier at the first populated page-table level.
      if (sim.mm.pt.firstRun(c.start, c.end, RUN) !== undefined)
        mmuNotifierInvalidate(sim, 'PROTECTION_VMA', c.start, c.end);
      emit(sim, { code: 'vma_protect', start: c.start, end: c.end, prot, changed: true });
    }
    if (changed.length === 0) emit(sim, { code: 'vma_protect', start, end: stop, prot, changed: false });
  }
  return hole ? 'ENOMEM' : undefined;
}

/** madvise(MADV_DONTNEED). Mirrors madvise_dontneed_single_vma(). */
export function doMadviseDontneed(sim: SimContext, start: number, end: number): Errno | undefined {
  const { pieces, hole } = coveredPieces(sim, start, end);
  for (const p of pieces) {
    mmuNotifierInvalidate(sim, 'CLEAR', p.start, p.end);
    const freed = zapPtes(sim, p.start, p.end);
    emit(sim, { code: 'vma_dontneed', start: p.start, end: p.end, ...freed });
  }
  return hole ? 'ENOMEM' : undefined;
}

/**
 * Whether a CPU access to `page` finds it present with the access's permission: no fault at all
 * (cpuAccess()'s common case: it returns at once, recording nothing). Small, so that the
 * simulator's dispatch inlines it, and the page number (a double) is not boxed for a call.
 */
export function cpuPagePresent(sim: SimContext, page: number, write: boolean): boolean {
  const v = sim.mm.pt.get(page);
  if (v === PTE_SMEM || (v === PTE_ZERO && !write)) {
    const vma = sim.mm.vmas.lookup(page);
    return vma !== undefined && vma.prot !== 'none' && (!write || vma.prot === 'rw');
  }
  return false;
}

/** cpuAccess()'s page counts (one scratch: CPU accesses do not nest; the record copies it). */
const CPU_COUNTS: FaultCounts = { pages: 0, zeroPages: 0, cowPages: 0 };

/**
 * CPU access to [start, end), VMA by VMA, as the CPU's page-fault handler sees it.
 * Mirrors handle_mm_fault() for the cases SVM cares about. Returns 'SIGSEGV' when the access
 * hits no VMA or a VMA without the permission.
 */
export function cpuAccess(sim: SimContext, start: number, end: number, write: boolean): Errno | undefined {
  if (end === start + 1 && cpuPagePresent(sim, start, write)) return undefined;
  const total = CPU_COUNTS;
  total.pages = total.zeroPages = total.cowPages = 0;
  let errno: Errno | undefined;
  let p = start;
  while (p < end) {
    const vma = sim.mm.vmas.lookup(p);
    if (vma === undefined || vma.prot === 'none' || (write && vma.prot !== 'rw')) {
      emit(sim, { code: 'cpu_segv', page: p, reason: vma === undefined ? 'no_vma' : 'prot' });
      errno = 'SIGSEGV';
      break;
    }
    // biome-ignore lint/complexity/useMathMinMax: selects one of the two heap numbers; Math.min boxes a new one for the call
    const e = vma.end < end ? vma.end : end;
    faultSpan(sim, vma, p, e, write ? CPU_WRITE : CPU_READ, total);
    p = e;
  }
  if (sim.recording && total.pages + total.zeroPages + total.cowPages > 0)
    emit(sim, { code: 'cpu_populate', ...total });
  return errno;
}
