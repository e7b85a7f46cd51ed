/**
 * The thrashing detector's fast path (metrics.ts ThrashTracker: an open-addressing table keyed by
 * allocation start, verdicts kept as numbers and built at the end) against the straightforward
 * one it replaced (test/reference/core-baseline/metrics.ts: a Map of tracks, a verdict object per
 * improvement). Random traces of the model rarely hold more than a few allocations; here the
 * sequences reach hundreds of starts (table growth), starts above 2^32 pages' low bits (hashing
 * of doubles), streaks broken and resumed (verdicts that must not see later events) and more than
 * 65,536 migrations (the sweep of stale tracks, which rebuilds the table).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ThrashTracker } from '../../src/core/metrics.js';
import { ThrashTracker as PlainThrashTracker } from '../reference/core-baseline/metrics.js';

const RUNS = Math.max(4, Math.round(Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 30));

/** A deterministic migration sequence from a seed: `n` migrations over `starts` allocations. */
function* migrations(seed: number, n: number, starts: number, gapNs: number) {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const base = [0x7f0000000, 0x1_0000_0000_0, 2 ** 36 - 512 * starts, 3];
  let t = 0;
  const dir = new Map<number, 'vram' | 'ram'>();
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * rnd() * starts); // skewed: a few hot allocations
    const start = base[k % base.length] + k * 512;
    const npages = rnd() < 0.9 ? 512 : 16;
    // Mostly alternating directions (streaks), sometimes the same direction twice (a break).
    const last = dir.get(start);
    const to = last === undefined ? 'vram' : rnd() < 0.93 ? (last === 'vram' ? 'ram' : 'vram') : last;
    dir.set(start, to);
    t += Math.floor(rnd() * gapNs);
    yield { start, npages, to, pages: Math.floor(rnd() * (npages + 1)), seq: i, t };
  }
}

function compare(seed: number, n: number, starts: number, gapNs: number, opts = { threshold: 3, windowNs: 500_000 }) {
  const fast = new ThrashTracker(opts);
  const plain = new PlainThrashTracker(opts);
  // migratedAlloc(): the allocation keeps its track's index; a migration to VRAM makes a new allocation
  // (a new BO) with an empty slot, as drm-pagemap does; the track must survive or be re-found
  // across sweeps exactly as the lookup by start finds it.
  // The allocations are rows of columns, as drm-pagemap keeps its BOs (a slot per allocation).
  const viaAlloc = new ThrashTracker(opts);
  const cols = { boStart: new Float64Array(n + 1), boNpages: new Int32Array(n + 1), boThrash: new Int32Array(n + 1) };
  let slots = 0;
  const allocs = new Map<number, number>();
  for (const m of migrations(seed, n, starts, gapNs)) {
    fast.migrated(m.start, m.npages, m.to, m.pages, m.seq, m.t);
    plain.migrated(m.start, m.npages, m.to, m.pages, m.seq, m.t);
    let a = allocs.get(m.start);
    if (a === undefined || m.to === 'vram' || cols.boNpages[a] !== m.npages) {
      a = ++slots;
      cols.boStart[a] = m.start;
      cols.boNpages[a] = m.npages;
      cols.boThrash[a] = -1;
      allocs.set(m.start, a);
    }
    viaAlloc.migratedAlloc(cols, a, m.to === 'vram', m.pages, m.seq, m.t);
  }
  const v = plain.verdicts();
  expect(fast.verdicts()).toEqual(v);
  expect(fast.size).toBe(plain.size);
  expect(viaAlloc.verdicts()).toEqual(v);
  expect(viaAlloc.size).toBe(plain.size);
  verdicts += v.length;
  pruned ||= plain.size < new Set([...migrations(seed, n, starts, gapNs)].map((m) => m.start)).size;
}
let verdicts = 0;
let pruned = false;

describe('ThrashTracker (fast) = the Map-based tracker (fast-check)', () => {
  test('verdicts and tracked ranges on short sequences over many allocations', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 400_000 }),
        fc.integer({ min: 1, max: 4 }),
        (seed, starts, n, gap, threshold) => compare(seed, n, starts, gap, { threshold, windowNs: 500_000 }),
      ),
      { numRuns: RUNS * 10, seed: 14 },
    );
  });

  test('across the sweep of stale tracks (more than 65,536 migrations): verdicts and tracked ranges equal', () => {
    verdicts = 0;
    pruned = false;
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 50, max: 3000 }),
        fc.integer({ min: 10_000, max: 2_000_000 }),
        (seed, starts, gap) => compare(seed, 140_000, starts, gap),
      ),
      { numRuns: RUNS, seed: 15 },
    );
    // Not vacuous: these sequences (this test's alone) did produce verdicts and sweep tracks away.
    expect(verdicts).toBeGreaterThan(0);
    expect(pruned).toBe(true);
  });
});

/** The tracker's columns and table (private: their identity shows a reallocation). */
const storage = (t: ThrashTracker) => {
  const s = t as unknown as { tStart: Float64Array; slots: Int32Array; keys: Float64Array };
  return { start: s.tStart, slots: s.slots, keys: s.keys };
};

describe('ThrashTracker sweeps keep their storage while the same allocations migrate again', () => {
  /** `rounds` × 65,536 migrations over `starts` allocations, one after the other, 1 ms apart. */
  function run(t: ThrashTracker, plain: PlainThrashTracker, seq0: number, starts: number, n: number) {
    for (let i = 0; i < n; i++) {
      const seq = seq0 + i;
      const start = 0x7f0000000 + (i % starts) * 512;
      const to = Math.floor(i / starts) % 2 === 0 ? 'vram' : 'ram';
      t.migrated(start, 512, to, 512, seq, seq * 1_000_000);
      plain.migrated(start, 512, to, 512, seq, seq * 1_000_000);
    }
    return seq0 + n;
  }

  test('2,048 allocations migrated over and over: no reallocation after the first sweep, the same verdicts', () => {
    const opts = { threshold: 3, windowNs: 500_000 };
    const t = new ThrashTracker(opts);
    const plain = new PlainThrashTracker(opts);
    let seq = run(t, plain, 0, 2048, 65_536 + 10);
    const first = storage(t);
    seq = run(t, plain, seq, 2048, 4 * 65_536);
    expect(storage(t)).toEqual(first);
    const now = storage(t);
    expect(now.start).toBe(first.start);
    expect(now.slots).toBe(first.slots);
    expect(now.keys).toBe(first.keys);
    expect(t.verdicts()).toEqual(plain.verdicts());
    expect(t.size).toBe(plain.size);
  });

  test('a burst of allocations that does not come back is released at the next sweeps', () => {
    const opts = { threshold: 3, windowNs: 500_000 };
    const t = new ThrashTracker(opts);
    const plain = new PlainThrashTracker(opts);
    let seq = run(t, plain, 0, 30_000, 65_536);
    const burst = storage(t).start.length;
    expect(burst).toBeGreaterThanOrEqual(32_768);
    seq = run(t, plain, seq, 16, 3 * 65_536);
    expect(storage(t).start.length).toBeLessThanOrEqual(64);
    expect(storage(t).slots.length).toBeLessThanOrEqual(64);
    expect(t.verdicts()).toEqual(plain.verdicts());
    expect(t.size).toBe(plain.size);
  });
});
