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
 * Entries live in 2M blocks. A block whose 512 PTEs are equal is stored as that one value
 * (`uniform`), which is the common case for SVM: ranges are 2M, migrations move whole 2M
 * allocations, and big CPU fills populate whole blocks. A block that a write splits keeps its
 * uniform value plus a short sorted list of exceptions (sparse 4K touches of a big mapping cost a
 * few words per block), and is expanded to an Int32Array of 512 PTEs only past SPARSE_MAX
 * exceptions. Untouched memory has no block at all, so a terabyte of mapped address space costs
 * nothing until touched, and whole-range operations (fill, count, replace) cost O(1) per uniform
 * block instead of O(512).
 *
 * Encoding: 0 NONE, 1 ZERO, 2 SMEM, -id VRAM of BO `id` (ids start at 1).
 */

import { ModelInvariantError } from '../invariant.js';
import { IntMap } from './int-map.js';

export const PTE_NONE = 0;
export const PTE_ZERO = 1;
export const PTE_SMEM = 2;

const BLOCK = 512;
/** Exceptions a block keeps in its sparse form before it becomes a dense array. */
const SPARSE_MAX = 32;
/** Dense arrays of dropped blocks, reused (churn expands and drops blocks all the time). */
const densePool: Int32Array[] = [];
const DENSE_POOL_MAX = 64;
/** firstRun()'s scratch for firstRunAt(). */
const RUN_AT = new Float64Array(2);

class Block {
  /** The value of every PTE while `pte` is null, except the offsets listed in `xoff`. */
  uniform: number;
  /** Dense form: all 512 PTEs (then `xoff`/`xval` are null). */
  pte: Int32Array | null = null;
  /** Sparse form: sorted offsets whose PTE differs from `uniform`, and their values. */
  xoff: number[] | null = null;
  xval: number[] | null = null;
  /** Present (non-NONE) PTEs in the block. */
  present: number;

  constructor(v: number) {
    this.uniform = v;
    this.present = v === PTE_NONE ? 0 : BLOCK;
  }

  /** Back to one value for all 512 PTEs. */
  makeUniform(v: number): void {
    this.uniform = v;
    this.release();
    this.xoff = this.xval = null;
    this.present = v === PTE_NONE ? 0 : BLOCK;
  }

  /** Expand to the dense form. */
  densify(): Int32Array {
    const pte = (densePool.pop() ?? new Int32Array(BLOCK)).fill(this.uniform);
    const xoff = this.xoff;
    if (xoff !== null) for (let i = 0; i < xoff.length; i++) pte[xoff[i]] = this.xval![i];
    this.pte = pte;
    this.xoff = this.xval = null;
    return pte;
  }

  /** Write the PTE at offset `off`. */
  setOff(off: number, v: number): void {
    let old: number;
    if (this.pte !== null) {
      old = this.pte[off];
      this.pte[off] = v;
    } else {
      const xoff = this.xoff;
      const k = xoff === null ? -1 : findOff(xoff, off);
      if (k >= 0) {
        old = this.xval![k];
        if (v === this.uniform) {
          if (xoff!.length === 1) this.xoff = this.xval = null;
          else cut(xoff!, this.xval!, k, k + 1);
        } else this.xval![k] = v;
      } else {
        old = this.uniform;
        if (v === old) return;
        if (xoff === null) {
          this.xoff = [off];
          this.xval = [v];
        } else if (xoff.length < SPARSE_MAX) {
          // insert at -k - 1, shifting the later exceptions up by one
          const xval = this.xval!;
          const at = -k - 1;
          for (let q = xoff.length; q > at; q--) {
            xoff[q] = xoff[q - 1];
            xval[q] = xval[q - 1];
          }
          xoff[at] = off;
          xval[at] = v;
        } else {
          this.densify()[off] = v;
        }
      }
    }
    if (old === PTE_NONE && v !== PTE_NONE) this.present++;
    else if (old !== PTE_NONE && v === PTE_NONE) this.present--;
  }

  /** Give the dense array back to the pool (the block is dropped or made uniform). */
  release(): void {
    if (this.pte !== null && densePool.length < DENSE_POOL_MAX) densePool.push(this.pte);
    this.pte = null;
  }

  /** Write the PTEs at offsets [lo, hi). */
  fillOffs(lo: number, hi: number, v: number): void {
    if (this.pte === null) {
      const xoff = this.xoff;
      if (v === this.uniform) {
        if (xoff === null) return;
        // Back to the uniform value: drop the exceptions inside [lo, hi).
        let k0 = findOff(xoff, lo);
        if (k0 < 0) k0 = -k0 - 1;
        let k1 = k0;
        const xval = this.xval!;
        for (; k1 < xoff.length && xoff[k1] < hi; k1++) {
          const old = xval[k1];
          if (old === PTE_NONE) this.present++;
          else if (v === PTE_NONE) this.present--;
        }
        if (k1 === k0) return;
        if (k1 - k0 === xoff.length) this.xoff = this.xval = null;
        else cut(xoff, xval, k0, k1);
        return;
      }
      // Stay sparse while the exceptions would still fit; otherwise one dense fill.
      if ((this.xoff === null ? 0 : this.xoff.length) + (hi - lo) <= SPARSE_MAX) {
        for (let q = lo; q < hi; q++) this.setOff(q, v);
        return;
      }
      this.densify();
    }
    const a = this.pte!;
    let was = 0;
    for (let q = lo; q < hi; q++) if (a[q] !== PTE_NONE) was++;
    a.fill(v, lo, hi);
    this.present += (v === PTE_NONE ? 0 : hi - lo) - was;
  }
}

/** Remove entries [k0, k1) of a block's exception lists (no array is allocated, unlike splice). */
function cut(xoff: number[], xval: number[], k0: number, k1: number): void {
  const n = xoff.length;
  for (let q = k1; q < n; q++) {
    xoff[q - k1 + k0] = xoff[q];
    xval[q - k1 + k0] = xval[q];
  }
  for (let q = k1 - k0; q > 0; q--) {
    xoff.pop();
    xval.pop();
  }
}

/** Index of `off` in the sorted list, or -(insertion point) - 1. */
function findOff(xoff: number[], off: number): number {
  let lo = 0;
  let hi = xoff.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xoff[mid] < off) lo = mid + 1;
    else hi = mid;
  }
  return lo < xoff.length && xoff[lo] === off ? lo : -lo - 1;
}

/** The PTE at offset `off` of a block. */
function pteOf(b: Block, off: number): number {
  if (b.pte !== null) return b.pte[off];
  if (b.xoff === null) return b.uniform;
  const k = findOff(b.xoff, off);
  return k >= 0 ? b.xval![k] : b.uniform;
}

/** The first offset in [lo, hi) of a block whose PTE is present, or -1. */
function firstPresent(b: Block, lo: number, hi: number): number {
  const a = b.pte;
  if (a !== null) {
    for (let q = lo; q < hi; q++) if (a[q] !== PTE_NONE) return q;
    return -1;
  }
  const xoff = b.xoff;
  if (xoff === null) return b.uniform === PTE_NONE || lo >= hi ? -1 : lo;
  let k = findOff(xoff, lo);
  if (k < 0) k = -k - 1;
  if (b.uniform === PTE_NONE) {
    // every exception is present
    return k < xoff.length && xoff[k] < hi ? xoff[k] : -1;
  }
  // present unless an exception holding NONE covers the offset
  let q = lo;
  const xval = b.xval!;
  while (q < hi && k < xoff.length && xoff[k] === q && xval[k] === PTE_NONE) {
    q++;
    k++;
  }
  return q < hi ? q : -1;
}

/** The first offset at or after `off` (up to BLOCK) of a block whose PTE is not `v`. */
function runEnd(b: Block, off: number, v: number): number {
  const a = b.pte;
  if (a !== null) {
    let q = off;
    while (q < BLOCK && a[q] === v) q++;
    return q;
  }
  const xoff = b.xoff;
  if (xoff === null) return b.uniform === v ? BLOCK : off;
  let k = findOff(xoff, off);
  if (k < 0) k = -k - 1;
  // exceptions never equal the uniform value
  if (b.uniform === v) return k < xoff.length ? xoff[k] : BLOCK;
  let q = off;
  const xval = b.xval!;
  while (k < xoff.length && xoff[k] === q && xval[k] === v) {
    q++;
    k++;
  }
  return q;
}

/** A device-private PTE (VRAM of some BO). */
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

/** A maximal run of equal present PTEs. */
export interface PteRun {
  start: number;
  end: number;
  pte: number;
}

/** Counts of PTE kinds over a span. */
export interface PteSummary {
  none: number;
  zero: number;
  smem: number;
  device: number;
  /** BO id when every device page belongs to one BO; 0 without device pages; -1 when several. */
  deviceBo: number;
}

/** A zeroed summary (callers on the fault path keep one to pass to summarize()). */
export function pteSummary(): PteSummary {
  return { none: 0, zero: 0, smem: 0, device: 0, deviceBo: 0 };
}

/** Append a run of present PTEs, merging it with the previous run when they touch and match. */
function pushRun(out: PteRun[], s: number, e: number, v: number): void {
  if (v === PTE_NONE || e <= s) return;
  const last = out.length > 0 ? out[out.length - 1] : undefined;
  if (last !== undefined && last.end === s && last.pte === v) last.end = e;
  else out.push({ start: s, end: e, pte: v });
}

/** Add `n` PTEs of value `v` to a summary. */
function countPte(s: PteSummary, v: number, n: number): void {
  if (n === 0 || v === PTE_NONE) return;
  if (v === PTE_ZERO) s.zero += n;
  else if (v === PTE_SMEM) s.smem += n;
  else {
    s.device += n;
    const bo = pteBo(v);
    s.deviceBo = s.deviceBo === 0 ? bo : s.deviceBo === bo ? bo : -1;
  }
}

/** Add the PTEs at offsets [lo, hi) of a block to a summary. */
function countBlock(s: PteSummary, b: Block, lo: number, hi: number): void {
  const a = b.pte;
  if (a !== null) {
    for (let q = lo; q < hi; q++) countPte(s, a[q], 1);
    return;
  }
  let uniform = hi - lo;
  const xoff = b.xoff;
  if (xoff !== null) {
    const xval = b.xval!;
    for (let x = 0; x < xoff.length; x++) {
      const off = xoff[x];
      if (off < lo || off >= hi) continue;
      uniform--;
      countPte(s, xval[x], 1);
    }
  }
  countPte(s, b.uniform, uniform);
}

export class CpuPageTable {
  /** Blocks by index (page / 512); an IntMap: munmap drops blocks and faults bring them back. */
  private readonly blocks = new IntMap<Block>();
  /** The block looked up last (a one-entry cache: accesses are local), and its index. */
  private lastIdx = -1;
  private lastBlock: Block | undefined;

  private block(idx: number): Block | undefined {
    if (idx === this.lastIdx) return this.lastBlock;
    const b = this.blocks.get(idx);
    this.lastIdx = idx;
    this.lastBlock = b;
    return b;
  }

  private putBlock(idx: number, b: Block): void {
    this.blocks.set(idx, b);
    if (idx === this.lastIdx) this.lastBlock = b;
  }

  private dropBlock(idx: number): void {
    this.blocks.get(idx)?.release();
    this.blocks.delete(idx);
    if (idx === this.lastIdx) this.lastBlock = undefined;
  }

  /** The PTE of `page`. */
  get(page: number): number {
    const idx = Math.floor(page / BLOCK);
    const b = this.block(idx);
    if (b === undefined) return PTE_NONE;
    // The offset in the block as page - idx * BLOCK: `page % BLOCK` of a page number ≥ 2^31 (a
    // double) is a call into the runtime's fmod, ~100 ns, where the subtraction is one instruction.
    if (b.pte !== null) return b.pte[page - idx * BLOCK];
    if (b.xoff === null) return b.uniform;
    const k = findOff(b.xoff, page - idx * BLOCK);
    return k >= 0 ? b.xval![k] : b.uniform;
  }

  /** Write the PTE of `page`. */
  set(page: number, v: number): void {
    const idx = Math.floor(page / BLOCK);
    let b = this.block(idx);
    if (b === undefined) {
      if (v === PTE_NONE) return;
      b = new Block(PTE_NONE);
      this.putBlock(idx, b);
    }
    b.setOff(page - idx * BLOCK, v); // (not page % BLOCK: see get())
    if (b.present === 0) this.dropBlock(idx);
  }

  /**
   * Indices of the existing blocks among [first, last] when the span is much larger than the
   * table (sorted), or null when probing each index is cheaper.
   */
  private sparseIndices(first: number, last: number): number[] | null {
    if (last - first + 1 <= this.blocks.size * 2 + 64) return null;
    const out: number[] = [];
    for (const i of this.blocks.keys()) if (i >= first && i <= last) out.push(i);
    return out.sort((a, b) => a - b);
  }

  /** First block index of the current walk (see walk()). */
  private walkFirst = 0;
  /** Block indices of the current walk, or null to probe every index from walkFirst. */
  private walkKeys: number[] | null = null;

  /**
   * Start a walk over the blocks of [start, end) (end > start): returns its number of steps; step
   * k looks at block walkIndex(k), which may not exist. Walks do not nest.
   */
  private walk(start: number, end: number): number {
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    this.walkFirst = first;
    // One block (a range or BO of at most 2M: the fault path's spans) needs no index list.
    this.walkKeys = first === last ? null : this.sparseIndices(first, last);
    return this.walkKeys === null ? last - first + 1 : this.walkKeys.length;
  }

  private walkIndex(k: number): number {
    return this.walkKeys === null ? this.walkFirst + k : this.walkKeys[k];
  }

  /** Set every PTE of [start, end) to `v`. */
  fill(start: number, end: number, v: number): void {
    let p = start;
    while (p < end) {
      const idx = Math.floor(p / BLOCK);
      const base = idx * BLOCK;
      const hi = Math.min(end, base + BLOCK);
      let b = this.block(idx);
      if (p === base && hi === base + BLOCK) {
        if (v === PTE_NONE) {
          if (b !== undefined) this.dropBlock(idx);
        } else if (b !== undefined) b.makeUniform(v);
        else this.putBlock(idx, new Block(v));
      } else if (b !== undefined || v !== PTE_NONE) {
        if (b === undefined) {
          b = new Block(PTE_NONE);
          this.putBlock(idx, b);
        }
        b.fillOffs(p - base, hi - base, v);
        if (b.present === 0) this.dropBlock(idx);
      }
      p = hi;
    }
  }

  /**
   * The maximal runs of equal present PTEs in [start, end), in address order. Returned as an
   * array so callers may modify the table while walking it.
   */
  runs(start: number, end: number): PteRun[] {
    const out: PteRun[] = [];
    if (end <= start) return out;
    const n = this.walk(start, end);
    for (let k = 0; k < n; k++) {
      const i = this.walkIndex(k);
      const b = this.block(i);
      if (b === undefined) continue;
      const base = i * BLOCK;
      const lo = Math.max(start, base);
      const hi = Math.min(end, base + BLOCK);
      if (b.pte === null) {
        const xoff = b.xoff;
        if (xoff === null) {
          pushRun(out, lo, hi, b.uniform);
          continue;
        }
        // uniform stretches between the exceptions
        let s = lo;
        const k0 = findOff(xoff, lo - base);
        for (let x = k0 >= 0 ? k0 : -k0 - 1; x < xoff.length && base + xoff[x] < hi; x++) {
          const p = base + xoff[x];
          if (p > s) pushRun(out, s, p, b.uniform);
          pushRun(out, p, p + 1, b.xval![x]);
          s = p + 1;
        }
        if (s < hi) pushRun(out, s, hi, b.uniform);
        continue;
      }
      const a = b.pte;
      let s = lo;
      while (s < hi) {
        const v = a[s - base];
        let e = s + 1;
        while (e < hi && a[e - base] === v) e++;
        pushRun(out, s, e, v);
        s = e;
      }
    }
    return out;
  }

  /**
   * The first run of equal present PTEs in [start, end), if any (the first of runs(), without
   * building the others). Written to `out` when given, else to a new object.
   */
  firstRun(start: number, end: number, out?: PteRun): PteRun | undefined {
    const pte = this.firstRunAt(start, end, RUN_AT);
    if (pte === PTE_NONE) return undefined;
    const r = out ?? { start: 0, end: 0, pte: 0 };
    r.start = RUN_AT[0];
    r.end = RUN_AT[1];
    r.pte = pte;
    return r;
  }

  /**
   * firstRun() for the fault path: the run's start and end go to `out[0]`, `out[1]` and its PTE is
   * returned; PTE_NONE when there is no run. A typed array, not an object: storing a page number
   * above 2^31 into an object field allocates a heap number, into a Float64Array it does not.
   */
  firstRunAt(start: number, end: number, out: Float64Array): number {
    if (end <= start) return PTE_NONE;
    const n = this.walk(start, end);
    for (let k = 0; k < n; k++) {
      const i = this.walkIndex(k);
      const b = this.block(i);
      if (b === undefined) continue;
      const base = i * BLOCK;
      const lo = Math.max(start, base) - base;
      const off = firstPresent(b, lo, Math.min(end, base + BLOCK) - base);
      if (off < 0) continue;
      const v = pteOf(b, off);
      // Extend the run through this block and the following ones while the PTE stays `v`.
      let e = base + runEnd(b, off, v);
      let j = i;
      while (e < end && e === (j + 1) * BLOCK) {
        j++;
        const nb = this.block(j);
        if (nb === undefined) break;
        e = j * BLOCK + runEnd(nb, 0, v);
      }
      out[0] = base + off;
      // biome-ignore lint/complexity/useMathMinMax: a select, not a call (Math.min boxes its result here)
      out[1] = e < end ? e : end;
      return v;
    }
    return PTE_NONE;
  }

  /** summarize()'s result when the caller passes no `out`. */
  private readonly sum = pteSummary();

  /**
   * Counts of each PTE kind in [start, end), without building runs. Written to `out` when given,
   * else to the table's own scratch summary, valid until the next summarize() on this table: read
   * it at once, or pass an object to keep (no allocation on the fault path either way).
   */
  summarize(start: number, end: number, out?: PteSummary): PteSummary {
    const s = out ?? this.sum;
    s.none = s.zero = s.smem = s.device = s.deviceBo = 0;
    if (end <= start) {
      s.none = end - start;
      return s;
    }
    const n = this.walk(start, end);
    for (let k = 0; k < n; k++) {
      const i = this.walkIndex(k);
      const b = this.block(i);
      if (b === undefined) continue;
      const base = i * BLOCK;
      countBlock(s, b, Math.max(start, base) - base, Math.min(end, base + BLOCK) - base);
    }
    s.none = end - start - s.zero - s.smem - s.device;
    return s;
  }

  /** Rewrite every PTE equal to `from` in [start, end) to `to`; returns how many changed. */
  replace(start: number, end: number, from: number, to: number): number {
    if (from === PTE_NONE) return 0; // only present PTEs are rewritten
    let n = 0;
    let p = start;
    while (p < end) {
      const idx = Math.floor(p / BLOCK);
      const hi = Math.min(end, (idx + 1) * BLOCK);
      const b = this.block(idx);
      if (b !== undefined) {
        if (b.pte === null && b.xoff === null) {
          // a uniform block: one fill (the common case, a whole 2M allocation)
          if (b.uniform === from) {
            this.fill(p, hi, to);
            n += hi - p;
          }
        } else {
          for (const r of this.runs(p, hi)) {
            if (r.pte !== from) continue;
            this.fill(r.start, r.end, to);
            n += r.end - r.start;
          }
        }
      }
      p = hi;
    }
    return n;
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
      if (b.pte !== null) {
        for (const v of b.pte) if (v !== PTE_NONE) n++;
      } else {
        n = b.uniform === PTE_NONE ? 0 : BLOCK;
        if (b.xoff !== null) {
          if (b.xoff.length === 0 || b.xoff.length > SPARSE_MAX || b.xoff.length !== b.xval!.length)
            throw new ModelInvariantError(`page-table block ${i}: bad exception list`);
          for (let k = 0; k < b.xoff.length; k++) {
            if (k > 0 && b.xoff[k] <= b.xoff[k - 1])
              throw new ModelInvariantError(`page-table block ${i}: exceptions out of order`);
            if (b.xval![k] === b.uniform)
              throw new ModelInvariantError(`page-table block ${i}: exception equal to the uniform value`);
            n += (b.xval![k] !== PTE_NONE ? 1 : 0) - (b.uniform !== PTE_NONE ? 1 : 0);
          }
        }
      }
      if (n !== b.present || n === 0)
        throw new ModelInvariantError(`page-table block ${i} present count ${b.present} != ${n}`);
    }
  }
}
