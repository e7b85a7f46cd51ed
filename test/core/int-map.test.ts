/**
 * IntMap (src/core/mm/int-map.ts), the page table's block index and drm_gpusvm's notifier index,
 * against the built-in Map on random set/delete/get sequences: same size, same lookups, same
 * entries (as sets: IntMap iterates in table order), through growth, shrinking and the
 * backward-shift deletion of colliding keys.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IntMap } from '../../src/core/mm/int-map.js';

describe('IntMap', () => {
  test('agrees with Map on random set/delete/get sequences (keys up to 2^40, clustered and spread)', () => {
    const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 40 }));
    const op = fc.tuple(fc.constantFrom('set', 'delete', 'get'), key, fc.integer());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const m = new IntMap<number>();
        const ref = new Map<number, number>();
        for (const [kind, k, v] of ops) {
          if (kind === 'set') {
            m.set(k, v);
            ref.set(k, v);
          } else if (kind === 'delete') expect(m.delete(k)).toBe(ref.delete(k));
          else expect(m.get(k)).toBe(ref.get(k));
          expect(m.size).toBe(ref.size);
        }
        for (const [k, v] of ref) {
          expect(m.has(k)).toBe(true);
          expect(m.get(k)).toBe(v);
        }
        const byKey = (a: [number, number], b: [number, number]) => a[0] - b[0];
        expect([...m].sort(byKey)).toEqual([...ref].sort(byKey));
        expect([...m.keys()].sort((a, b) => a - b)).toEqual([...ref.keys()].sort((a, b) => a - b));
        expect([...m.values()].sort((a, b) => a - b)).toEqual([...ref.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  test('grows to 10^5 keys and shrinks back to empty, every key found until deleted', () => {
    const m = new IntMap<number>();
    const base = 0x7f0000000 / 512;
    for (let i = 0; i < 100_000; i++) m.set(base + i * 3, i);
    expect(m.size).toBe(100_000);
    for (let i = 0; i < 100_000; i += 7) expect(m.get(base + i * 3)).toBe(i);
    for (let i = 0; i < 100_000; i++) expect(m.delete(base + i * 3)).toBe(true);
    expect(m.size).toBe(0);
    expect([...m]).toEqual([]);
    expect(m.get(base)).toBeUndefined();
  });
});
