/**
 * DrmPagemap's BO table (drm-pagemap/pagemap.ts BoTable: open addressing by BO id with
 * backward-shift deletion, allocation order in an intrusive list) against a Map, the structure it
 * replaced: random create/release sequences with thousands of live BOs (table growth, long probe
 * runs, deletions in the middle of runs), then every id looked up and the LRU order compared.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { BoTable, DevmemBo } from '../../src/core/drm-pagemap/pagemap.js';

const RUNS = Math.max(10, Math.round(Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 10));

describe('BoTable = Map in allocation order (fast-check)', () => {
  test('get, has, size, values() and the oldest BO after random creates and releases', () => {
    const op = fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 40 }) }), fc.record({ del: fc.nat() }));
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops) => {
        const t = new BoTable();
        const m = new Map<number, DevmemBo>();
        let next = 1;
        for (const o of ops) {
          if ('add' in o) {
            for (let k = 0; k < o.add * 10; k++) {
              const bo = new DevmemBo(next++, next * 512, 512, 1);
              t.add(bo);
              m.set(bo.id, bo);
            }
          } else if (m.size > 0) {
            // Release a run of BOs from a random point (middles of probe runs, not only the oldest).
            const live = [...m.keys()];
            for (let k = o.del % live.length; k < live.length; k += 3) {
              expect(t.delete(live[k])).toBe(true);
              m.delete(live[k]);
            }
            expect(t.delete(live[o.del % live.length])).toBe(false);
          }
          expect(t.size).toBe(m.size);
          expect(t.head ?? undefined).toBe(m.values().next().value);
        }
        expect([...t.values()]).toEqual([...m.values()]);
        for (let id = 1; id < next; id++) {
          expect(t.get(id)).toBe(m.get(id));
          expect(t.has(id)).toBe(m.has(id));
        }
      }),
      { numRuns: RUNS, seed: 16 },
    );
  });
});
