/**
 * The reference's worked examples E1–E12 (xe-svm-model.md §11), kernel 6.18 unless stated.
 * Counters are GT0 values; `_us` values are checked as ">0" (or absent = 0).
 */
import { describe, expect, test } from 'vitest';
import { B, K, M, Run } from '../helpers.js';

const C = B + 0x400000n;

describe('reference worked examples (§11)', () => {
  test('E1 untouched 2M fault: migrate, no copy — xe_svm_handle_pagefault / xe_svm_copy', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    expect(r.shape()).toEqual({
      svm_pagefault_count: 1,
      svm_2M_pagefault_count: 1,
      svm_2M_migrate_count: 1,
      svm_2M_migrate_us: '>0',
      svm_2M_get_pages_us: '>0',
      svm_2M_bind_us: '>0',
      svm_2M_pagefault_us: '>0',
    });
    expect(r.vramUsed()).toBe(2n * M);
    expect(r.ranges()).toMatchObject([{ start: Number(B >> 12n), end: Number((B + 2n * M) >> 12n), location: 'vram', valid: true }]);
  });

  test('E2 populated 2M fault copies 2048 KiB — xe_svm_copy', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    expect(r.shape()).toMatchObject({ svm_device_copy_kb: 2048, svm_device_copy_us: '>0', svm_2M_device_copy_us: '>0', svm_2M_migrate_count: 1 });
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
  });

  test('E4 CPU touch of VRAM migrates the whole 2M back — drm_pagemap_migrate_to_ram', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B + 0x1000n);
    r.do('cpu_read', B + 0x10n);
    expect(r.shape()).toMatchObject({
      svm_cpu_copy_kb: 2048,
      svm_cpu_copy_us: '>0',
      svm_2M_cpu_copy_us: '>0',
      svm_tlb_inval_count: 1,
      tlb_inval_count: 1,
      svm_tlb_inval_us: '>0',
    });
    expect(r.vramUsed()).toBe(0n);
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: false }]);
    expect(r.stat('tlb_inval_count', 1)).toBe(1);
    expect(r.stat('svm_tlb_inval_count', 1)).toBe(1);
  });

  test('E5 populated 64K range — drm_gpusvm_range_chunk_size with check_pages', () => {
    const r = new Run();
    r.mmap(C, 128n * K);
    r.do('cpu_write', C, 128n * K);
    const res = r.do('gpu_read', C + 0x5000n);
    expect(r.shape()).toMatchObject({ svm_pagefault_count: 1, svm_64K_pagefault_count: 1, svm_64K_migrate_count: 1, svm_device_copy_kb: 64, svm_64K_device_copy_us: '>0' });
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
    expect(r.shape()).toMatchObject({ svm_pagefault_count: 2, svm_4K_pagefault_count: 2, svm_4K_migrate_count: 2 });
    expect(r.stat('svm_device_copy_kb')).toBe(0);
    expect(a.decisions.find((d) => d.code === 'range')).toMatchObject({ rejected: [{ pages: 512, reason: 'cpu_vma' }, { pages: 16, reason: 'check_pages' }] });
    expect(b.decisions.find((d) => d.code === 'range')).toMatchObject({ rejected: [{ pages: 512, reason: 'cpu_vma' }, { pages: 16, reason: 'overlap' }] });

    const n = new Run({ need64k: true });
    n.mmap(C, 128n * K);
    n.do('cpu_write', C);
    n.do('cpu_write', C + 0x1000n);
    n.do('gpu_read', C + 0x5000n);
    n.do('gpu_read', C + 0x6000n);
    expect(n.stat('svm_4K_migrate_count')).toBe(0);
    expect(n.ranges().map((x) => x.location)).toEqual(['smem', 'smem']);
  });

  test('E7 atomic fault + timeslice: CPU waits until expiry — drm_pagemap_migrate_to_ram timeslice', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.at(0).do('gpu_atomic', B);
    expect(r.shape()).toMatchObject({ svm_pagefault_count: 1, svm_2M_pagefault_count: 1, svm_2M_migrate_count: 1 });
    const cpu = r.at(1_000_000).do('cpu_read', B);
    const wait = cpu.decisions.find((d) => d.code === 'timeslice_wait');
    expect(wait).toMatchObject({ fromNs: 1_000_000, untilNs: 8_000_000, expiryJiffies: 2 });
    expect(cpu.t).toBe(8_000_000);
    expect(r.shape()).toMatchObject({ svm_cpu_copy_kb: 2048, tlb_inval_count: 1, svm_tlb_inval_count: 1 });
  });

  test('E8 atomic on shmem: -EACCES — xe_svm_handle_pagefault devmem_only', () => {
    const r = new Run();
    r.mmap(B, 2n * M, { kind: 'shared' });
    const res = r.do('gpu_atomic', B);
    expect(res).toMatchObject({ outcome: 'error', errno: 'EACCES' });
    expect(r.shape()).toEqual({ svm_pagefault_count: 1, svm_2M_pagefault_count: 1, svm_2M_pagefault_us: '>0' });

    const old = new Run({ kernel: '6.17' });
    old.mmap(B, 2n * M, { kind: 'shared' });
    expect(old.do('gpu_atomic', B)).toMatchObject({ errno: 'EACCES' });
    expect(old.nonZero()).toEqual({ svm_pagefault_count: 1 });

    const rd = new Run();
    rd.mmap(B, 2n * M, { kind: 'shared' });
    expect(rd.do('gpu_read', B).outcome).toBe('ok');
    expect(rd.stat('svm_2M_migrate_count')).toBe(0);
    expect(rd.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
  });

  test('E9 no CPU VMA: -ENOENT, no notifier left — drm_gpusvm_range_find_or_insert', () => {
    const r = new Run();
    const res = r.do('gpu_read', B + 0x10000000n);
    expect(res).toMatchObject({ outcome: 'error', errno: 'ENOENT' });
    expect(r.nonZero()).toEqual({ svm_pagefault_count: 1 });
    expect(r.sim.context.gpusvm.notifiers.size).toBe(0);
  });

  test('E10 full munmap of a VRAM range — xe_svm_garbage_collector', () => {
    const run = (kernel: '6.18' | '6.16') => {
      const r = new Run({ kernel });
      r.mmap(B, 4n * M);
      r.do('cpu_write', B, 4n * M);
      r.do('gpu_read', B + 0x1000n);
      r.do('munmap', B, 4n * M);
      return r;
    };
    const r = run('6.18');
    expect(r.stat('svm_tlb_inval_count')).toBe(1);
    expect(r.stat('tlb_inval_count')).toBe(1);
    expect(r.stat('svm_cpu_copy_kb')).toBe(0);
    expect(r.vramUsed()).toBe(0n);
    expect(r.ranges()).toEqual([]);
    expect(r.sim.context.gpusvm.notifiers.size).toBe(0);
    expect(run('6.16').stat('tlb_inval_count')).toBe(2);
  });

  test('E11 one munmap, two ranges, one notifier: one TLB invalidation — xe_svm_invalidate', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B);
    r.do('gpu_read', B + 2n * M);
    r.do('munmap', B, 4n * M);
    expect(r.stat('svm_tlb_inval_count')).toBe(2);
    expect(r.stat('tlb_inval_count')).toBe(1);
  });

  test('E12 iGPU: no migration, SMEM bind — devmem_possible = IS_DGFX', () => {
    const r = new Run({ dgfx: false });
    r.mmap(B, 2n * M);
    expect(r.do('gpu_atomic', B).outcome).toBe('ok');
    expect(r.nonZero()).toMatchObject({ svm_pagefault_count: 1, svm_2M_pagefault_count: 1 });
    for (const k of Object.keys(r.nonZero())) expect(k).not.toMatch(/migrate|copy/);
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
  });
});
