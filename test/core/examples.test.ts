/**
 * The reference's worked examples E1–E12 (xe-svm-model.md §11), kernel 6.18 unless stated.
 * Every example checks the full `gtN/stats` list of both GTs (allCounters: every counter the
 * kernel prints, 0 unless named); `_us` values are checked as ">0" (the cost model's figures).
 */
import { describe, expect, test } from 'vitest';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, K, M, ONE_ZAP_618, Run } from '../helpers.js';

const C = B + 0x400000n;

/** GT0 and GT1 (media GT: TLB counters only) against the full counter list of `kernel`. */
function expectStats(
  r: Run,
  gt0: Record<string, number | string>,
  gt1: Record<string, number | string> = {},
  kernel: Parameters<typeof allCounters>[0] = '6.18',
) {
  expect(counters(r)).toEqual(allCounters(kernel, gt0));
  expect(counters(r, 1)).toEqual(allCounters(kernel, gt1));
}

/** A populated 2M fault on 6.18: E1's counters plus the copy of 2048 KiB to VRAM (xe_svm_copy). */
const E2_618 = {
  ...FAULT_2M_MIGRATED_618,
  svm_device_copy_kb: 2048,
  svm_device_copy_us: '>0',
  svm_2M_device_copy_us: '>0',
};

describe('reference worked examples (§11)', () => {
  test('E1 untouched 2M fault: migrate, no copy — xe_svm_handle_pagefault / xe_svm_copy', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    expectStats(r, FAULT_2M_MIGRATED_618);
    expect(r.vramUsed()).toBe(2n * M);
    expect(r.ranges()).toMatchObject([
      { start: Number(B >> 12n), end: Number((B + 2n * M) >> 12n), location: 'vram', valid: true },
    ]);
  });

  test('E2 populated 2M fault copies 2048 KiB — xe_svm_copy', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    expectStats(r, E2_618);
    expect(r.vramUsed()).toBe(2n * M);
  });

  test('E3 second access inside a bound range: no fault — xe_svm_range_is_valid', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    const before = r.nonZero();
    const res = r.do('gpu_write', B + 0x1ff000n);
    expect(res.outcome).toBe('hit');
    expect(r.nonZero()).toEqual(before);
    // no fault: not even svm_2M_valid_pagefault_count (the GPU never asked)
    expectStats(r, E2_618);
  });

  test('E4 CPU touch of VRAM migrates the whole 2M back — drm_pagemap_migrate_to_ram', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    r.do('cpu_read', B + 0x10n);
    // E2, then the copy of all 512 pages back (2048 KiB) and one zap of the bound range per GT
    expectStats(
      r,
      { ...E2_618, svm_cpu_copy_kb: 2048, svm_cpu_copy_us: '>0', svm_2M_cpu_copy_us: '>0', ...ONE_ZAP_618 },
      ONE_ZAP_618,
    );
    expect(r.vramUsed()).toBe(0n);
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: false }]);
  });

  test('E5 populated 64K range — drm_gpusvm_range_chunk_size with check_pages', () => {
    const r = new Run();
    r.mmap(C, 128n * K);
    r.do('cpu_write', C, 128n * K);
    const res = r.do('gpu_read', C + 0x5000n);
    // one 64K fault that migrates (16 populated pages copied: 64 KiB), gets pages and binds
    expectStats(r, {
      svm_pagefault_count: 1,
      svm_64K_pagefault_count: 1,
      svm_64K_pagefault_us: '>0',
      svm_64K_migrate_count: 1,
      svm_64K_migrate_us: '>0',
      svm_device_copy_kb: 64,
      svm_device_copy_us: '>0',
      svm_64K_device_copy_us: '>0',
      svm_64K_get_pages_us: '>0',
      svm_64K_bind_us: '>0',
    });
    const range = res.decisions.find((d) => d.code === 'range');
    expect(range).toMatchObject({ rejected: [{ pages: 512, reason: 'cpu_vma' }] });
  });

  test('E6 sparse population gives 4K ranges — drm_gpusvm_check_pages / overlap', () => {
    const r = new Run();
    r.mmap(C, 128n * K);
    r.do('cpu_write', C);
    r.do('cpu_write', C + 0x1000n);
    const a = r.do('gpu_read', C + 0x5000n);
    const b = r.do('gpu_read', C + 0x6000n);
    // two 4K faults; each migrates its untouched page (nothing to copy), gets pages and binds
    const FAULT_4K = {
      svm_pagefault_count: 2,
      svm_4K_pagefault_count: 2,
      svm_4K_pagefault_us: '>0',
      svm_4K_get_pages_us: '>0',
      svm_4K_bind_us: '>0',
    };
    expectStats(r, { ...FAULT_4K, svm_4K_migrate_count: 2, svm_4K_migrate_us: '>0' });
    expect(a.decisions.find((d) => d.code === 'range')).toMatchObject({
      rejected: [
        { pages: 512, reason: 'cpu_vma' },
        { pages: 16, reason: 'check_pages' },
      ],
    });
    expect(b.decisions.find((d) => d.code === 'range')).toMatchObject({
      rejected: [
        { pages: 512, reason: 'cpu_vma' },
        { pages: 16, reason: 'overlap' },
      ],
    });

    const n = new Run({ need64k: true });
    n.mmap(C, 128n * K);
    n.do('cpu_write', C);
    n.do('cpu_write', C + 0x1000n);
    n.do('gpu_read', C + 0x5000n);
    n.do('gpu_read', C + 0x6000n);
    // NEED64K: a 4K range never migrates (xe_svm_range_needs_migrate_to_vram < SZ_64K)
    expectStats(n, FAULT_4K);
    expect(n.ranges().map((x) => x.location)).toEqual(['smem', 'smem']);
  });

  // E7: every counter of every profile. 6.18 / 6.18.y give the full list; 6.16/6.17 only have
  // svm_pagefault_count and tlb_inval_count; 6.15 only tlb_inval_count.
  const E7_618 = {
    ...FAULT_2M_MIGRATED_618,
    // the CPU pulls all 512 device pages back (holes became device pages at migration)
    svm_cpu_copy_kb: 2048,
    svm_cpu_copy_us: '>0',
    svm_2M_cpu_copy_us: '>0',
    ...ONE_ZAP_618,
  };
  const E7_GT1_618 = ONE_ZAP_618;
  for (const [kernel, gt0, gt1] of [
    ['6.18', E7_618, E7_GT1_618],
    ['6.18.y', E7_618, E7_GT1_618],
    ['6.17', { svm_pagefault_count: 1, tlb_inval_count: 1 }, { tlb_inval_count: 1 }],
    ['6.16', { svm_pagefault_count: 1, tlb_inval_count: 1 }, { tlb_inval_count: 1 }],
    ['6.15', { tlb_inval_count: 1 }, { tlb_inval_count: 1 }],
  ] as const) {
    test(`E7 ${kernel} atomic fault + timeslice: the CPU re-faults until the first tick with jiffies >= expiry — __drm_pagemap_migrate_to_ram timeslice_expiration`, () => {
      const r = new Run({ kernel });
      r.mmap(B, 2n * M);
      const f = r.at(0).do('gpu_atomic', B);
      expect(f.decisions.find((d) => d.code === 'fault')).toMatchObject({ devmemOnly: true, timesliceMs: 5, tries: 3 });
      const cpu = r.at(1_000_000).do('cpu_read', B);
      // expiry = jiffies(0) + msecs_to_jiffies(5) = 0 + ceil(5 * 250 / 1000) = 2 jiffies = 8 ms at HZ=250
      expect(cpu.decisions.find((d) => d.code === 'timeslice_wait')).toMatchObject({
        fromNs: 1_000_000,
        untilNs: 8_000_000,
        expiryJiffies: 2,
        by: 'cpu',
      });
      expect(cpu.t).toBe(8_000_000);
      expect(counters(r)).toEqual(allCounters(kernel, gt0));
      expect(counters(r, 1)).toEqual(allCounters(kernel, gt1));
      expect(r.vramUsed()).toBe(0n);
    });
  }

  test('E7 6.15-rc1: no devmem_only and no timeslice: the atomic migrates once (>= 64K) and the CPU takes the pages back at once (drm_gpusvm_migrate_to_ram has no check)', () => {
    const r = new Run({ kernel: '6.15-rc1' });
    r.mmap(B, 2n * M);
    const f = r.at(0).do('gpu_atomic', B);
    expect(f.decisions.find((d) => d.code === 'fault')).toMatchObject({ devmemOnly: false, timesliceMs: 0, tries: 1 });
    expect(f.decisions.find((d) => d.code === 'migrate_to_vram')).toMatchObject({ ok: true, reason: 'migrate_once' });
    const cpu = r.at(1_000_000).do('cpu_read', B);
    expect(cpu.decisions.some((d) => d.code === 'timeslice_wait')).toBe(false);
    expect(cpu.t).toBe(1_000_000);
    expect(counters(r)).toEqual(allCounters('6.15-rc1', { tlb_inval_count: 1 }));
    expect(counters(r, 1)).toEqual(allCounters('6.15-rc1', { tlb_inval_count: 1 }));
  });

  test("E7 a migration inside a tick is released more than 4 and at most 8 ms after it (jiffy granularity), with E7's counters — __drm_pagemap_migrate_to_ram timeslice_expiration", () => {
    for (const [at, until] of [
      [1_000_000, 8_000_000],
      [3_900_000, 8_000_000],
      [4_000_000, 12_000_000],
    ] as const) {
      const r = new Run();
      r.mmap(B, 2n * M);
      r.at(at).do('gpu_atomic', B);
      const cpu = r.at(at).do('cpu_read', B);
      expect(cpu.t).toBe(until);
      expect(until - at).toBeGreaterThan(4_000_000);
      expect(until - at).toBeLessThanOrEqual(8_000_000);
      // the wait changes no counter: E7's full list on both GTs
      expectStats(r, E7_618, E7_GT1_618);
    }
  });

  const E8_618 = { svm_pagefault_count: 1, svm_2M_pagefault_count: 1, svm_2M_pagefault_us: '>0' };
  for (const [kernel, gt0] of [
    ['6.18', E8_618],
    ['6.17', { svm_pagefault_count: 1 }],
    ['6.16', { svm_pagefault_count: 1 }],
    ['6.15', {}],
  ] as const) {
    test(`E8 ${kernel} atomic on shmem: -EACCES, range kept unbound — xe_svm_handle_pagefault devmem_only && !migrate_devmem`, () => {
      const r = new Run({ kernel });
      r.mmap(B, 2n * M, { kind: 'shared' });
      const res = r.do('gpu_atomic', B);
      expect(res).toMatchObject({ outcome: 'error', errno: 'EACCES' });
      expect(res.decisions.find((d) => d.code === 'not_migratable_atomic')).toMatchObject({ cause: 'shmem' });
      expect(counters(r)).toEqual(allCounters(kernel, gt0));
      expect(counters(r, 1)).toEqual(allCounters(kernel, {}));
      expect(r.ranges()).toMatchObject([{ location: 'smem', valid: false }]);
    });
  }

  test('E8 6.18.y: the handler returns 0 without a bind, the GPU replays until the livelock bound — xe_svm_handle_pagefault out', () => {
    const r = new Run({ kernel: '6.18.y' });
    r.mmap(B, 2n * M, { kind: 'shared' });
    const res = r.do('gpu_atomic', B);
    expect(res).toMatchObject({ outcome: 'error', errno: 'LIVELOCK' });
    const k = 64; // livelock_bound handler invocations, each counted as the kernel counts it
    expect(res.decisions.filter((d) => d.code === 'fault_acked_unbound')).toHaveLength(k);
    expect(res.decisions.at(-1)).toEqual({ code: 'livelock', loop: 'gpu_replay', iterations: k });
    expect(counters(r)).toEqual(
      allCounters('6.18.y', { svm_pagefault_count: k, svm_2M_pagefault_count: k, svm_2M_pagefault_us: '>0' }),
    );
    expect(counters(r, 1)).toEqual(allCounters('6.18.y', {}));
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: false }]);
    const b = new Run({ kernel: '6.18.y', livelockBound: 5 });
    b.mmap(B, 2n * M, { kind: 'shared' });
    b.do('gpu_atomic', B);
    expectStats(b, { svm_pagefault_count: 5, svm_2M_pagefault_count: 5, svm_2M_pagefault_us: '>0' }, {}, '6.18.y');
  });

  test('E8 6.15-rc1: no atomic special case, the atomic on shmem binds SMEM (no devmem_only, migrate_devmem = 0)', () => {
    const r = new Run({ kernel: '6.15-rc1' });
    r.mmap(B, 2n * M, { kind: 'shared' });
    expect(r.do('gpu_atomic', B).outcome).toBe('ok');
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
    // 6.15-rc1 has no SVM counter; nothing is invalidated
    expectStats(r, {}, {}, '6.15-rc1');
  });

  test('E8 a plain gpu_read of shmem succeeds in SMEM without migration (migrate_devmem = 0)', () => {
    const rd = new Run();
    rd.mmap(B, 2n * M, { kind: 'shared' });
    const f = rd.do('gpu_read', B);
    expect(f.outcome).toBe('ok');
    expect(f.decisions.find((d) => d.code === 'no_migrate')).toMatchObject({
      reason: 'not_migratable',
      cause: 'shmem',
    });
    expectStats(rd, {
      svm_pagefault_count: 1,
      svm_2M_pagefault_count: 1,
      svm_2M_pagefault_us: '>0',
      svm_2M_get_pages_us: '>0',
      svm_2M_bind_us: '>0',
    });
    expect(rd.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
  });

  test('E9 no CPU VMA: -ENOENT, no notifier left — drm_gpusvm_range_find_or_insert', () => {
    const r = new Run();
    const res = r.do('gpu_read', B + 0x10000000n);
    expect(res).toMatchObject({ outcome: 'error', errno: 'ENOENT' });
    // counted on entry; no range, so no size bucket and no time
    expectStats(r, { svm_pagefault_count: 1 });
    expect(r.sim.context.gpusvm.notifiers.size).toBe(0);
  });

  for (const [kernel, gt0, gt1] of [
    ['6.18', { ...E2_618, ...ONE_ZAP_618 }, ONE_ZAP_618],
    ['6.18.y', { ...E2_618, ...ONE_ZAP_618 }, ONE_ZAP_618],
    ['6.17', { svm_pagefault_count: 1, tlb_inval_count: 1 }, { tlb_inval_count: 1 }],
    // up to 6.16 the GC unbind always invalidates (unbind_range_prepare)
    ['6.16', { svm_pagefault_count: 1, tlb_inval_count: 2 }, { tlb_inval_count: 2 }],
    ['6.15', { tlb_inval_count: 2 }, { tlb_inval_count: 2 }],
    ['6.15-rc1', { tlb_inval_count: 2 }, { tlb_inval_count: 2 }],
  ] as const) {
    test(`E10 ${kernel} full munmap of a VRAM range: zap, GC, notifier and BO gone — xe_svm_garbage_collector / xe_vm_range_unbind`, () => {
      const r = new Run({ kernel });
      r.mmap(B, 4n * M);
      r.do('cpu_write', B, 4n * M);
      r.do('gpu_read', B + 0x1000n);
      r.do('munmap', B, 4n * M);
      expect(counters(r)).toEqual(allCounters(kernel, gt0));
      expect(counters(r, 1)).toEqual(allCounters(kernel, gt1));
      expect(r.vramUsed()).toBe(0n);
      expect(r.ranges()).toEqual([]);
      expect(r.sim.context.gpusvm.notifiers.size).toBe(0);
    });
  }

  const E11_618 = {
    ...E2_618,
    svm_pagefault_count: 2,
    svm_2M_pagefault_count: 2,
    svm_2M_migrate_count: 2,
    svm_device_copy_kb: 4096,
    svm_tlb_inval_count: 2,
    tlb_inval_count: 1,
    svm_tlb_inval_us: '>0',
  };
  const E11_GT1_618 = { svm_tlb_inval_count: 2, tlb_inval_count: 1, svm_tlb_inval_us: '>0' };
  for (const [kernel, gt0, gt1] of [
    ['6.18', E11_618, E11_GT1_618],
    ['6.18.y', E11_618, E11_GT1_618],
    ['6.17', { svm_pagefault_count: 2, tlb_inval_count: 1 }, { tlb_inval_count: 1 }],
    ['6.16', { svm_pagefault_count: 2, tlb_inval_count: 3 }, { tlb_inval_count: 3 }],
    ['6.15', { tlb_inval_count: 3 }, { tlb_inval_count: 3 }],
    ['6.15-rc1', { tlb_inval_count: 3 }, { tlb_inval_count: 3 }],
  ] as const) {
    test(`E11 ${kernel} one munmap, two ranges, one notifier: one TLB invalidation for the callback — xe_svm_invalidate`, () => {
      const r = new Run({ kernel });
      r.mmap(B, 4n * M);
      r.do('cpu_write', B, 4n * M);
      r.do('gpu_read', B);
      r.do('gpu_read', B + 2n * M);
      r.do('munmap', B, 4n * M);
      expect(counters(r)).toEqual(allCounters(kernel, gt0));
      expect(counters(r, 1)).toEqual(allCounters(kernel, gt1));
    });
  }

  test('E12 iGPU: no migration, SMEM bind — devmem_possible = IS_DGFX', () => {
    const r = new Run({ dgfx: false });
    r.mmap(B, 2n * M);
    expect(r.do('gpu_atomic', B).outcome).toBe('ok');
    // no migrate or copy counter: the fault only gets pages and binds
    expectStats(r, {
      svm_pagefault_count: 1,
      svm_2M_pagefault_count: 1,
      svm_2M_pagefault_us: '>0',
      svm_2M_get_pages_us: '>0',
      svm_2M_bind_us: '>0',
    });
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
  });
});
