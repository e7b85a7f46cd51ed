/**
 * DOC: CPU VMAs (vm_area_struct)
 *
 * The process's mappings as mm keeps them: a sorted, non-overlapping list of [start, end) page
 * spans with a protection and a kind. Only what SVM looks at is kept: VM_WRITE (prot),
 * vma_is_anonymous() (kind 'anon' only; MAP_SHARED|MAP_ANONYMOUS is shmem and is not anonymous),
 * and is_vm_hugetlb_page() (kind 'hugetlb').
 *
 * munmap and mprotect split VMAs; mmap next to a compatible private anonymous VMA merges with it
 * (mm's vma_merge(); platform knob `vma_merge`), which matters because range chunks must fit
 * inside one CPU VMA.
 */

import type { MapKind, Prot } from '../events.js';
import { insertAt, removeAt } from './array.js';

export interface CpuVma {
  start: number;
  end: number;
  prot: Prot;
  kind: MapKind;
}

/**
 * The one shape every VMA of a VmaList has (fields set in one order by one constructor): the
 * lookups on the fault path then see a single hidden class, where copies made by object spread
 * from differently built literals gave several and made those sites polymorphic.
 */
class Vma implements CpuVma {
  constructor(
    public start: number,
    public end: number,
    public prot: Prot,
    public kind: MapKind,
  ) {}
}

/** A VMA like `v` with the given bounds. */
function vmaLike(v: CpuVma, start: number, end: number, prot: Prot = v.prot): Vma {
  return new Vma(start, end, prot, v.kind);
}

export class VmaList {
  /** Sorted by start, non-overlapping. */
  private readonly vmas: CpuVma[] = [];
  /**
   * The VMA lookup() found last (a one-entry cache: a fault looks the same VMA up several times —
   * the CPU fault, migrate_to_ram, range creation, migrate_vma, hmm_range_fault). VMAs are never
   * changed in place (a split or merge makes new objects), and every change of the list drops it.
   */
  private last: CpuVma | undefined = undefined;

  constructor(private readonly merge: boolean) {}

  /** All VMAs, in address order (read-only view). */
  all(): readonly CpuVma[] {
    return this.vmas;
  }

  /** Number of VMAs. */
  get length(): number {
    return this.vmas.length;
  }

  /** The VMA at index `i` of the address-ordered list (with lowerBound(): a walk without arrays). */
  at(i: number): CpuVma {
    return this.vmas[i];
  }

  /** Index of the first VMA whose end is above `page`. */
  lowerBound(page: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid].end <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The VMA containing `page`. Mirrors vma_lookup(). */
  lookup(page: number): CpuVma | undefined {
    const l = this.last;
    if (l !== undefined && l.start <= page && page < l.end) return l;
    const v = this.vmas[this.lowerBound(page)];
    if (v === undefined || v.start > page) return undefined;
    this.last = v;
    return v;
  }

  /** VMAs overlapping [start, end), in order. */
  overlapping(start: number, end: number): CpuVma[] {
    const out: CpuVma[] = [];
    for (let i = this.lowerBound(start); i < this.vmas.length && this.vmas[i].start < end; i++) out.push(this.vmas[i]);
    return out;
  }

  /** First VMA starting at or above `page` and below `end`. Mirrors find_vma() for a hole. */
  nextStart(page: number, end: number): number | null {
    const i = this.lowerBound(page);
    const v = this.vmas[i];
    if (v === undefined) return null;
    const s = Math.max(v.start, page);
    return s < end ? s : null;
  }

  /** Whether any VMA overlaps [start, end). */
  overlaps(start: number, end: number): boolean {
    const v = this.vmas[this.lowerBound(start)];
    return v !== undefined && v.start < end;
  }

  /** Remove [start, end) from every VMA, splitting where needed. */
  remove(start: number, end: number): void {
    this.last = undefined;
    const i0 = this.lowerBound(start);
    let i = i0;
    while (i < this.vmas.length && this.vmas[i].start < end) i++;
    if (i === i0) return;
    if (i === i0 + 1) {
      // one VMA (the common case): trim it, or split it in two, or drop it
      const v = this.vmas[i0];
      if (v.start < start && v.end > end) {
        this.vmas[i0] = vmaLike(v, v.start, start);
        insertAt(this.vmas, i0 + 1, vmaLike(v, end, v.end));
      } else if (v.start < start) this.vmas[i0] = vmaLike(v, v.start, start);
      else if (v.end > end) this.vmas[i0] = vmaLike(v, end, v.end);
      else removeAt(this.vmas, i0);
      return;
    }
    const keep: CpuVma[] = [];
    const first = this.vmas[i0];
    const last = this.vmas[i - 1];
    if (first.start < start) keep.push(vmaLike(first, first.start, start));
    if (last.end > end) keep.push(vmaLike(last, end, last.end));
    this.vmas.splice(i0, i - i0, ...keep);
  }

  /** Insert a new VMA over a hole, merging with compatible neighbours. Returns whether it merged. */
  insert(vma: CpuVma): boolean {
    return this.insertSpan(vma.start, vma.end, vma.prot, vma.kind);
  }

  /** insert() of the VMA [start, end) (mmap: no object to copy it from). */
  insertSpan(start: number, end: number, prot: Prot, kind: MapKind): boolean {
    this.last = undefined;
    const i = this.lowerBound(start);
    insertAt(this.vmas, i, new Vma(start, end, prot, kind));
    return this.mergeAround(i);
  }

  /**
   * Set the protection of [start, end). Returns the pieces whose protection changed (mprotect
   * leaves a VMA whose flags do not change untouched: mprotect_fixup()).
   */
  protect(start: number, end: number, prot: Prot): CpuVma[] {
    this.last = undefined;
    const changed: CpuVma[] = [];
    const out: CpuVma[] = [];
    const i0 = this.lowerBound(start);
    let i = i0;
    for (; i < this.vmas.length && this.vmas[i].start < end; i++) {
      const v = this.vmas[i];
      if (v.prot === prot) {
        out.push(v);
        continue;
      }
      if (v.start < start) out.push(vmaLike(v, v.start, start));
      const mid = vmaLike(v, Math.max(v.start, start), Math.min(v.end, end), prot);
      out.push(mid);
      changed.push(mid);
      if (v.end > end) out.push(vmaLike(v, end, v.end));
    }
    this.vmas.splice(i0, i - i0, ...out);
    // The list was fully merged before: only the rewritten window and its neighbours can merge.
    if (this.merge)
      for (let k = Math.min(i0 + out.length, this.vmas.length - 1); k >= Math.max(i0 - 1, 0); k--)
        this.mergeAround(Math.min(k, this.vmas.length - 1));
    return changed;
  }

  /** Two VMAs can be one (vma_merge(): adjacent, same flags, private anonymous). */
  private compatible(a: CpuVma, b: CpuVma): boolean {
    return this.merge && a.end === b.start && a.prot === b.prot && a.kind === 'anon' && b.kind === 'anon';
  }

  private mergeAround(i: number): boolean {
    let merged = false;
    if (i + 1 < this.vmas.length && this.compatible(this.vmas[i], this.vmas[i + 1])) {
      this.vmas[i] = vmaLike(this.vmas[i], this.vmas[i].start, this.vmas[i + 1].end);
      removeAt(this.vmas, i + 1);
      merged = true;
    }
    if (i > 0 && this.compatible(this.vmas[i - 1], this.vmas[i])) {
      this.vmas[i - 1] = vmaLike(this.vmas[i - 1], this.vmas[i - 1].start, this.vmas[i].end);
      removeAt(this.vmas, i);
      merged = true;
    }
    return merged;
  }
}
