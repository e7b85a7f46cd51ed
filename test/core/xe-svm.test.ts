/**
 * xe_svm behaviours beyond the worked examples: atomic policy, VRAM pressure, partial munmap,
 * mprotect / madvise, mapping kinds, versions. Each test names the kernel function it follows.
 */
import { describe, expect, test } from 'vitest';
import type { Decision } from '../../src/core/decisions.js';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, K, M, ONE_ZAP_618, Run, page } from '../helpers.js';

const codes = (ds: Decision[]) => ds.map((d) => d.code);
const find = <C extends Decision['code']>(ds: Decision[], c: C) =>
  ds.filter((d) => d.code === c) as Extract<Decision, { code: C }>[];

describe('xe_svm_handle_pagefault: atomic policy', () => {
  test('atomic to an SMEM-bound range faults and migrates (xe_atomic_for_system / devmem_only)', () => {
    const r = new Run();
    r.mmap(B, 2n * M, { kind: 'anon' });
    r.do('xe_madvise', B, 2n * M, { preferred: 'system' });
    expect(r.do('gpu_read', B).outcome).toBe('ok');
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
    const at = r.do('gpu_atomic', B);
    expect(at.outcome).toBe('ok');
    expect(codes(at.decisions)).toContain('migrate_to_vram');
    // The migration's MIGRATE notifier zapped the valid SMEM binding of the range itself.
    expect(r.stat('svm_tlb_inval_count')).toBe(1);
    expect(r.ranges()).toMatchObject([{ location: 'vram', valid: true }]);
  });

  test('three migration tries then the error, timeslice doubling 5/10/20 (xe_svm_handle_pagefault retry)', () => {
    const r = new Run({ vramBytes: 1n * M });
    r.mmap(B, 2n * M);
    const res = r.do('gpu_atomic', B);
    expect(res).toMatchObject({ outcome: 'error', errno: 'ENOMEM' });
    expect(find(res.decisions, 'migrate_to_vram').map((d) => d.timesliceMs)).toEqual([5, 10, 20]);
    // every counter: one handler call, three loop iterations each counting a 2M fault and a
    // migration attempt (µs per attempt); the error exit charges no pagefault_us
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        svm_pagefault_count: 1,
        svm_2M_pagefault_count: 3,
        svm_2M_migrate_count: 3,
        svm_2M_migrate_us: '>0',
      }),
    );
    expect(counters(r, 1)).toEqual(allCounters('6.18', {}));
  });

  test('non-atomic VRAM failure falls back to SMEM after one try (migrate_try_count = 1)', () => {
    const r = new Run({ vramBytes: 1n * M });
    r.mmap(B, 2n * M);
    const res = r.do('gpu_read', B);
    expect(res.outcome).toBe('ok');
    // every counter: two iterations (the failed attempt, then SMEM), get_pages and bind, the handler time
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        svm_pagefault_count: 1,
        svm_2M_pagefault_count: 2,
        svm_2M_pagefault_us: '>0',
        svm_2M_migrate_count: 1,
        svm_2M_migrate_us: '>0',
        svm_2M_get_pages_us: '>0',
        svm_2M_bind_us: '>0',
      }),
    );
    expect(find(res.decisions, 'no_migrate')).toMatchObject([{ reason: 'tries_exhausted' }]);
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
  });

  test('6.18 atomic attribute cpu → -EACCES before any statistic (xe_vma_need_vram_for_atomic)', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('xe_madvise', B, 2n * M, { atomic: 'cpu' });
    expect(r.do('gpu_atomic', B)).toMatchObject({ outcome: 'error', errno: 'EACCES' });
    expect(r.stat('svm_pagefault_count')).toBe(0);
  });

  test('atomic=device with device_atomics_on_smem: atomic served from SMEM (xe_vma_need_vram_for_atomic)', () => {
    const r = new Run({ deviceAtomicsOnSmem: true });
    r.mmap(B, 2n * M);
    r.do('xe_madvise', B, 2n * M, { atomic: 'device' });
    r.do('xe_madvise', B, 2n * M, { preferred: 'system' });
    expect(r.do('gpu_atomic', B).outcome).toBe('ok');
    expect(r.ranges()).toMatchObject([{ location: 'smem', valid: true }]);
    expect(r.do('gpu_atomic', B).outcome).toBe('hit');
  });

  test('6.15-rc1 migrates a range once and never 4K ranges (skip_migrate)', () => {
    const r = new Run({ kernel: '6.15-rc1' });
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    r.do('cpu_read', B);
    const again = r.do('gpu_read', B);
    expect(find(again.decisions, 'no_migrate')).toMatchObject([{ reason: 'skip_migrate' }]);
    expect(r.ranges()).toMatchObject([{ location: 'smem' }]);
    const s = new Run({ kernel: '6.15-rc1' });
    s.mmap(B, 8n * K);
    expect(find(s.do('gpu_read', B).decisions, 'no_migrate')).toMatchObject([{ reason: 'below_64k' }]);
    const a = new Run({ kernel: '6.15-rc1', alwaysMigrateToVram: true });
    a.mmap(B, 2n * M);
    a.do('gpu_read', B);
    a.do('cpu_read', B);
    expect(codes(a.do('gpu_read', B).decisions)).toContain('migrate_to_vram');
  });
});

describe('VRAM pressure: TTM eviction in allocation order (ttm_bo_evict_alloc → xe_svm_bo_evict)', () => {
  test('the oldest BO is evicted to RAM (512 pages copied) and its binding invalidated (one zap per GT); every counter', () => {
    const r = new Run({ vramBytes: 4n * M });
    r.mmap(B, 6n * M);
    r.do('gpu_read', B);
    r.do('gpu_read', B + 2n * M);
    const third = r.do('gpu_read', B + 4n * M);
    expect(find(third.decisions, 'bo_evict')).toMatchObject([{ bo: 1, start: page(B) }]);
    expect(r.ranges().map((x) => [x.location, x.valid])).toEqual([
      ['smem', false],
      ['vram', true],
      ['vram', true],
    ]);
    expect(r.vramUsed()).toBe(4n * M);
    // every counter: three untouched 2M faults that migrate (nothing to copy in), the eviction's
    // copy of BO 1's 512 device pages back (2048 KiB, the 2M bucket) and one zap per GT
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        ...FAULT_2M_MIGRATED_618,
        svm_pagefault_count: 3,
        svm_2M_pagefault_count: 3,
        svm_2M_migrate_count: 3,
        svm_cpu_copy_kb: 2048,
        svm_cpu_copy_us: '>0',
        svm_2M_cpu_copy_us: '>0',
        ...ONE_ZAP_618,
      }),
    );
    expect(counters(r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
  });
});

describe('partial munmap (DOC "Partial Unmapping of Ranges", xe_svm_garbage_collector)', () => {
  const setup = () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    r.do('gpu_read', B);
    r.do('munmap', B + 1n * M, 1n * M);
    return r;
  };

  test('the range is destroyed whole (gc_range partialUnmap), the BO lives on while device pages remain', () => {
    const r = setup();
    const un = r.results[3];
    expect(find(un.decisions, 'gc_range')).toMatchObject([{ partialUnmap: true, unbound: true, tlbInval: false }]);
    expect(r.ranges()).toEqual([]);
    expect(r.vramUsed()).toBe(2n * M);
  });

  test('a CPU touch migrates only the part still mapped, then frees the BO (migrate_to_ram window clamp)', () => {
    const r = setup();
    const cpu = r.do('cpu_read', B);
    expect(find(cpu.decisions, 'migrate_to_ram')).toMatchObject([
      { pages: 256, start: page(B), end: page(B + 1n * M) },
    ]);
    expect(r.vramUsed()).toBe(0n);
    expect(r.stat('svm_cpu_copy_kb')).toBe(1024);
    // window of 256 pages has no size bucket
    expect(r.stat('svm_2M_cpu_copy_us')).toBe(0);
  });

  test('a GPU fault there creates a smaller range and maps the old device pages (migrate → -EFAULT)', () => {
    const r = setup();
    const g = r.do('gpu_read', B);
    expect(find(g.decisions, 'range')[0]).toMatchObject({ range: { start: page(B), end: page(B + 64n * K) } });
    expect(find(g.decisions, 'migrate_to_vram')[0]).toMatchObject({ ok: false, errno: 'EFAULT' });
    expect(find(g.decisions, 'get_pages').at(-1)).toMatchObject({ ok: true, location: 'vram' });
    expect(r.ranges()).toMatchObject([{ location: 'vram', valid: true }]);
  });

  test('mixed device and system pages → -EOPNOTSUPP → range evicted → retry (drm_gpusvm_range_get_pages)', () => {
    const r = setup();
    r.mmap(B + 1n * M, 1n * M); // VMAs merge back into one 4M VMA
    const g = r.do('gpu_read', B);
    const gp = find(g.decisions, 'get_pages');
    expect(find(g.decisions, 'migrate_to_vram')[0]).toMatchObject({ ok: false, errno: 'EBUSY' });
    expect(gp[0]).toMatchObject({ ok: false, errno: 'EOPNOTSUPP' });
    expect(codes(g.decisions)).toContain('range_evict');
    expect(gp.at(-1)).toMatchObject({ ok: true, location: 'smem' });
    expect(r.vramUsed()).toBe(0n);
  });
});

describe('CPU-side events', () => {
  test('mprotect read-only zaps the binding; next GPU fault → -EPERM (drm_gpusvm_range_find_or_insert)', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    const mp = r.do('mprotect', B, 2n * M, { prot: 'r' });
    expect(find(mp.decisions, 'invalidate')).toMatchObject([{ event: 'PROTECTION_VMA', tlbInval: true }]);
    expect(r.do('gpu_read', B)).toMatchObject({ outcome: 'error', errno: 'EPERM' });
    const same = r.do('mprotect', B, 2n * M, { prot: 'r' });
    expect(find(same.decisions, 'invalidate')).toEqual([]);
  });

  test('madvise(DONTNEED) on VRAM frees the device pages and the BO, keeps the range (MMU_NOTIFY_CLEAR)', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    const md = r.do('madvise', B, 2n * M);
    expect(find(md.decisions, 'invalidate')).toMatchObject([{ event: 'CLEAR', tlbInval: true, unmapped: [] }]);
    expect(r.vramUsed()).toBe(0n);
    expect(r.ranges()).toMatchObject([{ valid: false }]);
  });

  test('file, shared and hugetlb mappings never migrate (vma_is_anonymous, is_vm_hugetlb_page)', () => {
    for (const kind of ['file', 'shared', 'hugetlb']) {
      const r = new Run();
      r.mmap(B, 2n * M, { kind });
      expect(r.do('gpu_read', B).outcome).toBe('ok');
      expect(find(r.results[1].decisions, 'range')[0].migrateDevmem).toBe(false);
      expect(r.vramUsed()).toBe(0n);
    }
  });

  test('fault outside the GPU VMA → -EINVAL without SVM stats (xe_vm_find_vma_by_addr)', () => {
    const r = new Run({ vaBits: 47 });
    const res = r.do('gpu_read', 1n << 47n);
    expect(res).toMatchObject({ outcome: 'error', errno: 'EINVAL' });
    expect(r.nonZero()).toEqual({});
  });

  test('CPU write to an unmapped page is SIGSEGV, not a crash (do_user_addr_fault → bad_area)', () => {
    const r = new Run();
    expect(r.do('cpu_write', B)).toMatchObject({ outcome: 'error', errno: 'SIGSEGV' });
  });

  test('hugetlb VMAs split only at huge-page boundaries: mprotect / munmap of a 4K piece is -EINVAL (hugetlb_vm_op_split)', () => {
    const r = new Run();
    r.mmap(B, 4n * M, { kind: 'hugetlb' });
    expect(r.do('mprotect', B, 4n * K, { prot: 'r' })).toMatchObject({ errno: 'EINVAL' });
    expect(r.do('munmap', B + 4096n, 2n * M)).toMatchObject({ errno: 'EINVAL' });
    expect(r.do('munmap', B, 2n * M).outcome).toBe('ok');
  });
});

describe('xe ioctls', () => {
  test('prefetch creates 2M ranges without the check_pages threshold and counts no faults (prefetch_ranges)', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    const p = r.do('xe_prefetch', B, 4n * M, { region: 'vram' });
    expect(p.outcome).toBe('ok');
    expect(r.ranges().map((x) => [x.end - x.start, x.location, x.valid])).toEqual([
      [512, 'vram', true],
      [512, 'vram', true],
    ]);
    expect(r.stat('svm_pagefault_count')).toBe(0);
    expect(r.do('gpu_atomic', B + 3n * M).outcome).toBe('hit');
  });

  test('prefetch skips holes to the next CPU VMA (xe_svm_find_vma_start)', () => {
    const r = new Run();
    r.mmap(B, 64n * K);
    r.mmap(B + 2n * M, 64n * K);
    const p = r.do('xe_prefetch', B, 4n * M, { region: 'smem' });
    expect(p.outcome).toBe('ok');
    expect(find(p.decisions, 'prefetch_hole').length).toBeGreaterThan(0);
    expect(r.ranges().length).toBe(2);
  });

  test('xe_prefetch before 6.17 and xe_madvise before 6.18 fail with a reason', () => {
    const r = new Run({ kernel: '6.15' });
    expect(r.do('xe_prefetch', B, 2n * M)).toMatchObject({
      outcome: 'error',
      errno: 'EINVAL',
      decisions: [{ code: 'kernel_lacks_op', since: '6.17' }],
    });
    const s = new Run({ kernel: '6.17' });
    expect(s.do('xe_madvise', B, 2n * M, { preferred: 'system' })).toMatchObject({
      decisions: [{ code: 'kernel_lacks_op', since: '6.18' }],
    });
  });

  test('madvise splits the mirror VMA, which limits range sizes; zap only on change (xe_vm_madvise_ioctl)', () => {
    const r = new Run();
    r.mmap(B, 4n * M);
    r.do('gpu_read', B);
    const m = r.do('xe_madvise', B + 64n * K, 64n * K, { preferred: 'system' });
    expect(find(m.decisions, 'madvise_range_remove')).toMatchObject([{ evicted: true }]);
    expect(r.ranges()).toEqual([]);
    const g = r.do('gpu_read', B + 64n * K);
    expect(find(g.decisions, 'range')[0]).toMatchObject({
      range: { start: page(B + 64n * K), end: page(B + 128n * K) },
    });
    expect(find(g.decisions, 'no_migrate')).toMatchObject([{ reason: 'not_preferred' }]);
    const again = r.do('xe_madvise', B + 64n * K, 64n * K, { preferred: 'system' });
    expect(find(again.decisions, 'madvise_zap')).toEqual([]);
    const change = r.do('xe_madvise', B + 64n * K, 64n * K, { preferred: 'device' });
    expect(find(change.decisions, 'madvise_zap')).toMatchObject([{ tlbInval: true }]);
  });
});

describe('garbage collector timing and attribute reset (xe_svm_garbage_collector, 6.18)', () => {
  test('lazy GC: the next fault collects, resets madvise attributes and re-looks-up its VMA (-EAGAIN)', () => {
    const r = new Run({ gc: 'lazy' });
    r.mmap(B, 4n * M);
    r.do('xe_madvise', B, 64n * K, { preferred: 'system' });
    r.do('gpu_read', B);
    const un = r.do('munmap', B, 64n * K);
    expect(un.decisions.map((d) => d.code)).not.toContain('gc_range');
    r.mmap(B, 64n * K);
    const f = r.do('gpu_read', B + 2n * M);
    expect(f.decisions.map((d) => d.code)).toEqual(
      expect.arrayContaining(['gc_range', 'gpuvma_attr_reset', 'vma_relookup']),
    );
    // svm_pagefault_count counts the handler twice
    expect(r.stat('svm_pagefault_count')).toBe(3);
  });
});

describe('retry loop corner: -EPERM from get_pages (found by the property test)', () => {
  test('a range split by mprotect(PROT_READ) livelocks a non-atomic fault (xe_svm_handle_pagefault retries -EPERM)', () => {
    const r = new Run({ dgfx: false });
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    r.do('mprotect', B, 4n * K, { prot: 'r' });
    const f = r.do('gpu_read', B + 0x1000n);
    expect(f).toMatchObject({ outcome: 'error', errno: 'LIVELOCK' });
    const gp = find(f.decisions, 'get_pages');
    expect(gp.length).toBeGreaterThan(1);
    expect(gp.map((d) => d.errno)).toEqual(gp.map(() => 'EPERM'));
  });
});
