#!/usr/bin/env node
/**
 * jsfault.mjs: a JavaScript port of ../shared/perf-floor/cfault.c, as literal as the language
 * allows. A MEASURING STICK, NOT PART OF THE PRODUCT: it answers "what can V8 do with the C floor's
 * own algorithm and data layout?", i.e. how close to C svmsim's core could get on the fault path
 * (issue 12 asks for <= 2x C). Nothing in src/ imports it; the model it runs is cfault's subset of
 * svmsim's (6.18 defaults, dGPU, 512M notifiers, the paths the generated patterns exercise), not
 * svmsim's kernel model.
 *
 *   node bench/js-floor/jsfault.mjs TRACE.csv      # prints the same JSON line as cfault
 *
 * Same structures as cfault.c, each in the representation V8 handles best (bench/results.md,
 * "JS port of the C floor", has the measured alternatives):
 *   - CPU VMAs: sorted array as two Float64Arrays (start, end), binary search, copyWithin = memmove;
 *   - hash map int64 -> pointer: open addressing with linear probing and backward-shift deletion,
 *     keys in a Float64Array (page numbers are < 2^53, so doubles are exact), values are int32
 *     handles (0 = empty slot, like cfault's NULL);
 *   - CPU page table: 2M blocks, struct fields as typed arrays indexed by a block handle, the dense
 *     PTEs an Int32Array(512) per block (recycled through a free list, as malloc would);
 *   - notifiers and ranges: struct-of-arrays indexed by handle, each notifier's sorted range list
 *     an Int32Array of range handles;
 *   - BOs: struct-of-arrays indexed by a handle, an Int32Array from BO id to handle (cfault's
 *     `bos[id]`), the LRU links as Int32Arrays;
 *   - every growable typed array is a field of a `const` object (vm, bk, bt, rg, nt, rs), never a
 *     module-level `let`: TurboFan reloads a `let` and checks its TDZ hole and map at every access
 *     (bench/js-floor/micro.mjs: 2.3 against 1.0 ns per access; the port's first revision, with
 *     `let`s, was 1.3-1.4x slower);
 *   - counters and every other int64 quantity: slots of a Float64Array (a module `let` holding a
 *     non-Smi number would box a HeapNumber on every store).
 * The trace is parsed into typed arrays first (not timed); only the replay loop is timed, CPU time
 * by process.cpuUsage() (cfault: CLOCK_PROCESS_CPUTIME_ID). The printed counters must be identical
 * to cfault's for the same trace (scripts/floor.mjs --js checks it).
 *
 * Variants for the representation study (environment JSF_VARIANT, default none; several: a+b):
 *   map  - JS Map<number, handle> instead of the typed-array hash map (both maps);
 *   bo   - BOs as objects { id, start, npages, resident, expiry, prev, next } (a class), LRU by
 *          object references, instead of typed arrays indexed by id;
 *   ptpool - the dense PTEs of every block in one Int32Array (a slot of 512 per dense block, slots
 *          recycled), instead of an Int32Array(512) per block in a JS array;
 *   blockwise - not a representation but an algorithm change: do_munmap's zap looks each 2M block
 *          up once instead of once per page (the same result: what beating cfault's algorithm buys);
 *   smi  - page numbers rebased to the trace's lowest 512M notifier so that every page number fits
 *          a Smi, and kept in Int32Arrays instead of Float64Arrays (same arithmetic, exact).
 */
import { readFileSync } from 'node:fs';

/** JSF_VARIANT: variant names joined by '+' (e.g. smi+blockwise). */
const VARIANT = new Set((process.env.JSF_VARIANT ?? '').split('+'));
const V_MAP = VARIANT.has('map');
const V_BO = VARIANT.has('bo');
const V_SMI = VARIANT.has('smi');
const V_PTPOOL = VARIANT.has('ptpool');
const V_BLOCKWISE = VARIANT.has('blockwise');
/** Arrays holding page numbers (and page counts). */
const PageArray = V_SMI ? Int32Array : Float64Array;

const MMAP = 0;
const MUNMAP = 1;
const CPU_READ = 2;
const CPU_WRITE = 3;
const GPU_READ = 4;
const GPU_WRITE = 5;
const GPU_ATOMIC = 6;
const OPNAMES = ['mmap', 'munmap', 'cpu_read', 'cpu_write', 'gpu_read', 'gpu_write', 'gpu_atomic'];

/* ---------------------------------------------------------------- platform and stats */
const NOTIFIER_PAGES = 131072; /* 512M */
const HZ = 250;
/** cfault's `st` and the other int64 globals, one Float64Array slot each. */
const g = new Float64Array(32);
const VRAM_PAGES = 0;
const NOW_NS = 1;
const PAGEFAULT = 2;
const TLB_INVAL = 3;
const SVM_TLB_INVAL = 4;
const DEV_COPY_KB = 5;
const CPU_COPY_KB = 6;
const DEV_COPY_US = 7;
const CPU_COPY_US = 8;
const GPU_FAULTS = 9;
const MIG_VRAM = 10;
const MIG_RAM = 11;
const PAGES_VRAM = 12;
const PAGES_RAM = 13;
const EVICTIONS = 14;
const USED_PAGES = 15;
g[VRAM_PAGES] = (16 * 2 ** 30) / 4096;
/** 4K/64K/2M x (pagefault, valid, migrate, migrate_us, get_pages_us, bind_us, pagefault_us, copy_us) */
const sized = new Float64Array(24);
const bucket = (npages) => (npages >= 512 ? 2 : npages >= 16 ? 1 : 0);
/** ~24 GB/s + 8 us */
const costCopy = (pages) => 8 + Math.floor((pages * 4096) / 24000);
/** now_ns * HZ / 1e9 */
const jiffies = () => Math.floor(g[NOW_NS] / 4000000);

/* ---------------------------------------------------------------- CPU VMAs */
/** The VMAs (cfault's vmas, vm.n, vm.cap). */
const vm = { s: new PageArray(0), e: new PageArray(0), n: 0, cap: 0 };
function vmaGrow() {
  vm.cap = vm.cap * 2 + 8;
  const s = new PageArray(vm.cap);
  const e = new PageArray(vm.cap);
  s.set(vm.s);
  e.set(vm.e);
  vm.s = s;
  vm.e = e;
}
function vmaLb(page) {
  let lo = 0;
  let hi = vm.n;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (vm.e[m] <= page) lo = m + 1;
    else hi = m;
  }
  return lo;
}
/** Index of the VMA holding `page`, or -1 (cfault's NULL). */
function vmaLookup(page) {
  const i = vmaLb(page);
  return i < vm.n && vm.s[i] <= page ? i : -1;
}
function vmaRemove(s, e) {
  let i = vmaLb(s);
  while (i < vm.n && vm.s[i] < e) {
    const vs = vm.s[i];
    const ve = vm.e[i];
    if (vs < s && ve > e) {
      /* split */
      if (vm.n === vm.cap) vmaGrow();
      vm.s.copyWithin(i + 2, i + 1, vm.n);
      vm.e.copyWithin(i + 2, i + 1, vm.n);
      vm.n++;
      vm.e[i] = s;
      vm.s[i + 1] = e;
      vm.e[i + 1] = ve;
      return;
    }
    if (vs < s) {
      vm.e[i] = s;
      i++;
      continue;
    }
    if (ve > e) {
      vm.s[i] = e;
      return;
    }
    vm.s.copyWithin(i, i + 1, vm.n);
    vm.e.copyWithin(i, i + 1, vm.n);
    vm.n--;
  }
}
function vmaInsert(s, e) {
  const i = vmaLb(s);
  if (i > 0 && vm.e[i - 1] === s) {
    vm.e[i - 1] = e;
    if (i < vm.n && vm.s[i] === e) {
      vm.e[i - 1] = vm.e[i];
      vm.s.copyWithin(i, i + 1, vm.n);
      vm.e.copyWithin(i, i + 1, vm.n);
      vm.n--;
    }
    return;
  }
  if (i < vm.n && vm.s[i] === e) {
    vm.s[i] = s;
    return;
  }
  if (vm.n === vm.cap) vmaGrow();
  vm.s.copyWithin(i + 1, i, vm.n);
  vm.e.copyWithin(i + 1, i, vm.n);
  vm.s[i] = s;
  vm.e[i] = e;
  vm.n++;
}

/* ---------------------------------------------------------------- hash map int64 -> handle */
/** Open addressing on typed arrays: keys (exact integers < 2^53) as doubles, values int32 > 0. */
class TypedMap {
  constructor() {
    this.keys = new PageArray(1024);
    this.vals = new Int32Array(1024);
    this.mask = 1023;
    this.n = 0;
  }
}
/** Mixes both 32-bit halves of the key (cfault: k * golden ratio, then x ^ x >> 29). */
function hsh(k) {
  const h = Math.imul((k | 0) ^ Math.imul((k / 4294967296) | 0, 0x27d4eb2d), 0x9e3779b1);
  return h ^ (h >>> 15);
}
function tmGet(m, k) {
  const keys = m.keys;
  const vals = m.vals;
  const mask = m.mask;
  for (let i = hsh(k) & mask; ; i = (i + 1) & mask) {
    const v = vals[i];
    if (v === 0) return 0;
    if (keys[i] === k) return v;
  }
}
function tmGrow(m) {
  const ok = m.keys;
  const ov = m.vals;
  const cap = (m.mask + 1) * 2;
  m.keys = new PageArray(cap);
  m.vals = new Int32Array(cap);
  m.mask = cap - 1;
  m.n = 0;
  for (let i = 0; i < ov.length; i++) if (ov[i] !== 0) tmPut(m, ok[i], ov[i]);
}
function tmPut(m, k, v) {
  if (2 * (m.n + 1) > m.mask + 1) tmGrow(m);
  const keys = m.keys;
  const vals = m.vals;
  const mask = m.mask;
  for (let i = hsh(k) & mask; ; i = (i + 1) & mask) {
    if (vals[i] === 0) {
      keys[i] = k;
      vals[i] = v;
      m.n++;
      return;
    }
    if (keys[i] === k) {
      vals[i] = v;
      return;
    }
  }
}
/** Backward-shift deletion. */
function tmDel(m, k) {
  const keys = m.keys;
  const vals = m.vals;
  const mask = m.mask;
  let i = hsh(k) & mask;
  for (; ; i = (i + 1) & mask) {
    if (vals[i] === 0) return;
    if (keys[i] === k) break;
  }
  vals[i] = 0;
  m.n--;
  for (let j = (i + 1) & mask; vals[j] !== 0; j = (j + 1) & mask) {
    const h = hsh(keys[j]) & mask;
    if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
      keys[i] = keys[j];
      vals[i] = vals[j];
      vals[j] = 0;
      i = j;
    }
  }
}
/* The map in use: the typed map, or (JSF_VARIANT=map) a JS Map with the same interface. */
const mapNew = V_MAP ? () => new Map() : () => new TypedMap();
const mapGet = V_MAP ? (m, k) => m.get(k) ?? 0 : tmGet;
const mapPut = V_MAP ? (m, k, v) => void m.set(k, v) : tmPut;
const mapDel = V_MAP ? (m, k) => void m.delete(k) : tmDel;

/* ---------------------------------------------------------------- handle pools (malloc/free) */
/** Struct-of-arrays storage for a C struct: handles 1.., a free list, arrays grown by doubling. */
class Pool {
  constructor() {
    this.cap = 1024;
    this.top = 1;
    this.free = new Int32Array(1024);
    this.nfree = 0;
  }
}
function poolAlloc(p) {
  if (p.nfree > 0) return p.free[--p.nfree];
  return p.top++;
}
function poolFree(p, h) {
  if (p.nfree === p.free.length) {
    const f = new Int32Array(p.free.length * 2);
    f.set(p.free);
    p.free = f;
  }
  p.free[p.nfree++] = h;
}
/** Grows every typed-array field of a struct-of-arrays holder to `cap` entries, except `except`. */
function growAll(holder, cap, except) {
  for (const k of Object.keys(holder))
    if (k !== except && ArrayBuffer.isView(holder[k])) holder[k] = grown(holder[k], cap);
}
function grown(a, cap) {
  const b = new a.constructor(cap);
  b.set(a);
  return b;
}

/* ---------------------------------------------------------------- CPU page table */
const PTE_NONE = 0;
const PTE_ZERO = 1;
const PTE_SMEM = 2;
const blocks = new Pool();
/** The blocks' fields (uniform, present; off: JSF_VARIANT=ptpool) and (ptpool) the pooled PTEs. */
const bk = {
  uniform: new Int32Array(1024),
  present: new Int32Array(1024),
  off: new Int32Array(1024),
  ptes: new Int32Array(V_PTPOOL ? 512 * 1024 : 0),
};
/** Dense PTEs of each block, or null (cfault's `pte == NULL`: uniform). */
const blkPte = [null];
/** Freed Int32Array(512)s, reused (malloc's free list). */
const ptePool = [];
/* JSF_VARIANT=ptpool: every dense block's PTEs in one Int32Array, at bk.off[b] (-1: uniform). */
const slotFree = new Pool();
const pt = mapNew();
/** Whether block b has dense PTEs. */
const dense = (b) => (V_PTPOOL ? bk.off[b] >= 0 : blkPte[b] !== null);
function slotNew(b) {
  const o = poolAlloc(slotFree) * 512;
  if (o + 512 > bk.ptes.length) bk.ptes = grown(bk.ptes, bk.ptes.length * 2);
  bk.ptes.fill(bk.uniform[b], o, o + 512);
  bk.off[b] = o;
  return o;
}
function blockNew(uniform, present) {
  const b = poolAlloc(blocks);
  if (b >= blocks.cap) {
    blocks.cap *= 2;
    growAll(bk, blocks.cap, 'ptes');
  }
  bk.uniform[b] = uniform;
  bk.present[b] = present;
  bk.off[b] = -1;
  if (b === blkPte.length) blkPte.push(null);
  else blkPte[b] = null;
  return b;
}
function pteFree(b) {
  if (V_PTPOOL) {
    if (bk.off[b] >= 0) poolFree(slotFree, bk.off[b] / 512);
    bk.off[b] = -1;
    return;
  }
  const a = blkPte[b];
  if (a !== null) {
    ptePool.push(a);
    blkPte[b] = null;
  }
}
function blockFree(b) {
  pteFree(b);
  poolFree(blocks, b);
}
function ptGet(page) {
  const b = mapGet(pt, Math.floor(page / 512));
  if (b === 0) return PTE_NONE;
  if (V_PTPOOL) {
    const o = bk.off[b];
    return o >= 0 ? bk.ptes[o + (page & 511)] : bk.uniform[b];
  }
  const a = blkPte[b];
  return a !== null ? a[page & 511] : bk.uniform[b];
}
function ptFill(s, e, v) {
  for (let p = s; p < e; ) {
    const idx = Math.floor(p / 512);
    const base = idx * 512;
    const hi = Math.min(e, base + 512);
    let b = mapGet(pt, idx);
    if (p === base && hi === base + 512) {
      if (v === PTE_NONE) {
        if (b !== 0) {
          mapDel(pt, idx);
          blockFree(b);
        }
      } else if (b !== 0) {
        pteFree(b);
        bk.uniform[b] = v;
        bk.present[b] = 512;
      } else {
        b = blockNew(v, 512);
        mapPut(pt, idx, b);
      }
    } else {
      if (b === 0) {
        if (v === PTE_NONE) {
          p = hi;
          continue;
        }
        b = blockNew(PTE_NONE, 0);
        mapPut(pt, idx, b);
      }
      if (V_PTPOOL) {
        let o = bk.off[b];
        if (o < 0) o = slotNew(b);
        const a = bk.ptes;
        let present = bk.present[b];
        for (let q = o + p - base; q < o + hi - base; q++) {
          const old = a[q];
          if (old === PTE_NONE && v !== PTE_NONE) present++;
          else if (old !== PTE_NONE && v === PTE_NONE) present--;
          a[q] = v;
        }
        bk.present[b] = present;
        if (present === 0) {
          mapDel(pt, idx);
          blockFree(b);
        }
        p = hi;
        continue;
      }
      let a = blkPte[b];
      if (a === null) {
        a = ptePool.length > 0 ? ptePool.pop() : new Int32Array(512);
        a.fill(bk.uniform[b]);
        blkPte[b] = a;
      }
      let present = bk.present[b];
      for (let q = p - base; q < hi - base; q++) {
        const old = a[q];
        if (old === PTE_NONE && v !== PTE_NONE) present++;
        else if (old !== PTE_NONE && v === PTE_NONE) present--;
        a[q] = v;
      }
      bk.present[b] = present;
      if (present === 0) {
        mapDel(pt, idx);
        blockFree(b);
      }
    }
    p = hi;
  }
}
/** cfault's Sum, returned in these slots: none, zero, smem, device, bo. */
const sum = new Float64Array(5);
const S_NONE = 0;
const S_ZERO = 1;
const S_SMEM = 2;
const S_DEVICE = 3;
const S_BO = 4;
function count(v, n) {
  if (n === 0 || v === PTE_NONE) return;
  if (v === PTE_ZERO) sum[S_ZERO] += n;
  else if (v === PTE_SMEM) sum[S_SMEM] += n;
  else {
    sum[S_DEVICE] += n;
    const bo = -v;
    const cur = sum[S_BO];
    sum[S_BO] = cur === 0 ? bo : cur === bo ? bo : -1;
  }
}
function ptSummarize(s, e) {
  sum.fill(0);
  for (let p = s; p < e; ) {
    const idx = Math.floor(p / 512);
    const base = idx * 512;
    const hi = Math.min(e, base + 512);
    const b = mapGet(pt, idx);
    if (b !== 0) {
      if (V_PTPOOL) {
        const o = bk.off[b] - base;
        if (o + base >= 0) for (let q = p; q < hi; q++) count(bk.ptes[o + q], 1);
        else count(bk.uniform[b], hi - p);
        p = hi;
        continue;
      }
      const a = blkPte[b];
      if (a !== null) for (let q = p - base; q < hi - base; q++) count(a[q], 1);
      else count(bk.uniform[b], hi - p);
    }
    p = hi;
  }
  sum[S_NONE] = e - s - sum[S_ZERO] - sum[S_SMEM] - sum[S_DEVICE];
}
/** Rewrites PTEs equal to `from` in [s, e) to `to`; returns how many changed. */
function ptReplace(s, e, from, to) {
  let n = 0;
  for (let p = s; p < e; ) {
    const idx = Math.floor(p / 512);
    const base = idx * 512;
    const hi = Math.min(e, base + 512);
    const b = mapGet(pt, idx);
    if (b !== 0) {
      const a = blkPte[b];
      if (!dense(b) && bk.uniform[b] === from) {
        ptFill(p, hi, to);
        n += hi - p;
      } else if (dense(b)) {
        for (let q = p; q < hi; q++)
          if ((V_PTPOOL ? bk.ptes[bk.off[b] + q - base] : a[q - base]) === from) {
            ptFill(q, q + 1, to);
            n++;
          }
      }
    }
    p = hi;
  }
  return n;
}

/* ---------------------------------------------------------------- VRAM BOs */
/* Typed: struct-of-arrays indexed by BO id (cfault's bos[id]; id 0 is the LRU head). */
/** BO handles (cfault's malloc'd Bo structs; handle 0 is the LRU head). */
const boHandles = new Pool();
/** BO fields by handle, and byId: BO id -> handle (cfault's bos[id]; 0: NULL). */
const bt = {
  nextId: 1,
  byId: new Int32Array(1024),
  id: new Int32Array(1024),
  start: new PageArray(1024),
  npages: new PageArray(1024),
  resident: new PageArray(1024),
  expiry: new Float64Array(1024),
  prev: new Int32Array(1024),
  next: new Int32Array(1024),
};
/** Returns the new BO's handle. */
function boCreate(start, npages) {
  const id = bt.nextId++;
  if (id >= bt.byId.length) bt.byId = grown(bt.byId, bt.byId.length * 2 + 1024);
  const h = poolAlloc(boHandles);
  if (h >= boHandles.cap) {
    boHandles.cap *= 2;
    growAll(bt, boHandles.cap, 'byId');
  }
  bt.id[h] = id;
  bt.start[h] = start;
  bt.npages[h] = npages;
  bt.resident[h] = 0;
  bt.expiry[h] = 0;
  const tail = bt.prev[0];
  bt.prev[h] = tail;
  bt.next[h] = 0;
  bt.next[tail] = h;
  bt.prev[0] = h;
  bt.byId[id] = h;
  g[USED_PAGES] += npages;
  return h;
}
function boRelease(h) {
  bt.next[bt.prev[h]] = bt.next[h];
  bt.prev[bt.next[h]] = bt.prev[h];
  bt.byId[bt.id[h]] = 0;
  g[USED_PAGES] -= bt.npages[h];
  poolFree(boHandles, h);
}
function boPagesFreed(h, n) {
  bt.resident[h] -= n;
  if (bt.resident[h] === 0) boRelease(h);
}

/* Objects (JSF_VARIANT=bo): the same BOs as a class, LRU by references, `bos` a JS array. */
class Bo {
  constructor(id, start, npages) {
    this.id = id;
    this.start = start;
    this.npages = npages;
    this.resident = 0;
    this.expiry = 0;
    this.prev = this;
    this.next = this;
  }
}
const lru = new Bo(0, 0, 0);
const bos = [null];
function oboCreate(start, npages) {
  const b = new Bo(bt.nextId++, start, npages);
  b.prev = lru.prev;
  b.next = lru;
  lru.prev.next = b;
  lru.prev = b;
  if (b.id === bos.length) bos.push(b);
  else bos[b.id] = b;
  g[USED_PAGES] += npages;
  return b;
}
function oboRelease(b) {
  b.prev.next = b.next;
  b.next.prev = b.prev;
  bos[b.id] = null;
  g[USED_PAGES] -= b.npages;
}
function oboPagesFreed(b, n) {
  b.resident -= n;
  if (b.resident === 0) oboRelease(b);
}

/* ---------------------------------------------------------------- notifiers and ranges */
/* Typed: ranges and notifiers as struct-of-arrays indexed by handle (0 = NULL). */
const ranges = new Pool();
/** Range fields by handle; flags: one bit each (cfault: nine uint8_t), in_gc a separate byte. */
const rg = {
  start: new PageArray(1024),
  end: new PageArray(1024),
  bo: new Int32Array(1024),
  n: new Int32Array(1024),
  flags: new Uint8Array(1024),
  inGc: new Uint8Array(1024),
};
const MIGRATE_DEVMEM = 1;
const UNMAPPED = 2;
const PARTIAL = 4;
const HAS_DEVMEM = 8;
const HAS_DMA = 16;
const PRESENT = 32;
const INVALIDATED = 64;
const ATOMIC_ENABLE = 128;
function rangeNew(start, end, n) {
  const r = poolAlloc(ranges);
  if (r >= ranges.cap) {
    ranges.cap *= 2;
    growAll(rg, ranges.cap);
  }
  rg.start[r] = start;
  rg.end[r] = end;
  rg.bo[r] = 0;
  rg.n[r] = n;
  rg.flags[r] = MIGRATE_DEVMEM;
  rg.inGc[r] = 0;
  return r;
}
const notifs = new Pool();
/** Notifier fields by handle (nr: number of ranges). */
const nt = {
  index: new Float64Array(1024),
  start: new PageArray(1024),
  end: new PageArray(1024),
  nr: new Int32Array(1024),
};
/** Each notifier's ranges, sorted by start: an Int32Array of range handles (its capacity). */
const nR = [null];
const notifiers = mapNew();
function notifierNew(index) {
  const n = poolAlloc(notifs);
  if (n >= notifs.cap) {
    notifs.cap *= 2;
    growAll(nt, notifs.cap);
  }
  nt.index[n] = index;
  nt.start[n] = index * NOTIFIER_PAGES;
  nt.end[n] = index * NOTIFIER_PAGES + NOTIFIER_PAGES;
  nt.nr[n] = 0;
  if (n === nR.length) nR.push(new Int32Array(8));
  else nR[n] = new Int32Array(8);
  return n;
}
/** last_hit (a range handle, 0: NULL) and the GC list (gc_list, rs.ngc). */
const rs = { lastHit: 0, gcList: new Int32Array(16), ngc: 0 };
function nLb(n, page) {
  const r = nR[n];
  let lo = 0;
  let hi = nt.nr[n];
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (rg.end[r[m]] <= page) lo = m + 1;
    else hi = m;
  }
  return lo;
}
function nFind(n, s, e) {
  const i = nLb(n, s);
  if (i < nt.nr[n]) {
    const r = nR[n][i];
    if (rg.start[r] < e) return r;
  }
  return 0;
}
function rangeAt(page) {
  const n = mapGet(notifiers, Math.floor(page / NOTIFIER_PAGES));
  return n !== 0 ? nFind(n, page, page + 1) : 0;
}
function rangeValid(r) {
  return (rg.flags[r] & (PRESENT | INVALIDATED)) === PRESENT;
}

function invalidate(unmap, start, end) {
  const nlast = Math.floor((end - 1) / NOTIFIER_PAGES);
  for (let ni = Math.floor(start / NOTIFIER_PAGES); ni <= nlast; ni++) {
    const n = mapGet(notifiers, ni);
    if (n === 0) continue;
    const s = Math.max(start, nt.start[n]);
    const e = Math.min(end, nt.end[n]);
    const list = nR[n];
    const nr = nt.nr[n];
    let zapped = 0;
    const i0 = nLb(n, s);
    for (let i = i0; i < nr && rg.start[list[i]] < e; i++) {
      const r = list[i];
      if ((rg.flags[r] & (UNMAPPED | PRESENT | INVALIDATED)) === PRESENT) {
        rg.flags[r] |= INVALIDATED;
        zapped++;
        g[SVM_TLB_INVAL]++;
      }
    }
    if (zapped !== 0) g[TLB_INVAL]++;
    for (let i = i0; i < nr && rg.start[list[i]] < e; i++) {
      const r = list[i];
      let f = rg.flags[r] & ~(HAS_DMA | HAS_DEVMEM);
      rg.bo[r] = 0;
      if (unmap) {
        f |= UNMAPPED;
        if (rg.start[r] < start || rg.end[r] > end) f |= PARTIAL;
        if (rg.inGc[r] === 0) {
          rg.inGc[r] = 1;
          if (rs.ngc === rs.gcList.length) rs.gcList = grown(rs.gcList, rs.gcList.length * 2 + 16);
          rs.gcList[rs.ngc++] = r;
        }
      }
      rg.flags[r] = f;
    }
  }
}

function rangeRemove(r) {
  const n = rg.n[r];
  const i = nLb(n, rg.start[r]);
  nR[n].copyWithin(i, i + 1, nt.nr[n]);
  nt.nr[n]--;
  if (rs.lastHit === r) rs.lastHit = 0;
  poolFree(ranges, r);
  if (nt.nr[n] === 0) {
    mapDel(notifiers, nt.index[n]);
    nR[n] = null;
    poolFree(notifs, n);
  }
}
function gc() {
  for (let i = 0; i < rs.ngc; i++) {
    const r = rs.gcList[i];
    if ((rg.flags[r] & PRESENT) !== 0) {
      if (rangeValid(r)) g[TLB_INVAL]++;
      rg.flags[r] &= ~(PRESENT | INVALIDATED);
    }
    rangeRemove(r);
  }
  rs.ngc = 0;
}

/* ---------------------------------------------------------------- migration */
function migrateToRam(page) {
  const v = ptGet(page);
  if (v >= 0) return;
  const bo = V_BO ? bos[-v] : bt.byId[-v];
  const expiry = V_BO ? bo.expiry : bt.expiry[bo];
  if (jiffies() < expiry) {
    const until = expiry * 4000000; /* (expiry * 1e9 + HZ - 1) / HZ */
    if (until > g[NOW_NS]) g[NOW_NS] = until;
  }
  const vma = vmaLookup(page);
  const np = V_BO ? bo.npages : bt.npages[bo];
  let start = Math.floor(page / np) * np;
  let end = start + np;
  if (vma >= 0) {
    if (vm.s[vma] > start) start = vm.s[vma];
    if (vm.e[vma] < end) end = vm.e[vma];
  }
  invalidate(false, start, end);
  const n = ptReplace(start, end, v, PTE_SMEM);
  g[CPU_COPY_KB] += 4 * n;
  if (n !== 0) {
    const t = costCopy(n);
    g[CPU_COPY_US] += t;
    sized[bucket(end - start) * 8 + 7] += t;
  }
  g[MIG_RAM]++;
  g[PAGES_RAM] += n;
  if (V_BO) oboPagesFreed(bo, n);
  else boPagesFreed(bo, n);
}
/** `bo` is an id (typed) or a Bo (JSF_VARIANT=bo). */
function evictToRam(bo) {
  const pte = V_BO ? -bo.id : -bt.id[bo];
  let pages = 0;
  const bstart = V_BO ? bo.start : bt.start[bo];
  const bend = bstart + (V_BO ? bo.npages : bt.npages[bo]);
  for (let p = bstart; p < bend; p++)
    /* runs of this BO's PTEs */
    if (ptGet(p) === pte) {
      let q = p;
      for (;;) {
        /* extend the run: whole uniform blocks at once */
        if (q >= bend) break;
        const b = mapGet(pt, Math.floor(q / 512));
        if (b !== 0 && !dense(b) && bk.uniform[b] === pte && (q & 511) === 0 && q + 512 <= bend) {
          q += 512;
          continue;
        }
        if (ptGet(q) !== pte) break;
        q++;
      }
      const nlast = Math.floor((q - 1) / NOTIFIER_PAGES);
      for (let ni = Math.floor(p / NOTIFIER_PAGES); ni <= nlast; ni++) {
        const n = mapGet(notifiers, ni);
        if (n === 0) continue;
        for (let i = nLb(n, p); i < nt.nr[n] && rg.start[nR[n][i]] < q; i++) {
          const r = nR[n][i];
          invalidate(false, Math.max(p, rg.start[r]), Math.min(q, rg.end[r]));
        }
      }
      ptFill(p, q, PTE_SMEM);
      pages += q - p;
      p = q - 1;
    }
  g[CPU_COPY_KB] += 4 * pages;
  if (pages !== 0) g[CPU_COPY_US] += costCopy(pages);
  g[EVICTIONS]++;
  g[MIG_RAM]++;
  g[PAGES_RAM] += pages;
  if (V_BO) oboPagesFreed(bo, pages);
  else boPagesFreed(bo, pages);
}

/** CPU fault over [s, e) inside its VMA (svmsim faultSpan). */
function faultSpan(s, e, write, migrateDevice, cowNotifier) {
  for (let p = s; p < e; ) {
    const v = ptGet(p);
    let q = p + 1;
    const b = mapGet(pt, Math.floor(p / 512));
    if (b === 0 || !dense(b)) {
      /* uniform stretch */
      q = (Math.floor(p / 512) + 1) * 512;
      if (q > e) q = e;
    } else while (q < e && (q & 511) !== 0 && ptGet(q) === v) q++;
    if (v === PTE_NONE) {
      ptFill(p, q, write ? PTE_SMEM : PTE_ZERO);
      p = q;
      continue;
    }
    if (v < 0) {
      if (migrateDevice) {
        migrateToRam(p);
        continue;
      }
    } else if (v === PTE_ZERO && write) {
      const anyr = rangeAt(p) !== 0;
      if (cowNotifier && anyr)
        for (let x = p; x < q; x++) {
          invalidate(false, x, x + 1);
          ptFill(x, x + 1, PTE_SMEM);
        }
      else ptFill(p, q, PTE_SMEM);
    }
    p = q;
  }
}
function cpuAccess(s, e, write) {
  if (e === s + 1) {
    const v = ptGet(s);
    if ((v === PTE_SMEM || (v === PTE_ZERO && !write)) && vmaLookup(s) >= 0) return;
  }
  for (let p = s; p < e; ) {
    const v = vmaLookup(p);
    if (v < 0) return; /* SIGSEGV */
    const ve = Math.min(e, vm.e[v]);
    faultSpan(p, ve, write, true, true);
    p = ve;
  }
}

const CHUNKS = [512, 16, 1];
/** drm_gpusvm_range_find_or_insert + chunk choice; returns a range handle or 0. */
function rangeFindOrInsert(page) {
  const index = Math.floor(page / NOTIFIER_PAGES);
  let n = mapGet(notifiers, index);
  const fresh = n === 0;
  /* cfault callocs a fresh notifier here and frees it on failure: allocated below, on success */
  const ns = index * NOTIFIER_PAGES;
  const ne = ns + NOTIFIER_PAGES;
  const vma = vmaLookup(page);
  if (vma < 0) return 0;
  let r = fresh ? 0 : nFind(n, page, page + 1);
  if (r !== 0) return r;
  const vs = vm.s[vma];
  const ve = vm.e[vma];
  let c = 0;
  for (let i = 0; i < 3; i++) {
    const ch = CHUNKS[i];
    const cs = Math.floor(page / ch) * ch;
    const ce = cs + ch;
    if (cs < vs || ce > ve || cs < ns || ce > ne) continue;
    if (ch !== 1) {
      if (!fresh && nFind(n, cs, ce) !== 0) continue;
      if (ch <= 16) {
        ptSummarize(cs, ce);
        if (sum[S_NONE] !== 0) continue;
      }
    }
    c = ch;
    break;
  }
  if (c === 0) return 0;
  if (fresh) n = notifierNew(index);
  const start = Math.floor(page / c) * c;
  r = rangeNew(start, start + c, n);
  let list = nR[n];
  const nr = nt.nr[n];
  if (nr === list.length) nR[n] = list = grown(list, list.length * 2 + 8);
  const i = nLb(n, start);
  list.copyWithin(i + 1, i, nr);
  list[i] = r;
  nt.nr[n] = nr + 1;
  if (fresh) mapPut(notifiers, index, n);
  return r;
}

/** Returns 0 ok, -1 failed. */
function migrateToDevmem(bo, s, e, timesliceMs) {
  const vma = vmaLookup(s);
  if (vma < 0 || s < vm.s[vma] || e > vm.e[vma]) return -1;
  invalidate(false, s, e);
  const npages = e - s;
  ptSummarize(s, e);
  const cpages = npages - sum[S_DEVICE];
  if (cpages !== npages) return -1;
  const smem = sum[S_SMEM];
  g[DEV_COPY_KB] += 4 * smem;
  if (smem !== 0) {
    const t = costCopy(smem);
    g[DEV_COPY_US] += t;
    sized[bucket(npages) * 8 + 7] += t;
  }
  g[MIG_VRAM]++;
  g[PAGES_VRAM] += smem;
  const expiry = jiffies() + Math.floor((timesliceMs * HZ + 999) / 1000);
  if (V_BO) {
    ptFill(s, e, -bo.id);
    bo.resident = npages;
    bo.expiry = expiry;
  } else {
    ptFill(s, e, -bt.id[bo]);
    bt.resident[bo] = npages;
    bt.expiry[bo] = expiry;
  }
  return 0;
}

function getPages(r, devmemOnly) {
  if ((rg.flags[r] & (HAS_DEVMEM | HAS_DMA)) !== 0) return 0;
  const rs = rg.start[r];
  const re = rg.end[r];
  for (let p = rs; p < re; ) {
    const v = vmaLookup(p);
    if (v < 0) return -14;
    const e = Math.min(re, vm.e[v]);
    faultSpan(p, e, true, false, false);
    p = e;
  }
  if ((rg.flags[r] & UNMAPPED) !== 0) return -14;
  const first = ptGet(rs);
  ptSummarize(rs, re);
  if (first < 0) {
    if (sum[S_DEVICE] !== re - rs || sum[S_BO] < 0) return -95;
    rg.flags[r] |= HAS_DMA | HAS_DEVMEM;
    rg.bo[r] = -first;
    return 0;
  }
  if (devmemOnly) return -14;
  if (sum[S_DEVICE] > 0) return -95;
  rg.flags[r] |= HAS_DMA;
  return 0;
}

function rangeEvict(r) {
  const re = rg.end[r];
  for (let p = rg.start[r]; p < re; ) {
    const v = vmaLookup(p);
    if (v < 0) return;
    const e = Math.min(re, vm.e[v]);
    faultSpan(p, e, false, true, false);
    p = e;
  }
}

/** The BO at the head of the LRU (the coldest), 0 / the LRU head itself when empty. */
function evictUntilFits(np, mus) {
  if (V_BO) {
    while (g[USED_PAGES] + np > g[VRAM_PAGES] && lru.next !== lru) {
      mus += costCopy(lru.next.npages);
      evictToRam(lru.next);
    }
  } else {
    while (g[USED_PAGES] + np > g[VRAM_PAGES] && bt.next[0] !== 0) {
      mus += costCopy(bt.npages[bt.next[0]]);
      evictToRam(bt.next[0]);
    }
  }
  return mus;
}

function handlePagefault(page, atomic) {
  g[GPU_FAULTS]++;
  const devmemOnly = atomic; /* 6.18, dGPU, default atomic attribute */
  let timeslice = devmemOnly ? 5 : 0;
  let tries = devmemOnly ? 3 : 1;
  g[PAGEFAULT]++;
  let us = 10;
  let r = 0;
  for (let iter = 0; ; iter++) {
    if (iter > 64) return -1;
    if (rs.ngc !== 0) gc();
    r = rangeFindOrInsert(page);
    if (r === 0) return -1;
    const np = rg.end[r] - rg.start[r];
    const b = bucket(np) * 8;
    sized[b]++;
    if (rangeValid(r) && (!devmemOnly || (rg.flags[r] & HAS_DEVMEM) !== 0)) {
      sized[b + 1]++;
      break;
    }
    tries--;
    const attempt = tries >= 0 && (rg.flags[r] & (MIGRATE_DEVMEM | HAS_DEVMEM)) === MIGRATE_DEVMEM;
    if (attempt) {
      sized[b + 2]++;
      const mus = evictUntilFits(np, costCopy(np));
      let ok = false;
      if (g[USED_PAGES] + np <= g[VRAM_PAGES]) {
        if (V_BO) {
          const bo = oboCreate(rg.start[r], np);
          ok = migrateToDevmem(bo, rg.start[r], rg.end[r], timeslice) === 0;
          if (!ok) oboRelease(bo);
        } else {
          const bo = boCreate(rg.start[r], np);
          ok = migrateToDevmem(bo, rg.start[r], rg.end[r], timeslice) === 0;
          if (!ok) boRelease(bo);
        }
      }
      sized[b + 3] += mus;
      us += mus;
      timeslice *= 2;
      if (!ok) {
        if (tries > 0 || !devmemOnly) continue;
        return -1;
      }
    }
    const gp = getPages(r, devmemOnly);
    if (gp !== 0) {
      if (gp === -95) rangeEvict(r);
      timeslice *= 2;
      if (tries > 0 || !devmemOnly) continue;
      return -1;
    }
    sized[b + 4] += 20;
    sized[b + 5] += 4;
    us += 24;
    rg.flags[r] =
      (rg.flags[r] & ~(INVALIDATED | ATOMIC_ENABLE)) | PRESENT | ((rg.flags[r] & HAS_DEVMEM) !== 0 ? ATOMIC_ENABLE : 0);
    break;
  }
  sized[bucket(rg.end[r] - rg.start[r]) * 8 + 6] += us;
  return 0;
}

function gpuAccess(s, e, atomic) {
  for (let p = s; p < e; ) {
    let r =
      rs.lastHit !== 0 && rg.start[rs.lastHit] <= p && p < rg.end[rs.lastHit] && rangeValid(rs.lastHit)
        ? rs.lastHit
        : rangeAt(p);
    if (
      r !== 0 &&
      rangeValid(r) &&
      (rg.flags[r] & UNMAPPED) === 0 &&
      !(atomic && (rg.flags[r] & ATOMIC_ENABLE) === 0)
    ) {
      rs.lastHit = r;
      p = rg.end[r];
      continue;
    }
    if (handlePagefault(p, atomic) !== 0) return;
    r = rangeAt(p);
    p = rg.end[r];
  }
}

function doMunmap(s, e) {
  const i = vmaLb(s);
  if (!(i < vm.n && vm.s[i] < e)) return;
  invalidate(true, s, e);
  /* zap PTEs: drop device-page references per BO */
  if (V_BLOCKWISE) zapBlockwise(s, e);
  else
    for (let p = s; p < e; p++) {
      const idx = Math.floor(p / 512);
      const b = mapGet(pt, idx);
      if (b === 0) {
        p = idx * 512 + 511;
        continue;
      }
      const a = blkPte[b];
      const v = V_PTPOOL
        ? bk.off[b] >= 0
          ? bk.ptes[bk.off[b] + (p & 511)]
          : bk.uniform[b]
        : a !== null
          ? a[p & 511]
          : bk.uniform[b];
      if (v < 0) {
        if (V_BO) oboPagesFreed(bos[-v], 1);
        else boPagesFreed(bt.byId[-v], 1);
      }
    }
  ptFill(s, e, PTE_NONE);
  vmaRemove(s, e);
  if (rs.ngc !== 0) gc();
}

/** JSF_VARIANT=blockwise: do_munmap's zap with one lookup per 2M block instead of one per page. */
function zapBlockwise(s, e) {
  for (let p = s; p < e; ) {
    const idx = Math.floor(p / 512);
    const base = idx * 512;
    const hi = Math.min(e, base + 512);
    const b = mapGet(pt, idx);
    if (b !== 0) {
      const a = blkPte[b];
      if (a !== null) {
        for (let q = p - base; q < hi - base; q++) if (a[q] < 0) boPagesFreed(bt.byId[-a[q]], 1);
      } else if (bk.uniform[b] < 0) boPagesFreed(bt.byId[-bk.uniform[b]], hi - p);
    }
    p = hi;
  }
}

/* ---------------------------------------------------------------- trace reader (untimed) */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;
/** buf[s, e) == name (cfault: memcmp of the op name). */
function sameBytes(buf, s, e, name) {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[s + i] !== name[i]) return false;
  return true;
}
/** The trace as typed arrays: t, page, npages (doubles), op (byte). Same rules as cfault's load(). */
function load(file) {
  const buf = readFileSync(file);
  const len = buf.length;
  let cap = 1 << 20;
  let n = 0;
  let evT = new Float64Array(cap);
  let evPage = new Float64Array(cap);
  let evNpages = new Float64Array(cap);
  let evOp = new Int8Array(cap);
  let header = true;
  const opBytes = OPNAMES.map((s) => Buffer.from(s));
  for (let p = 0; p < len; ) {
    let nl = buf.indexOf(10, p);
    if (nl < 0) nl = len;
    if (buf[p] === 35 /* # */) {
      const v = buf.subarray(p, nl).indexOf('vram=');
      if (v >= 0) {
        let x = 0;
        for (let q = p + v + 5; buf[q] >= 48 && buf[q] <= 57; q++) x = x * 10 + buf[q] - 48;
        g[VRAM_PAGES] = Math.floor(x / 4096);
      }
      p = nl + 1;
      continue;
    }
    if (header) {
      header = false;
      p = nl + 1;
      continue;
    }
    if (n === cap) {
      cap *= 2;
      evT = grown(evT, cap);
      evPage = grown(evPage, cap);
      evNpages = grown(evNpages, cap);
      evOp = grown(evOp, cap);
    }
    let t = 0;
    while (buf[p] !== 44) t = t * 10 + (buf[p++] - 48);
    const os = ++p;
    while (buf[p] !== 44) p++;
    let op = -1;
    for (let k = 0; k < OPNAMES.length; k++) if (sameBytes(buf, os, p, opBytes[k])) op = k;
    p += 3;
    let a = 0;
    while (buf[p] !== 44) a = a * 16 + HEX[buf[p++]];
    p++;
    let sz = 0;
    if (buf[p] === 48) {
      p += 2;
      while (p < nl && buf[p] !== 13) sz = sz * 16 + HEX[buf[p++]];
    }
    evT[n] = t;
    evPage[n] = Math.floor(a / 4096);
    evNpages[n] = sz !== 0 ? Math.floor(((a % 4096) + sz + 4095) / 4096) : 0;
    evOp[n] = op;
    n++;
    p = nl + 1;
  }
  return { n, evT, evPage, evNpages, evOp };
}

/** The replay loop (timed by main). Returns -1, or the index of an event with an unknown op. */
function run(n, evT, evPage, evNpages, evOp) {
  for (let i = 0; i < n; i++) {
    if (evT[i] > g[NOW_NS]) g[NOW_NS] = evT[i];
    const s = evPage[i];
    const np = evNpages[i];
    const end = s + (np > 0 ? np : 1);
    switch (evOp[i]) {
      case MMAP:
        doMunmap(s, end);
        vmaInsert(s, end);
        break;
      case MUNMAP:
        doMunmap(s, end);
        break;
      case CPU_READ:
        cpuAccess(s, end, false);
        break;
      case CPU_WRITE:
        cpuAccess(s, end, true);
        break;
      case GPU_READ:
      case GPU_WRITE:
        gpuAccess(s, end, false);
        break;
      case GPU_ATOMIC:
        gpuAccess(s, end, true);
        break;
      default:
        return i;
    }
  }
  return -1;
}

function main() {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: jsfault TRACE.csv\n');
    process.exit(2);
  }
  const ev = load(file);
  if (V_SMI) {
    /* Rebase to the lowest notifier so that page numbers fit a Smi (block and notifier alignment kept). */
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < ev.n; i++) {
      if (ev.evPage[i] < min) min = ev.evPage[i];
      if (ev.evPage[i] + ev.evNpages[i] > max) max = ev.evPage[i] + ev.evNpages[i];
    }
    const base = Math.floor(min / NOTIFIER_PAGES) * NOTIFIER_PAGES;
    if (max - base >= 2 ** 30) {
      process.stderr.write('jsfault: JSF_VARIANT=smi needs the trace within 4T of address space\n');
      process.exit(2);
    }
    for (let i = 0; i < ev.n; i++) ev.evPage[i] -= base;
    ev.evPage = Int32Array.from(ev.evPage);
    ev.evNpages = Int32Array.from(ev.evNpages);
  }
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const bad = run(ev.n, ev.evT, ev.evPage, ev.evNpages, ev.evOp);
  const c1 = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  if (bad >= 0) {
    process.stderr.write(`unsupported op at event ${bad}\n`);
    process.exit(2);
  }
  const sec = (c1.user + c1.system) / 1e6;
  const pf = g[PAGEFAULT];
  process.stdout.write(
    `{"events":${ev.n},"model_wall_s":${wall.toFixed(4)},"model_cpu_s":${sec.toFixed(4)},` +
      `"ns_per_event":${((sec * 1e9) / ev.n).toFixed(1)},"ns_per_fault":${(pf ? (sec * 1e9) / pf : 0).toFixed(1)},` +
      `"svm_pagefault_count":${pf},"tlb_inval_count":${g[TLB_INVAL]},"svm_tlb_inval_count":${g[SVM_TLB_INVAL]},` +
      `"svm_device_copy_kb":${g[DEV_COPY_KB]},"svm_cpu_copy_kb":${g[CPU_COPY_KB]},"migrationsToVram":${g[MIG_VRAM]},` +
      `"migrationsToRam":${g[MIG_RAM]},"evictions":${g[EVICTIONS]}}\n`,
  );
}
main();
