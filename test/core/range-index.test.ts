/**
 * The compact structures of issue 12: the range's packed fields (xe_svm_range_alloc), the per-notifier
 * slot index behind drm_gpusvm_range_find(), and the optimised core against the straightforward
 * one on traces that grow large range sets of 4K and 64K ranges across 2M slots and notifier
 * boundaries (the 8 MiB traces of optimised-vs-plain.test.ts rarely hold more than a few ranges),
 * and partial-block fills of the CPU page table.
 *
 * Case count: SVMSIM_PROPERTY_RUNS (default 300) / 6.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Gpusvm, type GpusvmNotifier } from '../../src/core/drm-gpusvm/gpusvm.js';
import { CpuPageTable, devicePte, PTE_NONE, PTE_SMEM } from '../../src/core/mm/page-table.js';
import { XeSvmRange as SvmRange, xeSvmRangeAlloc } from '../../src/core/xe-svm/range.js';
import type { CoreEvent } from '../../src/core/events.js';
import { defaultPlatform, KERNEL_VERSIONS, type Platform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import { Simulator as PlainSimulator } from '../reference/core-baseline/simulator.js';

const RUNS = Math.max(10, Math.floor(Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 6));

/** Page 0x7f0000000 (address 0x7f0000000000): above 2^31, as real page numbers are. */
const BASE = 0x7f0000000;
const NOTIFIER = 131072; // 512M in pages

/** drm_gpusvm_ops as Xe sets them (range_alloc; invalidate unused here). */
const OPS = { rangeAlloc: xeSvmRangeAlloc, invalidate: () => {} };

function notifierWith(spans: [number, number][]): GpusvmNotifier<SvmRange> {
  const g = new Gpusvm(NOTIFIER, 2 ** 36, [512, 16, 1], OPS);
  const n = g.notifierAlloc(BASE);
  for (const [s, np] of spans) n.insert(new SvmRange(BASE + s, np, true, 0));
  return n;
}

describe('drm_gpusvm range index', () => {
  test('xe_svm_range_alloc: the range keeps start, size, generic and Xe flags exactly (page numbers above 2^31)', () => {
    const r = new SvmRange(BASE + 512 * 3 + 16 * 5, 16, false, 42);
    expect([r.start, r.end, r.npages, r.createdSeq]).toEqual([BASE + 1616, BASE + 1632, 16, 42]);
    expect([r.migrateDevmem, r.unmapped, r.tilePresent, r.valid, r.notMigratable]).toEqual([
      false,
      false,
      false,
      false,
      undefined,
    ]);
    r.tilePresent = true;
    expect(r.valid).toBe(true);
    r.tileInvalidated = true;
    expect([r.valid, r.tilePresent, r.hasDevmemPages]).toEqual([false, true, false]);
    r.notMigratable = 'hugetlb';
    r.skipMigrate = true;
    expect([r.notMigratable, r.skipMigrate, r.start, r.npages]).toEqual(['hugetlb', true, BASE + 1616, 16]);
    r.notMigratable = undefined;
    r.tilePresent = false;
    expect([r.notMigratable, r.tilePresent, r.tileInvalidated, r.skipMigrate]).toEqual([undefined, false, true, true]);
    // A 2M range at the top of a 57-bit VA (page 2^45 - 512).
    const top = new SvmRange(2 ** 45 - 512, 512, true, 0);
    expect([top.start, top.end]).toEqual([2 ** 45 - 512, 2 ** 45]);
  });

  test('drm_gpusvm_range_find: first range overlapping [start, end), across 2M slots', () => {
    // Slot 0: 4K at 3 and 64K at [16, 32); slot 2: 2M at [1024, 1536); slot 5: 4K at 2600.
    const n = notifierWith([
      [16, 16],
      [1024, 512],
      [3, 1],
      [2600, 1],
    ]);
    const at = (s: number, e: number) => n.rangeFind(BASE + s, BASE + e)?.start;
    expect(at(0, 3)).toBeUndefined(); // [0, 3) ends before the 4K range at 3
    expect(at(0, 4)).toBe(BASE + 3);
    expect(at(4, 16)).toBeUndefined(); // the gap between the 4K range and the 64K one
    expect(at(4, 17)).toBe(BASE + 16);
    expect(at(31, 32)).toBe(BASE + 16); // the last page of the 64K range
    expect(at(32, 1024)).toBeUndefined(); // the rest of slot 0 and all of slot 1
    expect(at(32, 1025)).toBe(BASE + 1024); // found in a later slot
    expect(at(1535, 4000)).toBe(BASE + 1024);
    expect(at(1536, 4000)).toBe(BASE + 2600);
    expect(at(2601, NOTIFIER)).toBeUndefined();
    expect(n.size).toBe(4);
    expect(n.ranges.map((r) => r.start - BASE)).toEqual([3, 16, 1024, 2600]);
    expect(n.rangesIn(BASE + 10, BASE + 2601).map((r) => r.start - BASE)).toEqual([16, 1024, 2600]);
    expect(n.rangeAt(BASE + 1300)?.start).toBe(BASE + 1024);
    expect(n.rangeAt(BASE + 4)).toBeUndefined();
  });

  test('drm_gpusvm_range_remove: removing the last range of a slot empties the slot, others stay found', () => {
    const n = notifierWith([
      [0, 1],
      [1, 1],
      [512, 512],
    ]);
    const [a, b, big] = n.ranges;
    n.remove(big);
    expect(n.rangeFind(BASE, BASE + NOTIFIER)?.start).toBe(BASE);
    expect(n.rangeFind(BASE + 2, BASE + NOTIFIER)).toBeUndefined();
    n.remove(a);
    expect(n.rangeFind(BASE, BASE + NOTIFIER)).toBe(b);
    n.remove(b);
    expect(n.size).toBe(0);
    expect(n.ranges).toEqual([]);
    expect(n.rangeFind(BASE, BASE + NOTIFIER)).toBeUndefined();
  });

  test('drm_gpusvm_range_find: a 1M notifier (smaller than the 2M chunk) indexes by notifier', () => {
    const g = new Gpusvm(256, 2 ** 36, [512, 16, 1], OPS);
    const n = g.notifierAlloc(BASE + 256);
    expect([n.start, n.end]).toEqual([BASE + 256, BASE + 512]);
    n.insert(new SvmRange(BASE + 496, 16, true, 0));
    n.insert(new SvmRange(BASE + 256, 1, true, 0));
    expect(n.rangeFind(BASE + 257, BASE + 497)?.start).toBe(BASE + 496);
    expect(n.rangeAt(BASE + 511)?.start).toBe(BASE + 496);
  });
});

describe('drm_gpusvm_range_find: the by-slot-number index against a scan of every range', () => {
  // 512M notifiers keep the by-slot index (256 slots); 16G ones (8192 slots) only the sorted one.
  // Ranges are 4K/64K/2M, aligned, not overlapping; each case removes every range at the end, so
  // the notifier is unlinked and its index pooled, and the next case's notifier reuses it.
  const chunk = fc.constantFrom(1, 16, 512);
  const ops = fc.array(fc.tuple(fc.boolean(), fc.nat(255), fc.nat(511), chunk), { maxLength: 60 });
  const queries = fc.array(fc.tuple(fc.nat(256 * 512 - 1), fc.nat(4096)), { minLength: 1, maxLength: 30 });
  for (const notifierPages of [NOTIFIER, 32 * NOTIFIER]) {
    test(`notifier of ${notifierPages / 256} MiB: rangeFind and rangeAt agree with a scan after inserts and removes`, () => {
      const g = new Gpusvm(notifierPages, 2 ** 36, [512, 16, 1], OPS);
      fc.assert(
        fc.property(ops, queries, (edits, qs) => {
          const n = g.notifierAlloc(BASE);
          g.notifierInsert(n);
          const live: SvmRange[] = [];
          for (const [add, slot, off, c] of edits) {
            const start = BASE + slot * 512 + Math.floor(off / c) * c;
            const hit = live.find((r) => r.start < start + c && start < r.end);
            if (add && hit === undefined) {
              const r = new SvmRange(start, c, true, 0);
              n.insert(r);
              live.push(r);
            } else if (!add && hit !== undefined) {
              n.remove(hit);
              live.splice(live.indexOf(hit), 1);
            }
          }
          const sorted = [...live].sort((a, b) => a.start - b.start);
          for (const [q, len] of qs) {
            const s = BASE + q;
            const e = s + 1 + len;
            expect(n.rangeFind(s, e)).toBe(sorted.find((r) => r.start < e && s < r.end));
            expect(n.rangeAt(s)).toBe(sorted.find((r) => r.start <= s && s < r.end));
          }
          expect(n.ranges).toEqual(sorted);
          for (const r of sorted) n.remove(r);
          g.notifierRemove(n);
          expect(n.size).toBe(0);
        }),
        { numRuns: RUNS * 4 },
      );
    });
  }
});

describe('CPU page table: fills inside one 2M block', () => {
  test('CpuPageTable.fill over part of a block: a uniform fill drops the exceptions inside its span; zapping pages (PTE_NONE, as zap_page_range_single) leaves the rest counted and summarised; zapping all frees the block', () => {
    const pt = new CpuPageTable();
    const b = 512 * 1000; // block 1000
    pt.fill(b, b + 512, PTE_SMEM); // a uniform SMEM block
    for (const off of [3, 10, 200]) pt.set(b + off, devicePte(7)); // three exceptions
    pt.fill(b + 5, b + 300, PTE_SMEM); // back to the uniform value over [5, 300): drops 10 and 200
    expect([pt.get(b + 3), pt.get(b + 10), pt.get(b + 200)]).toEqual([devicePte(7), PTE_SMEM, PTE_SMEM]);
    pt.fill(b + 100, b + 400, PTE_NONE); // 300 pages zapped: 512 - 300 = 212 present
    expect(pt.presentCount()).toBe(212);
    expect(pt.summarize(b, b + 512)).toEqual({ none: 300, zero: 0, smem: 211, device: 1, deviceBo: 7 });
    expect(pt.firstRun(b + 4, b + 512)).toEqual({ start: b + 4, end: b + 100, pte: PTE_SMEM });
    pt.fill(b, b + 100, PTE_NONE);
    pt.fill(b + 400, b + 512, PTE_NONE);
    expect(pt.presentCount()).toBe(0); // the block is gone
    expect(pt.firstRun(b, b + 512)).toBeUndefined();
    pt.checkInvariants();
  });
});

/** An anonymous mmap, CPU write, GPU access or munmap of 4K/64K pieces over 4 notifiers of 2M. */
const SPAN = 4 * 512 * 4; // 32 MiB in pages
const rangeEvent: fc.Arbitrary<CoreEvent> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({ p: fc.integer({ min: 0, max: SPAN - 1 }), n: fc.constantFrom(1, 1, 16, 48, 512) })
      .map(({ p, n }) => ({
        op: 'mmap' as const,
        t: 0,
        page: BASE + p,
        offset: 0,
        npages: n,
        sizeAligned: true,
        prot: 'rw' as const,
        kind: 'anon' as const,
      })),
  },
  {
    weight: 6,
    arbitrary: fc
      .record({
        p: fc.integer({ min: 0, max: SPAN - 1 }),
        n: fc.constantFrom(1, 1, 1, 16, 40),
        op: fc.constantFrom('cpu_write', 'gpu_read', 'gpu_read', 'gpu_atomic', 'cpu_read'),
      })
      .map(({ p, n, op }) => ({
        op: op as 'gpu_read',
        t: 0,
        page: BASE + p,
        offset: 0,
        npages: n,
        sizeAligned: true,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ p: fc.integer({ min: 0, max: SPAN - 1 }), n: fc.constantFrom(1, 16, 512, 2048) })
      .map(({ p, n }) => ({
        op: 'munmap' as const,
        t: 0,
        page: BASE + p,
        offset: 0,
        npages: n,
        sizeAligned: true,
      })),
  },
);

/** A dense fill: many adjacent 4K/64K mmaps, each written and GPU-read, in a random order. */
const fillArb: fc.Arbitrary<CoreEvent[]> = fc
  .record({
    from: fc.integer({ min: 0, max: SPAN - 2048 }),
    chunk: fc.constantFrom(1, 16),
    order: fc.array(fc.integer({ min: 0, max: 127 }), { minLength: 16, maxLength: 80 }),
  })
  .map(({ from, chunk, order }) =>
    order.flatMap((k) => {
      const span = { page: BASE + from + k * chunk, offset: 0, npages: chunk, sizeAligned: true, t: 0 };
      return [
        { ...span, op: 'mmap' as const, prot: 'rw' as const, kind: 'anon' as const },
        { ...span, op: 'cpu_write' as const },
        { ...span, op: 'gpu_read' as const },
      ];
    }),
  );

const platformArb: fc.Arbitrary<Platform> = fc
  .record({
    kernel: fc.constantFrom(...KERNEL_VERSIONS),
    notifierMb: fc.constantFrom(1, 2, 4, 512),
    vramPages: fc.constantFrom(512, 4096, 1 << 22),
    dgfx: fc.boolean(),
    vmaMerge: fc.boolean(),
  })
  .map((r) => ({
    ...defaultPlatform(r.kernel),
    notifierBytes: BigInt(r.notifierMb) << 20n,
    vramBytes: BigInt(r.vramPages) << 12n,
    dgfx: r.dgfx,
    vmaMerge: r.vmaMerge,
  }));

function replay(Sim: typeof Simulator | typeof PlainSimulator, p: Platform, events: CoreEvent[]) {
  const sim = new Sim(p, { record: true });
  const results = events.map((e, i) => structuredClone(sim.step({ ...e, t: (i + 1) * 1000 })));
  return { results, final: structuredClone(sim.snapshot()) };
}

describe('optimised core = straightforward core on large range sets (fast-check)', () => {
  test('4K/64K ranges filling 2M slots and crossing notifiers: decisions, stats and final state identical', () => {
    const trace = fc
      .tuple(fc.array(fillArb, { minLength: 1, maxLength: 2 }), fc.array(rangeEvent, { minLength: 10, maxLength: 100 }))
      .map(([fills, rest]) => [...fills.flat(), ...rest]);
    fc.assert(
      fc.property(platformArb, trace, (p, events) => {
        const fast = replay(Simulator, p, events);
        const plain = replay(PlainSimulator, p, events);
        expect(fast.results).toEqual(plain.results);
        expect(fast.final).toEqual(plain.final);
      }),
      { numRuns: RUNS, seed: 1212 },
    );
  });
});
