/**
 * DrmPagemap's BOs (drm-pagemap/pagemap.ts: slots in typed-array columns with a free list, found
 * by id in an open-addressing table with backward-shift deletion, allocation order in a linked
 * list of slots) against a Map of BO objects, the structure they replaced: random create/release
 * sequences with thousands of live BOs (table and column growth, long probe runs, deletions in
 * the middle of runs, slots reused), then every id looked up, every live BO's fields and the LRU
 * order compared.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DrmPagemap, NO_BO } from '../../src/core/drm-pagemap/pagemap.js';
import { drmPagemapPagemapOps } from '../../src/core/drm-pagemap/migrate.js';
import { xeDrmPagemapOps, xeSvmDevmemOps } from '../../src/core/xe-svm/migrate.js';

const RUNS = Math.max(10, Math.round(Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 10));

interface Bo {
  id: number;
  start: number;
  npages: number;
  pid: number;
}

describe('DrmPagemap BOs = Map in allocation order (fast-check)', () => {
  test('find, size, fields, values() and the oldest BO after random creates and releases', () => {
    const op = fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 40 }) }), fc.record({ del: fc.nat() }));
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (ops) => {
        const pm = new DrmPagemap(2 ** 30, drmPagemapPagemapOps, xeSvmDevmemOps, xeDrmPagemapOps);
        const m = new Map<number, Bo>();
        let next = 1;
        let used = 0;
        for (const o of ops) {
          if ('add' in o) {
            for (let k = 0; k < o.add * 10; k++) {
              const b: Bo = { id: next, start: 0x7f0000000 + next * 512, npages: k % 2 ? 512 : 16, pid: 1 + (k % 3) };
              next++;
              const slot = pm.create(b.start, b.npages, b.pid);
              expect(pm.boId[slot]).toBe(b.id);
              m.set(b.id, b);
              used += b.npages;
            }
          } else if (m.size > 0) {
            // Release a run of BOs from a random point (middles of probe runs, not only the oldest).
            const live = [...m.keys()];
            for (let k = o.del % live.length; k < live.length; k += 3) {
              pm.release(pm.get(live[k]));
              used -= m.get(live[k])!.npages;
              m.delete(live[k]);
            }
            expect(pm.find(live[o.del % live.length])).toBe(NO_BO);
          }
          expect(pm.size).toBe(m.size);
          expect(pm.usedPages).toBe(used);
          const head = pm.lru();
          expect(head === NO_BO ? undefined : pm.boId[head]).toBe(m.values().next().value?.id);
        }
        expect([...pm.values()].map((s) => pm.boId[s])).toEqual([...m.keys()]);
        for (let id = 1; id < next; id++) {
          const b = m.get(id);
          const s = pm.find(id);
          if (b === undefined) {
            expect(s).toBe(NO_BO);
            continue;
          }
          expect([pm.boId[s], pm.boStart[s], pm.boNpages[s], pm.boPid[s]]).toEqual([b.id, b.start, b.npages, b.pid]);
        }
      }),
      { numRuns: RUNS, seed: 16 },
    );
  });
});
