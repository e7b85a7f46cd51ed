/**
 * DOC: CPU page table
 *
 * What the process's page table holds for each 4K page, as far as SVM cares:
 *
 * - NONE: no PTE (never touched, or zapped by munmap/madvise).
 * - ZERO: the shared zero page (CPU read of untouched private anonymous memory).
 * - SMEM: a populated system-memory page.
 * - VRAM(bo): a device-private swap entry pointing at a page of devmem allocation `bo`.
 *
 * Entries live in 2M blocks (one Int32Array of 512 PTEs per block that has ever held a present
 * page), so untouched memory costs nothing and a terabyte of mapped address space is free until
 * touched. Encoding: 0 NONE, 1 ZERO, 2 SMEM, -id VRAM of BO `id` (ids start at 1).
 */

import { ModelInvariantError } from '../invariant.js';

export const PTE_NONE = 0;
export const PTE_ZERO = 1;
export const PTE_SMEM = 2;

const BLOCK_SHIFT_PAGES = 512;

interface Block {
  pte: Int32Array;
  present: number;
}

/** A PTE value is device-private (VRAM of some BO). */
export function isDevicePte(v: number): boolean {
  return v < 0;
}

/** The BO id of a device-private PTE. */
export function pteBo(v: number): number {
  return -v;
}

/** The PTE value for a page of BO `bo`. */
export function devicePte(bo: number): number {
  return -bo;
}

export class CpuPageTable {
  private readonly blocks = new Map<number, Block>();

  /** The PTE of `page`. */
  get(page: number): number {
    const b = this.blocks.get(Math.floor(page / BLOCK_SHIFT_PAGES));
    return b === undefined ? PTE_NONE : b.pte[page % BLOCK_SHIFT_PAGES];
  }

  /** Write the PTE of `page`. */
  set(page: number, v: number): void {
    const idx = Math.floor(page / BLOCK_SHIFT_PAGES);
    let b = this.blocks.get(idx);
    if (b === undefined) {
      if (v === PTE_NONE) return;
      b = { pte: new Int32Array(BLOCK_SHIFT_PAGES), present: 0 };
      this.blocks.set(idx, b);
    }
    const off = page % BLOCK_SHIFT_PAGES;
    const old = b.pte[off];
    if (old === PTE_NONE && v !== PTE_NONE) b.present++;
    else if (old !== PTE_NONE && v === PTE_NONE) b.present--;
    b.pte[off] = v;
    if (b.present === 0) this.blocks.delete(idx);
  }

  /**
   * Call `fn(page, pte)` for every present PTE in [start, end), in address order. `fn` may
   * rewrite the PTE of the page it is given.
   */
  forEachPresent(start: number, end: number, fn: (page: number, pte: number) => void): void {
    if (end <= start) return;
    const first = Math.floor(start / BLOCK_SHIFT_PAGES);
    const last = Math.floor((end - 1) / BLOCK_SHIFT_PAGES);
    const indices: number[] = [];
    if (last - first + 1 <= this.blocks.size) {
      for (let i = first; i <= last; i++) if (this.blocks.has(i)) indices.push(i);
    } else {
      for (const i of this.blocks.keys()) if (i >= first && i <= last) indices.push(i);
      indices.sort((a, b) => a - b);
    }
    for (const i of indices) {
      const base = i * BLOCK_SHIFT_PAGES;
      const lo = Math.max(start, base) - base;
      const hi = Math.min(end, base + BLOCK_SHIFT_PAGES) - base;
      for (let o = lo; o < hi; o++) {
        const b = this.blocks.get(i);
        if (b === undefined) break;
        const v = b.pte[o];
        if (v !== PTE_NONE) fn(base + o, v);
      }
    }
  }

  /** First 2M-block-aligned page in [start, end) whose block holds a present PTE, or -1. */
  firstPopulatedBlock(start: number, end: number): number {
    let found = -1;
    const first = Math.floor(start / BLOCK_SHIFT_PAGES);
    const last = Math.floor((end - 1) / BLOCK_SHIFT_PAGES);
    if (last - first + 1 <= this.blocks.size) {
      for (let i = first; i <= last; i++) if (this.blocks.has(i)) return i * BLOCK_SHIFT_PAGES;
      return -1;
    }
    for (const i of this.blocks.keys()) {
      if (i >= first && i <= last && (found < 0 || i * BLOCK_SHIFT_PAGES < found)) found = i * BLOCK_SHIFT_PAGES;
    }
    return found;
  }

  /** Number of present PTEs overall (for invariant checks). */
  presentCount(): number {
    let n = 0;
    for (const b of this.blocks.values()) n += b.present;
    return n;
  }

  /** Check the per-block present counters. */
  checkInvariants(): void {
    for (const [i, b] of this.blocks) {
      let n = 0;
      for (const v of b.pte) if (v !== PTE_NONE) n++;
      if (n !== b.present || n === 0) throw new ModelInvariantError(`page-table block ${i} present count ${b.present} != ${n}`);
    }
  }
}
