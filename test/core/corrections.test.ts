/**
 * The corrected reference (xe-svm-model.md, second pass): one test per corrected rule, naming the
 * kernel function, with expected values derived by hand from the rule.
 */
import { describe, expect, test } from 'vitest';
import type { Decision } from '../../src/core/decisions.js';
import { KERNEL_VERSIONS } from '../../src/core/platform.js';
import { statNames } from '../../src/core/xe-gt-stats.js';
import { B, K, M, Run } from '../helpers.js';

const find = <C extends Decision['code']>(ds: Decision[], c: C) =>
  ds.filter((d) => d.code === c) as Extract<Decision, { code: C }>[];

/** xe_gt_stats.c @ 4208fac3dce5 (6.18), in table order, as xe-svm-model.md §8.1 lists it. */
const STATS_618 = [
  'svm_pagefault_count',
  'tlb_inval_count',
  'svm_tlb_inval_count',
  'svm_tlb_inval_us',
  'vma_pagefault_count',
  'vma_pagefault_kb',
  'svm_4K_pagefault_count',
  'svm_64K_pagefault_count',
  'svm_2M_pagefault_count',
  'svm_4K_valid_pagefault_count',
  'svm_64K_valid_pagefault_count',
  'svm_2M_valid_pagefault_count',
  'svm_4K_pagefault_us',
  'svm_64K_pagefault_us',
  'svm_2M_pagefault_us',
  'svm_4K_migrate_count',
  'svm_64K_migrate_count',
  'svm_2M_migrate_count',
  'svm_4K_migrate_us',
  'svm_64K_migrate_us',
  'svm_2M_migrate_us',
  'svm_device_copy_us',
  'svm_4K_device_copy_us',
  'svm_64K_device_copy_us',
  'svm_2M_device_copy_us',
  'svm_cpu_copy_us',
  'svm_4K_cpu_copy_us',
  'svm_64K_cpu_copy_us',
  'svm_2M_cpu_copy_us',
  'svm_device_copy_kb',
  'svm_cpu_copy_kb',
  'svm_4K_get_pages_us',
  'svm_64K_get_pages_us',
  'svm_2M_get_pages_us',
  'svm_4K_bind_us',
  'svm_64K_bind_us',
  'svm_2M_bind_us',
];

describe('corrected reference rules (xe-svm-model.md second pass)', () => {
  test('6.16 has no SVM prefetch: xe_prefetch on the mirror VMA fails with a reason; 6.17 has it (xe_svm_range_validate / xe_svm_find_vma_start)', () => {
    const r = new Run({ kernel: '6.16' });
    r.mmap(B, 2n * M);
    expect(r.do('xe_prefetch', B, 2n * M)).toMatchObject({
      outcome: 'error',
      errno: 'EINVAL',
      decisions: [{ code: 'kernel_lacks_op', op: 'xe_prefetch', since: '6.17' }],
    });
    expect(r.ranges()).toEqual([]);
    const s = new Run({ kernel: '6.17' });
    s.mmap(B, 2n * M);
    expect(s.do('xe_prefetch', B, 2n * M).outcome).toBe('ok');
    expect(s.ranges()).toMatchObject([{ location: 'vram', valid: true }]);
    // region=advised needs 6.18 (DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)
    expect(s.do('xe_prefetch', B, 2n * M, { region: 'advised' }).decisions).toMatchObject([
      { code: 'kernel_lacks_op', op: 'xe_prefetch region=advised', since: '6.18' },
    ]);
  });

  test('6.15 and 6.16 use a literal 5 ms timeslice; the atomic_svm_timeslice_ms knob acts from 6.17 (xe_svm_handle_pagefault ctx.timeslice_ms)', () => {
    const ts = (kernel: (typeof KERNEL_VERSIONS)[number]) => {
      const r = new Run({ kernel, atomicTimesliceMs: 50 });
      r.mmap(B, 2n * M);
      return find(r.do('gpu_atomic', B).decisions, 'fault')[0].timesliceMs;
    };
    expect(['6.15', '6.16', '6.17', '6.18', '6.18.y'].map((k) => ts(k as never))).toEqual([5, 5, 50, 50, 50]);
    expect(ts('6.15-rc1')).toBe(0); // no devmem_only, no timeslice
  });

  test('6.18 prints exactly the 37 counters of xe_gt_stats.c @ 4208fac3dce5, no hw_engine_group_* (xe_gt_stats_print_info)', () => {
    for (const k of ['6.18', '6.18.y'] as const) {
      expect(statNames(k)).toEqual(STATS_618);
    }
    expect(statNames('6.17')).toHaveLength(4);
    expect(statNames('6.16')).toHaveLength(4);
    expect(statNames('6.15')).toHaveLength(3);
  });

  test('svm_notifier_size 1 MiB: no 2M chunk fits a notifier, the largest range is 64K (drm_gpusvm_range_chunk_size)', () => {
    const r = new Run({ notifierBytes: 1n * M });
    r.mmap(B, 4n * M);
    r.do('cpu_write', B, 4n * M);
    const f = r.do('gpu_read', B + 0x1000n);
    expect(find(f.decisions, 'range')[0]).toMatchObject({ rejected: [{ pages: 512, reason: 'notifier' }] });
    expect(find(f.decisions, 'notifier_create')[0].notifier).toEqual({
      start: Number(B >> 12n),
      end: Number((B + M) >> 12n),
    });
    expect(r.ranges()).toMatchObject([{ start: Number(B >> 12n), end: Number((B + 64n * K) >> 12n) }]);
    const two = new Run({ notifierBytes: 2n * M });
    two.mmap(B, 4n * M);
    two.do('gpu_read', B);
    expect(two.ranges()[0].end - two.ranges()[0].start).toBe(512);
  });

  test('timeslice: no sleep, released at the first jiffy tick >= expiry, HZ=100 → 10 ms (__drm_pagemap_migrate_to_ram)', () => {
    const r = new Run({ hz: 100 });
    r.mmap(B, 2n * M);
    r.at(2_000_000).do('gpu_atomic', B); // jiffy 0; msecs_to_jiffies(5) = 1 → expiry jiffy 1 = 10 ms
    const cpu = r.at(3_000_000).do('cpu_read', B);
    expect(find(cpu.decisions, 'timeslice_wait')).toMatchObject([{ untilNs: 10_000_000, expiryJiffies: 1 }]);
    const late = new Run({ hz: 100 });
    late.mmap(B, 2n * M);
    late.at(0).do('gpu_atomic', B);
    expect(find(late.at(10_000_000).do('cpu_read', B).decisions, 'timeslice_wait')).toEqual([]); // jiffies == expiry: through
  });

  test('BO eviction ignores the timeslice (drm_pagemap_evict_to_ram)', () => {
    const r = new Run({ vramBytes: 2n * M });
    r.mmap(B, 4n * M);
    r.at(0).do('gpu_atomic', B); // BO#1, expiry 8 ms
    const other = r.at(1_000_000).do('gpu_read', B + 2n * M); // needs the whole VRAM: evicts BO#1 now
    expect(find(other.decisions, 'bo_evict')).toHaveLength(1);
    expect(find(other.decisions, 'timeslice_wait')).toEqual([]);
    expect(other.t).toBe(1_000_000);
    expect(r.ranges().map((x) => x.location)).toEqual(['smem', 'vram']);
  });

  for (const kernel of KERNEL_VERSIONS) {
    test(`${kernel}: get_pages -EPERM (read-only piece) and -EFAULT (PROT_NONE piece) retried without bound for a non-devmem_only fault (xe_svm_handle_pagefault / hmm_vma_fault)`, () => {
      for (const [prot, errno, cause] of [
        ['r', 'EPERM', 'read_only'],
        ['none', 'EFAULT', 'prot_none'],
      ] as const) {
        const r = new Run({ kernel, livelockBound: 8 });
        r.mmap(B, 2n * M);
        r.do('gpu_read', B);
        r.do('mprotect', B + M, M, { prot });
        const f = r.do('gpu_read', B);
        expect(f).toMatchObject({ outcome: 'error', errno: 'LIVELOCK' });
        expect(find(f.decisions, 'livelock')).toEqual([{ code: 'livelock', loop: 'handler_retry', iterations: 8 }]);
        // 8 loop iterations; from 6.15 the first one spends the single try on a migration that
        // fails with -EINVAL (the range spans two CPU VMAs) and retries without get_pages.
        const gp = find(f.decisions, 'get_pages');
        expect(gp).toHaveLength(kernel === '6.15-rc1' ? 8 : 7);
        if (kernel !== '6.15-rc1')
          expect(find(f.decisions, 'migrate_to_vram')).toMatchObject([
            { ok: false, errno: 'EINVAL', cause: 'spans_cpu_vmas' },
          ]);
        expect(gp.every((d) => d.errno === errno && d.cause === cause)).toBe(true);
        if (kernel === '6.18' || kernel === '6.18.y') expect(r.stat('svm_2M_pagefault_count')).toBe(1 + 8);
      }
    });
  }

  test('devmem_only atomic faults give up after 3 tries (6.15-6.18); 6.15-rc1 has no try count and loops (xe_svm_handle_pagefault migrate_try_count)', () => {
    for (const kernel of ['6.15', '6.16', '6.17', '6.18'] as const) {
      const r = new Run({ kernel, livelockBound: 8 });
      r.mmap(B, 2n * M);
      r.do('gpu_read', B);
      r.do('mprotect', B + M, M, { prot: 'r' });
      r.do('cpu_read', B); // pull the range back to RAM so the atomic tries to migrate
      const f = r.do('gpu_atomic', B);
      // three migration attempts fail (-EINVAL: the range spans two CPU VMAs); the third returns it
      expect(f).toMatchObject({ outcome: 'error', errno: 'EINVAL' });
      expect(find(f.decisions, 'migrate_to_vram').map((d) => d.cause)).toEqual([
        'spans_cpu_vmas',
        'spans_cpu_vmas',
        'spans_cpu_vmas',
      ]);
    }
    const rc1 = new Run({ kernel: '6.15-rc1', livelockBound: 8 });
    rc1.mmap(B, 2n * M);
    rc1.do('gpu_read', B);
    rc1.do('mprotect', B + M, M, { prot: 'r' });
    expect(rc1.do('gpu_atomic', B)).toMatchObject({ errno: 'LIVELOCK' });
  });
});
