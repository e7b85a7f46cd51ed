/**
 * Unit tests per layer, each naming the kernel function whose rule it checks.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkPages, rangeChunkSize, rangeFindOrInsert } from '../../src/core/drm-gpusvm/range.js';
import { rangeGetPages } from '../../src/core/drm-gpusvm/pages.js';
import { CpuPageTable, PTE_SMEM, PTE_ZERO, devicePte } from '../../src/core/mm/page-table.js';
import { VmaList } from '../../src/core/mm/vma.js';
import { statNames, sizeBucket } from '../../src/core/xe-gt-stats.js';
import { SimClock } from '../../src/core/context.js';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, M, K, ONE_ZAP_618, Run, page } from '../helpers.js';

const P = page(B);

describe('drm_gpusvm', () => {
  test('drm_gpusvm_check_pages: zero page and own device pages count as present', () => {
    const r = new Run();
    r.mmap(B, 64n * K);
    const sim = r.sim.context;
    expect(checkPages(sim, P, P + 16)).toBe(false);
    for (let i = 0; i < 16; i++) sim.mm.pt.set(P + i, i % 3 === 0 ? PTE_ZERO : i % 3 === 1 ? PTE_SMEM : devicePte(7));
    expect(checkPages(sim, P, P + 16)).toBe(true);
  });

  test('drm_gpusvm_range_chunk_size: 2M needs no population; 64K needs check_pages unless the threshold is 0 (iGPU); 4K is the fallback', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    const sim = r.sim.context;
    const n = sim.gpusvm.notifierAlloc(P);
    const vma = sim.vm.findVma(P)!;
    const rej: { pages: number; reason: string }[] = [];
    expect(
      rangeChunkSize(
        sim,
        n,
        P,
        P + 1024,
        P + 5,
        vma,
        { readOnly: false, devmemPossible: true, checkPagesThreshold: 16 },
        rej as never,
      ),
    ).toBe(512);
    const rej2: { pages: number; reason: string }[] = [];
    expect(
      rangeChunkSize(
        sim,
        n,
        P,
        P + 32,
        P + 5,
        vma,
        { readOnly: false, devmemPossible: true, checkPagesThreshold: 16 },
        rej2 as never,
      ),
    ).toBe(1);
    expect(rej2).toEqual([
      { pages: 512, reason: 'cpu_vma' },
      { pages: 16, reason: 'check_pages' },
    ]);
    // iGPU: threshold 0 → no population check
    expect(
      rangeChunkSize(
        sim,
        n,
        P,
        P + 32,
        P + 5,
        vma,
        { readOnly: false, devmemPossible: false, checkPagesThreshold: 0 },
        [],
      ),
    ).toBe(16);
  });

  test('drm_gpusvm_range_chunk_size: notifier boundary limits the chunk', () => {
    const r = new Run({ notifierBytes: 1n * M });
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 64n * K);
    const res = r.do('gpu_read', B);
    expect(res.decisions.find((d) => d.code === 'range')).toMatchObject({
      rejected: [{ pages: 512, reason: 'notifier' }],
      range: { start: P, end: P + 16 },
    });
  });

  test('drm_gpusvm_range_find_or_insert: -ENOENT leaves no notifier; -EPERM on a read-only CPU VMA', () => {
    const r = new Run();
    const sim = r.sim.context;
    const vma = sim.vm.findVma(P)!;
    const ctx = { readOnly: false, devmemPossible: true, checkPagesThreshold: 16 };
    expect(rangeFindOrInsert(sim, P, vma, ctx, 0)).toMatchObject({ ok: false, errno: 'ENOENT' });
    expect(sim.gpusvm.notifiers.size).toBe(0);
    r.mmap(B, 2n * M, { prot: 'r' });
    expect(rangeFindOrInsert(sim, P, vma, ctx, 0)).toMatchObject({ ok: false, errno: 'EPERM' });
    expect(rangeFindOrInsert(sim, P, vma, { ...ctx, readOnly: true }, 0)).toMatchObject({ ok: true, created: true });
    expect(sim.gpusvm.notifiers.size).toBe(1);
  });

  test('drm_gpusvm_range_get_pages: devmem_only with system pages → -EFAULT; two BOs → -EOPNOTSUPP', () => {
    const r = new Run();
    r.mmap(B, 64n * K);
    r.do('cpu_write', B, 64n * K);
    const sim = r.sim.context;
    const vma = sim.vm.findVma(P)!;
    const res = rangeFindOrInsert(sim, P, vma, { readOnly: false, devmemPossible: true, checkPagesThreshold: 16 }, 0);
    if (!res.ok) throw new Error('no range');
    expect(rangeGetPages(sim, res.range, { readOnly: false, devmemOnly: true })).toMatchObject({
      ok: false,
      errno: 'EFAULT',
    });
    for (let i = 0; i < 16; i++) sim.mm.pt.set(P + i, devicePte(i < 8 ? 1 : 2));
    expect(rangeGetPages(sim, res.range, { readOnly: false, devmemOnly: false })).toMatchObject({
      ok: false,
      errno: 'EOPNOTSUPP',
    });
  });
});

describe('jiffies (SimClock)', () => {
  // drm_pagemap_migrate_to_devmem's -EFAULT / -EBUSY for device pages are checked end to end in
  // xe-svm.test.ts (partial munmap); this is the clock the timeslice expiry is computed on.
  test('jiffies and msecs_to_jiffies (rounds up): 1 ms is jiffy 0; 5 ms is 2 jiffies = 8 ms at HZ=250, 5 jiffies at HZ=1000', () => {
    const c = new SimClock(250);
    c.now = 1_000_000;
    expect(c.jiffies()).toBe(0);
    expect(c.msecsToJiffies(5)).toBe(2);
    expect(c.jiffiesToNs(2)).toBe(8_000_000);
    const c1000 = new SimClock(1000);
    expect(c1000.msecsToJiffies(5)).toBe(5);
  });
});

describe('drm_pagemap', () => {
  test('BO lifetime: the BO lives while any of its pages is device-resident (drm_pagemap_zdd_destroy)', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    r.do('munmap', B, 1n * M);
    expect(r.vramUsed()).toBe(2n * M);
    r.do('munmap', B + 1n * M, 1n * M);
    expect(r.vramUsed()).toBe(0n);
  });

  test('drm_pagemap_evict_to_ram: evicting a 2M BO copies its 512 pages (svm_cpu_copy_kb 2048) in the 2M bucket', () => {
    const r = new Run({ vramBytes: 2n * M });
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B);
    r.do('gpu_read', B + 2n * M);
    // every counter: two populated 2M faults that migrate (2 × 2048 KiB copied in), the eviction
    // of the first BO (its 512 pages copied back, the 2M bucket) and one zap per GT
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        ...FAULT_2M_MIGRATED_618,
        svm_pagefault_count: 2,
        svm_2M_pagefault_count: 2,
        svm_2M_migrate_count: 2,
        svm_device_copy_kb: 4096,
        svm_device_copy_us: '>0',
        svm_2M_device_copy_us: '>0',
        svm_cpu_copy_kb: 2048,
        svm_cpu_copy_us: '>0',
        svm_2M_cpu_copy_us: '>0',
        ...ONE_ZAP_618,
      }),
    );
    expect(counters(r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
  });
});

describe('mm', () => {
  test('vma_merge: adjacent private anonymous VMAs with equal prot merge; shared ones do not', () => {
    const v = new VmaList(true);
    v.insert({ start: 0, end: 10, prot: 'rw', kind: 'anon' });
    expect(v.insert({ start: 10, end: 20, prot: 'rw', kind: 'anon' })).toBe(true);
    expect(v.all()).toEqual([{ start: 0, end: 20, prot: 'rw', kind: 'anon' }]);
    expect(v.insert({ start: 20, end: 30, prot: 'rw', kind: 'shared' })).toBe(false);
    expect(v.protect(5, 8, 'r')).toEqual([{ start: 5, end: 8, prot: 'r', kind: 'anon' }]);
    expect(v.all().length).toBe(4);
    v.protect(5, 8, 'rw');
    expect(v.all().length).toBe(2);
    v.remove(2, 4);
    expect(v.all()).toEqual([
      { start: 0, end: 2, prot: 'rw', kind: 'anon' },
      { start: 4, end: 20, prot: 'rw', kind: 'anon' },
      { start: 20, end: 30, prot: 'rw', kind: 'shared' },
    ]);
    v.remove(1, 25); // across three VMAs: trims the first and the last, drops the middle one
    expect(v.all()).toEqual([
      { start: 0, end: 1, prot: 'rw', kind: 'anon' },
      { start: 25, end: 30, prot: 'rw', kind: 'shared' },
    ]);
    expect(v.lookup(3)).toBeUndefined();
    expect(v.lookup(25)?.start).toBe(25);
  });

  test('CpuPageTable: a page set at 2^40 is present (presentCount 1), cleared it is gone (presentCount 0)', () => {
    const pt = new CpuPageTable();
    pt.set(2 ** 40, PTE_SMEM);
    expect(pt.get(2 ** 40)).toBe(PTE_SMEM);
    expect(pt.presentCount()).toBe(1);
    pt.set(2 ** 40, 0);
    expect(pt.presentCount()).toBe(0);
  });

  test('CpuPageTable: uniform, sparse and dense blocks agree with a naive per-page map (fast-check)', () => {
    const page = fc.integer({ min: 0, max: 3 * 512 + 7 });
    const pte = fc.constantFrom(0, PTE_ZERO, PTE_SMEM, devicePte(1), devicePte(2));
    const op = fc.oneof(
      fc.tuple(fc.constant('set' as const), page, pte, fc.constant(0)),
      fc.tuple(fc.constant('fill' as const), page, pte, fc.integer({ min: 0, max: 1100 })),
      fc.tuple(fc.constant('replace' as const), page, pte, fc.integer({ min: 0, max: 1100 })),
      fc.tuple(fc.constant('burst' as const), page, pte, fc.integer({ min: 1, max: 80 })),
      fc.tuple(fc.constant('gap' as const), page, pte, fc.integer({ min: 1, max: 3 })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const pt = new CpuPageTable();
        const naive = new Map<number, number>();
        const put = (p: number, v: number) => (v === 0 ? naive.delete(p) : naive.set(p, v));
        for (const [kind, p, v, n] of ops) {
          if (kind === 'set') {
            pt.set(p, v);
            put(p, v);
          } else if (kind === 'fill') {
            pt.fill(p, p + n, v);
            for (let q = p; q < p + n; q++) put(q, v);
          } else if (kind === 'replace') {
            const changed = pt.replace(p, p + n, PTE_SMEM, v);
            let expected = 0;
            for (let q = p; q < p + n; q++)
              if (naive.get(q) === PTE_SMEM) {
                put(q, v);
                expected++;
              }
            expect(changed).toBe(expected);
          } else if (kind === 'burst') {
            // many exceptions: sparse -> dense
            for (let q = p; q < p + n * 7; q += 7) {
              pt.set(q, v);
              put(q, v);
            }
          } else {
            // exceptions 1..3 pages apart
            for (let q = p; q < p + 6 * (n + 1); q += n + 1) {
              pt.set(q, v);
              put(q, v);
            }
          }
          pt.checkInvariants();
        }
        const got: number[] = [];
        const want: number[] = [];
        for (let q = 0; q < 4 * 512 + 600; q++) {
          got.push(pt.get(q));
          want.push(naive.get(q) ?? 0);
        }
        expect(got).toEqual(want);
        expect(pt.presentCount()).toBe(naive.size);
        const runs = pt.runs(100, 1700);
        expect(pt.firstRun(100, 1700)).toEqual(runs[0]);
        // firstRun() from every start (block edges, exceptions, holes), into a reused object too
        const scratch = { start: 0, end: 0, pte: 0 };
        for (let q = 0; q < 4 * 512 + 8; q += 13) {
          const want = pt.runs(q, q + 700)[0];
          expect(pt.firstRun(q, q + 700)).toEqual(want);
          expect(pt.firstRun(q, q + 700, scratch)).toEqual(want);
        }
        const fromRuns = new Map<number, number>();
        for (const r of runs) for (let q = r.start; q < r.end; q++) fromRuns.set(q, r.pte);
        expect(fromRuns).toEqual(new Map([...naive].filter(([q]) => q >= 100 && q < 1700)));
        expect(runs.every((r, i) => i === 0 || runs[i - 1].end < r.start || runs[i - 1].pte !== r.pte)).toBe(true);
        const sum = pt.summarize(300, 900);
        const inSpan = [...naive].filter(([q]) => q >= 300 && q < 900);
        const dev = inSpan.filter(([, v]) => v < 0).map(([, v]) => -v);
        expect(sum).toEqual({
          none: 600 - inSpan.length,
          zero: inSpan.filter(([, v]) => v === PTE_ZERO).length,
          smem: inSpan.filter(([, v]) => v === PTE_SMEM).length,
          device: dev.length,
          deviceBo: dev.length === 0 ? 0 : dev.every((b) => b === dev[0]) ? dev[0] : -1,
        });
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('xe_gt_stats', () => {
  test('xe_gt_stats_print_info: 3 / 4 / 37 counters per kernel (6.15 in enum order); size buckets only for 1, 16 and 512 pages', () => {
    expect(statNames('6.15')).toEqual(['tlb_inval_count', 'vma_pagefault_count', 'vma_pagefault_kb']);
    for (const k of ['6.16', '6.17'] as const)
      expect(statNames(k)).toEqual([
        'svm_pagefault_count',
        'tlb_inval_count',
        'vma_pagefault_count',
        'vma_pagefault_kb',
      ]);
    expect(statNames('6.18').length).toBe(37);
    expect([1, 16, 512].map(sizeBucket)).toEqual(['4K', '64K', '2M']);
    for (const pages of [0, 2, 15, 17, 256, 511, 513]) expect(sizeBucket(pages), String(pages)).toBeUndefined();
  });
});
