/**
 * Kernel version profiles (docs/kernel-versions.md): one test per difference, naming the function.
 */
import { describe, expect, test } from 'vitest';
import type { Decision } from '../../src/core/decisions.js';
import { B, K, M, Run } from '../helpers.js';

const find = <C extends Decision['code']>(ds: Decision[], c: C) =>
  ds.filter((d) => d.code === c) as Extract<Decision, { code: C }>[];

describe('version profiles', () => {
  test('6.15: strict atomic policy with the literal 5 ms timeslice, ignoring the 6.17 debugfs knob (xe_svm_handle_pagefault)', () => {
    const r = new Run({ kernel: '6.15', atomicTimesliceMs: 50 });
    r.mmap(B, 2n * M);
    const f = r.do('gpu_atomic', B);
    expect(find(f.decisions, 'fault')[0]).toMatchObject({ devmemOnly: true, timesliceMs: 5, tries: 3 });
    const s = new Run({ kernel: '6.17', atomicTimesliceMs: 50 });
    s.mmap(B, 2n * M);
    expect(find(s.do('gpu_atomic', B).decisions, 'fault')[0]).toMatchObject({ timesliceMs: 50 });
  });

  test('6.15-rc1: no atomic special case (an atomic on shmem binds) and no timeslice wait for the CPU (xe_svm_handle_pagefault without devmem_only)', () => {
    const r = new Run({ kernel: '6.15-rc1' });
    r.mmap(B, 2n * M, { kind: 'shared' });
    expect(r.do('gpu_atomic', B).outcome).toBe('ok');
    const a = new Run({ kernel: '6.15-rc1' });
    a.mmap(B, 2n * M);
    a.at(0).do('gpu_atomic', B);
    expect(find(a.at(1000).do('cpu_read', B).decisions, 'timeslice_wait')).toEqual([]);
  });

  test('timeslice rounding follows HZ: msecs_to_jiffies() rounds up (HZ=1000 → 5 ms, HZ=100 → 10 ms)', () => {
    for (const [hz, until] of [
      [1000, 5_000_000],
      [100, 10_000_000],
    ] as const) {
      const r = new Run({ hz });
      r.mmap(B, 2n * M);
      r.at(0).do('gpu_atomic', B);
      expect(find(r.at(1_000_000).do('cpu_read', B).decisions, 'timeslice_wait')[0]).toMatchObject({ untilNs: until });
    }
  });

  test('NEED64K: 64K ranges migrate on every profile (< SZ_64K, xe_svm_range_needs_migrate_to_vram); need64k_rule=le replays the 6.15.0-6.15.3 regression', () => {
    const run = (kernel: '6.15' | '6.16' | '6.17' | '6.18', rule?: 'le') => {
      const r = new Run({ kernel, need64k: true, ...(rule ? { need64kRule: rule } : {}) });
      r.mmap(B, 64n * K);
      r.do('cpu_write', B, 64n * K);
      return find(r.do('gpu_read', B).decisions, 'no_migrate');
    };
    for (const k of ['6.15', '6.16', '6.17', '6.18'] as const) expect(run(k)).toEqual([]);
    expect(run('6.16', 'le')).toMatchObject([{ reason: 'need64k' }]);
  });

  test('GC unbind TLB invalidation: always up to 6.16, skipped for an invalidated range from 6.17 (xe_pt_op_check_range_skip_invalidation)', () => {
    const counts = (['6.15', '6.16', '6.17', '6.18'] as const).map((kernel) => {
      const r = new Run({ kernel });
      r.mmap(B, 2n * M);
      r.do('gpu_read', B);
      r.do('munmap', B, 2n * M);
      return r.stat('tlb_inval_count');
    });
    expect(counts).toEqual([2, 2, 1, 1]);
    const s = new Run({ scratchPages: true });
    s.mmap(B, 2n * M);
    s.do('gpu_read', B);
    s.do('munmap', B, 2n * M);
    expect(s.stat('tlb_inval_count')).toBe(2);
  });

  test('statistics exist only where the kernel has them: 6.15 counts no SVM fault, 6.17 only svm_pagefault_count', () => {
    const r15 = new Run({ kernel: '6.15' });
    r15.mmap(B, 2n * M);
    r15.do('gpu_read', B);
    expect(r15.nonZero()).toEqual({});
    const r17 = new Run({ kernel: '6.17' });
    r17.mmap(B, 2n * M);
    r17.do('gpu_read', B);
    expect(r17.nonZero()).toEqual({ svm_pagefault_count: 1 });
  });

  test('--cost-model zero: every _us counter is 0, every other counter as with the default cost model', () => {
    const run = (over: object) => {
      const r = new Run(over);
      r.mmap(B, 2n * M);
      r.do('cpu_write', B, 2n * M);
      r.do('gpu_read', B);
      r.do('cpu_read', B);
      return r;
    };
    const zero = run({ costModel: 'zero' });
    const dflt = run({});
    for (const gt of [0, 1]) {
      const z = Object.entries(zero.nonZero(gt));
      const d = Object.entries(dflt.nonZero(gt));
      expect(z.filter(([k]) => k.endsWith('_us'))).toEqual([]);
      expect(d.filter(([k]) => k.endsWith('_us')).length).toBeGreaterThan(0);
      expect(z).toEqual(d.filter(([k]) => !k.endsWith('_us')));
    }
    // the counts themselves: one 2M fault that migrates 512 pages in and the CPU read taking them back
    expect(zero.nonZero()).toMatchObject({ svm_2M_migrate_count: 1, svm_device_copy_kb: 2048, svm_cpu_copy_kb: 2048 });
  });

  test('media GT gets TLB counters only (one zap: tlb_inval_count, svm_tlb_inval_count and its µs); without a media GT there is no gt1', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    r.do('cpu_read', B);
    expect(r.nonZero(1)).toEqual({ tlb_inval_count: 1, svm_tlb_inval_count: 1, svm_tlb_inval_us: 4 });
    const n = new Run({ mediaGt: false });
    expect(n.sim.snapshot().stats.map((s) => s.gt)).toEqual([0]);
  });
});
