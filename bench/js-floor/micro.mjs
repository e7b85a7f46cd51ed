#!/usr/bin/env node
/**
 * Two micro-benchmarks behind the findings of jsfault.mjs (a measuring stick, not part of the
 * product; bench/results.md, "JS port of the C floor"). CPU ns per iteration, fastest of 3.
 *
 *   node bench/js-floor/micro.mjs
 *
 * 1. Where a hot typed array is held: a module-level `let` (reassignable, so TurboFan reloads it
 *    and checks its TDZ hole and map on every access), a module-level `const`, a field of a const
 *    object (what a class instance's `this.keys` is), or a local/parameter.
 * 2. The CPU page-table walk of cfault's do_munmap over 4.6M pages in 9,000 2M blocks: one
 *    open-addressing hash lookup per page (cfault's algorithm) with block keys as doubles (page
 *    numbers >= 2^31, as in the traces) or as Smis (rebased), and one lookup per block.
 */

const N = 5e7;
/** Results are summed here and printed, so that no loop is dead code. */
let sink = 0;
const best = (f) => {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const t = process.cpuUsage();
    sink += f();
    const u = process.cpuUsage(t);
    min = Math.min(min, u.user + u.system);
  }
  return min;
};

// 1. where the typed array lives
let aLet = new Int32Array(4096);
let bLet = new Int32Array(4096);
const aConst = new Int32Array(4096);
const bConst = new Int32Array(4096);
const holder = { a: new Int32Array(4096), b: new Int32Array(4096) };
for (let i = 0; i < 4096; i++) {
  aConst[i] = holder.a[i] = (i * 7) & 4095;
  bConst[i] = holder.b[i] = i;
}
aLet = aConst.slice();
bLet = bConst.slice();
// One loop per holder (a shared loop taking the accessor would be polymorphic).
function loopLet() {
  let s = 0;
  for (let i = 0; i < N; i++) s += aLet[bLet[i & 4095]] + aLet[bLet[(i * 3) & 4095]];
  return s;
}
function loopConst() {
  let s = 0;
  for (let i = 0; i < N; i++) s += aConst[bConst[i & 4095]] + aConst[bConst[(i * 3) & 4095]];
  return s;
}
function loopField() {
  let s = 0;
  for (let i = 0; i < N; i++) s += holder.a[holder.b[i & 4095]] + holder.a[holder.b[(i * 3) & 4095]];
  return s;
}
function loopLocal(a, b) {
  let s = 0;
  for (let i = 0; i < N; i++) s += a[b[i & 4095]] + a[b[(i * 3) & 4095]];
  return s;
}
const out = [];
out.push(['typed array in a module let', best(loopLet)]);
out.push(['typed array in a module const', best(loopConst)]);
out.push(['typed array in an object field', best(loopField)]);
out.push(['typed array in a local', best(() => loopLocal(aConst, bConst))]);
for (const [name, us] of out)
  process.stdout.write(`${name.padEnd(44)} ${((us * 1000) / (2 * N)).toFixed(2)} ns/access\n`);

// 2. per-page hash lookups vs per-block
const CAP = 1 << 16;
const MASK = CAP - 1;
const keysF = new Float64Array(CAP);
const keysI = new Int32Array(CAP);
const vals = new Int32Array(CAP);
const valsI = new Int32Array(CAP);
const hsh = (k) => {
  const h = Math.imul((k | 0) ^ Math.imul((k / 4294967296) | 0, 0x27d4eb2d), 0x9e3779b1);
  return h ^ (h >>> 15);
};
function getF(k) {
  for (let i = hsh(k) & MASK; ; i = (i + 1) & MASK) {
    const v = vals[i];
    if (v === 0) return 0;
    if (keysF[i] === k) return v;
  }
}
function getI(k) {
  for (let i = hsh(k) & MASK; ; i = (i + 1) & MASK) {
    const v = valsI[i];
    if (v === 0) return 0;
    if (keysI[i] === k) return v;
  }
}
const BLOCKS = 9000;
const baseF = 0x7f0000000; // page number of 0x7f0000000000
const uniform = new Int32Array(BLOCKS + 1);
const ptes = new Int32Array((BLOCKS + 1) * 512);
const dense = new Uint8Array(BLOCKS + 1);
for (let b = 1; b <= BLOCKS; b++) {
  for (let i = hsh(baseF / 512 + b) & MASK; ; i = (i + 1) & MASK)
    if (vals[i] === 0) {
      keysF[i] = baseF / 512 + b;
      vals[i] = b;
      break;
    }
  for (let i = hsh(b) & MASK; ; i = (i + 1) & MASK)
    if (valsI[i] === 0) {
      keysI[i] = b;
      valsI[i] = b;
      break;
    }
  uniform[b] = 2;
  if (b % 2) {
    dense[b] = 1;
    ptes.fill(-3, b * 512, b * 512 + 512);
  }
}
const pte = (b, off) => (dense[b] !== 0 ? ptes[b * 512 + off] : uniform[b]);
// Separate copies per key representation, so that each loop stays monomorphic.
function perPageF(s, e) {
  let c = 0;
  for (let p = s; p < e; p++) {
    const idx = Math.floor(p / 512);
    const b = getF(idx);
    if (b === 0) {
      p = idx * 512 + 511;
      continue;
    }
    if (pte(b, p & 511) < 0) c++;
  }
  return c;
}
function perPageI(s, e) {
  let c = 0;
  for (let p = s; p < e; p++) {
    const idx = p >> 9;
    const b = getI(idx);
    if (b === 0) {
      p = idx * 512 + 511;
      continue;
    }
    if (pte(b, p & 511) < 0) c++;
  }
  return c;
}
function perBlockF(s, e) {
  let c = 0;
  for (let p = s; p < e; ) {
    const idx = Math.floor(p / 512);
    const hi = Math.min(e, idx * 512 + 512);
    const b = getF(idx);
    if (b !== 0) {
      if (dense[b] !== 0) {
        for (let q = p; q < hi; q++) if (ptes[b * 512 + (q & 511)] < 0) c++;
      } else if (uniform[b] < 0) c += hi - p;
    }
    p = hi;
  }
  return c;
}
const pages = 512 * (BLOCKS - 1);
const walk = [
  ['per page, keys as doubles (cfault algorithm)', () => perPageF(baseF + 512, baseF + 512 * BLOCKS)],
  ['per page, keys as Smis (rebased)', () => perPageI(512, 512 * BLOCKS)],
  ['per 2M block, keys as doubles', () => perBlockF(baseF + 512, baseF + 512 * BLOCKS)],
];
for (const [name, f] of walk) {
  const us = best(() => {
    let c = 0;
    for (let r = 0; r < 10; r++) c += f();
    return c;
  });
  process.stdout.write(`${name.padEnd(44)} ${((us * 1000) / (10 * pages)).toFixed(2)} ns/page\n`);
}
process.stdout.write(`(checksum ${sink})\n`);
