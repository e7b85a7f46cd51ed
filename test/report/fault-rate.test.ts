/**
 * FaultRate (src/report/perfetto.ts), the "GPU faults per ms" counter track of `--format perfetto`:
 * counted one bucket at a time instead of a Map of every bucket until the end (which grew with the
 * trace's duration). Against that Map: the same (bucket, count) pairs in bucket order, with a 0 after
 * each bucket whose successor has no fault; and nothing held back: a bucket is out once a later one
 * starts, so the state is one bucket whatever the trace length.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FaultRate } from '../../src/report/perfetto.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 3;

/** The former end-of-replay computation: every bucket in a Map, sorted at the end. */
function viaMap(buckets: number[]): [number, number][] {
  const m = new Map<number, number>();
  for (const b of buckets) m.set(b, (m.get(b) ?? 0) + 1);
  const out: [number, number][] = [];
  for (const b of [...m.keys()].sort((x, y) => x - y)) {
    out.push([b, m.get(b)!]);
    if (!m.has(b + 1)) out.push([b + 1, 0]);
  }
  return out;
}

describe('FaultRate', () => {
  test('hand-worked: faults in ms 0, 0, 1, 4 -> (0,2) (1,1) (2,0) (4,1) (5,0)', () => {
    const out: [number, number][] = [];
    const r = new FaultRate((b, n) => out.push([b, n]));
    for (const b of [0, 0, 1, 4]) r.bump(b);
    r.finish();
    expect(out).toEqual([
      [0, 2],
      [1, 1],
      [2, 0],
      [4, 1],
      [5, 0],
    ]);
  });

  test('no faults: nothing', () => {
    const out: number[] = [];
    const r = new FaultRate((b) => out.push(b));
    r.finish();
    expect(out).toEqual([]);
  });

  test('same counters as a Map of every bucket, for any non-decreasing buckets', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 300 }), (xs) => {
        const buckets = [...xs].sort((a, b) => a - b);
        const out: [number, number][] = [];
        const r = new FaultRate((b, n) => out.push([b, n]));
        for (const b of buckets) r.bump(b);
        r.finish();
        expect(out).toEqual(viaMap(buckets));
      }),
      { numRuns: RUNS },
    );
  });

  test('bounded: over 1M faults in 200K buckets, only the current bucket is pending', () => {
    let emitted = 0;
    let lastOut = -1;
    const r = new FaultRate((b, n) => {
      emitted += n;
      lastOut = Math.max(lastOut, b);
    });
    let worst = 0;
    let lagging = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const b = Math.floor(i / 5);
      r.bump(b);
      // Everything before the current bucket is already out: only its own count is held.
      worst = Math.max(worst, i + 1 - emitted);
      if (b > 0 && lastOut < b - 1) lagging++;
    }
    expect(worst).toBe(5);
    expect(lagging).toBe(0);
    r.finish();
    expect(emitted).toBe(1_000_000);
    expect(lastOut).toBe(200_000); // the 0 after the last bucket
  });

  test('a bucket before the current one is a broken invariant (time never goes back)', () => {
    const r = new FaultRate(() => {});
    r.bump(3);
    expect(() => r.bump(2)).toThrow(/time went back/);
  });
});
