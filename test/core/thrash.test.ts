/**
 * ThrashTracker (src/core/metrics.ts), the model of NVIDIA UVM's thrashing detector
 * (uvm_perf_thrashing): memory follows the ranges migrating within the window, so every 65,536
 * migrations the tracks that can neither continue a streak nor report one are dropped.
 */
import { describe, expect, test } from 'vitest';
import { ThrashTracker } from '../../src/core/metrics.js';

const PRUNE_EVERY = 65_536;

describe('ThrashTracker pruning (uvm_perf_thrashing)', () => {
  test('the 65,536th migration drops tracks older than the window without a verdict; keeps verdicts and recent tracks', () => {
    const t = new ThrashTracker({ threshold: 3, windowNs: 500_000 });
    let n = 0;
    const mig = (start: number, to: 'vram' | 'ram', ns: number) => {
      t.migrated(start, 512, to, 512, n, ns);
      n++;
    };
    // C: VRAM, then 3 round trips 1 ns apart: moves 7, cycles floor(6 / 2) = 3 → a verdict
    for (let i = 0; i < 7; i++) mig(0x1000, i % 2 === 0 ? 'vram' : 'ram', i);
    // A: one migration at 10 ns
    mig(0x2000, 'vram', 10);
    // E_i: one migration each at 10 ms, until 65,534 migrations in all
    for (let s = 0x10000; n < PRUNE_EVERY - 2; s += 0x200) mig(s, 'vram', 10_000_000);
    // D: one migration at 10.1 ms
    mig(0x3000, 'vram', 10_100_000);
    expect(n).toBe(PRUNE_EVERY - 1);
    expect(t.size).toBe(1 + 1 + (PRUNE_EVERY - 10) + 1); // C, A, the E_i, D
    // the 65,536th, F at 10.6 ms, sweeps first: A (gap 10.6 ms) and every E_i (gap 600 us) are older
    // than the 500 us window; D's gap is exactly the window (kept: only older is stale); C has a verdict
    mig(0x4000, 'vram', 10_600_000);
    expect(t.size).toBe(3); // C, D, F
    expect(t.verdicts()).toEqual([
      { start: 0x1000, npages: 512, cycles: 3, bytes: 7n * 512n * 4096n, events: [0, 1, 2, 3, 4, 5, 6] },
    ]);
    // D's streak survived the sweep: its next move within the window continues it (moves 2)
    mig(0x3000, 'ram', 10_600_000);
    mig(0x3000, 'vram', 10_600_001);
    mig(0x3000, 'ram', 10_600_002);
    mig(0x3000, 'vram', 10_600_003);
    mig(0x3000, 'ram', 10_600_004);
    mig(0x3000, 'vram', 10_600_005);
    // moves 7 → cycles 3: a verdict whose streak starts with the move before the sweep
    expect(t.verdicts().map((v) => [v.start, v.cycles, v.events[0]])).toEqual([
      [0x1000, 3, 0],
      [0x3000, 3, PRUNE_EVERY - 2],
    ]);
  });

  test('the next sweep comes 65,536 migrations later', () => {
    const t = new ThrashTracker({ threshold: 3, windowNs: 500_000 });
    for (let i = 0; i < PRUNE_EVERY - 1; i++) t.migrated(i * 512, 512, 'vram', 512, i, 0);
    expect(t.size).toBe(PRUNE_EVERY - 1);
    t.migrated(0x7fff0000, 512, 'vram', 512, PRUNE_EVERY - 1, 1_000_000); // sweep: all stale
    expect(t.size).toBe(1);
    for (let i = 0; i < PRUNE_EVERY - 1; i++) t.migrated(i * 512, 512, 'vram', 512, i, 2_000_000);
    expect(t.size).toBe(PRUNE_EVERY); // no sweep in between
    t.migrated(0x7fff1000, 512, 'vram', 512, 0, 2_000_000 + 500_000); // sweep at exactly the window: nothing stale
    expect(t.size).toBe(PRUNE_EVERY); // the first sweep's survivor went (gap 1.5 ms), F joined
  });
});
