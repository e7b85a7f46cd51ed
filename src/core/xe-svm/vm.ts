/**
 * DOC: Xe VM — CPU-address-mirror GPU VMAs and the SVM garbage-collector list
 *
 * A fault-mode Xe VM has one GPU VMA bound with DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR over the
 * whole GPU VA ([0, 2^va_bits) as IGT's xe_exec_system_allocator binds it). From 6.18 the
 * madvise ioctl splits it so that memory attributes (preferred location, atomic mode, PAT) can
 * differ per span (xe_vm_alloc_madvise_vma); a range can never cross a GPU VMA boundary, so a
 * split also limits future range sizes.
 */

import type { AtomicAttr, PreferredLoc } from '../events.js';
import type { XeSvmRange as SvmRange } from './range.js';

export interface MemAttrs {
  /** xe_vma.attr.preferred_loc.devmem_fd: DEFAULT_DEVICE (0) or DEFAULT_SYSTEM (-1). */
  preferred: PreferredLoc;
  /** xe_vma.attr.atomic_access: DRM_XE_ATOMIC_*. */
  atomic: AtomicAttr;
}

export const DEFAULT_ATTRS: MemAttrs = { preferred: 'device', atomic: 'undefined' };

export function isDefaultAttrs(a: MemAttrs): boolean {
  return a.preferred === DEFAULT_ATTRS.preferred && a.atomic === DEFAULT_ATTRS.atomic;
}

export interface GpuVma {
  start: number;
  end: number;
  readOnly: boolean;
  attrs: MemAttrs;
  /** XE_VMA_MADV_AUTORESET: bound with DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (6.18.y gate). */
  autoreset: boolean;
}

export class XeVm {
  /** Mirror GPU VMAs, sorted, non-overlapping. */
  gpuvmas: GpuVma[];
  /** xe_vm.svm.garbage_collector.range_list */
  readonly gcList: SvmRange[] = [];

  constructor(vmPages: number, readOnly: boolean, autoreset = false) {
    this.gpuvmas = [{ start: 0, end: vmPages, readOnly, attrs: { ...DEFAULT_ATTRS }, autoreset }];
  }

  private lowerBound(page: number): number {
    let lo = 0;
    let hi = this.gpuvmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.gpuvmas[mid].end <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The GPU VMA containing `page`. Mirrors xe_vm_find_vma_by_addr(). */
  findVma(page: number): GpuVma | undefined {
    const v = this.gpuvmas[this.lowerBound(page)];
    return v !== undefined && v.start <= page ? v : undefined;
  }

  /** GPU VMAs overlapping [start, end). */
  vmasIn(start: number, end: number): GpuVma[] {
    const out: GpuVma[] = [];
    for (let i = this.lowerBound(start); i < this.gpuvmas.length && this.gpuvmas[i].start < end; i++)
      out.push(this.gpuvmas[i]);
    return out;
  }

  /** Split the VMA containing `page` so that a VMA starts at `page`. Returns whether it split. */
  splitAt(page: number): boolean {
    const i = this.lowerBound(page);
    const v = this.gpuvmas[i];
    if (v === undefined || v.start >= page) return false;
    const left: GpuVma = { ...v, attrs: { ...v.attrs }, end: page };
    const right: GpuVma = { ...v, attrs: { ...v.attrs }, start: page };
    this.gpuvmas.splice(i, 1, left, right);
    return true;
  }
}
