/**
 * Several processes on one GPU: each pid has its own mm and Xe VM (asid, notifiers, ranges, GC);
 * VRAM, its TTM eviction order and the GT counters are shared. Expected values follow the kernel
 * rules of xe_svm_bo_evict / drm_pagemap_evict_to_ram, xe_svm_invalidate and
 * xe_svm_garbage_collector applied to each process's own VM.
 */
import { describe, expect, test } from 'vitest';
import type { Decision } from '../../src/core/decisions.js';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, M, ONE_ZAP_618, Run, page } from '../helpers.js';

const find = <C extends Decision['code']>(ds: Decision[], c: C) =>
  ds.filter((d) => d.code === c) as Extract<Decision, { code: C }>[];

describe('several processes, one GPU', () => {
  test("cross-process eviction: pid 2 allocating VRAM evicts pid 1's BO and zaps the range in pid 1's VM (drm_pagemap_evict_to_ram)", () => {
    const r = new Run({ vramBytes: 2n * M });
    r.mmap(B, 2n * M, { pid: 1 });
    r.do('cpu_write', B, 2n * M, { pid: 1 });
    r.do('gpu_read', B, 1n, { pid: 1 }); // pid 1: BO#1 2M in VRAM, bound
    r.mmap(B, 2n * M, { pid: 2 }); // the same virtual address in another mm
    const f = r.do('gpu_read', B, 1n, { pid: 2 });
    expect(find(f.decisions, 'bo_evict')).toMatchObject([{ bo: 1, pid: 1 }]);
    // the eviction's callbacks run in pid 1's VM, then the fault continues in pid 2's
    expect(find(f.decisions, 'process').map((d) => d.pid)).toEqual([1, 2]);
    const snap = r.sim.snapshot();
    expect(snap.ranges).toEqual([
      { pid: 1, start: page(B), end: page(B + 2n * M), location: 'smem', valid: false, createdSeq: 2 },
      { pid: 2, start: page(B), end: page(B + 2n * M), location: 'vram', valid: true, createdSeq: 4 },
    ]);
    expect(snap.perPid).toMatchObject([
      { pid: 1, asid: 1, vramBytes: 0n, bos: 0, evictionsSuffered: 1, evictionsCaused: 0, ranges: 1 },
      { pid: 2, asid: 2, vramBytes: 2n * M, bos: 1, evictionsSuffered: 0, evictionsCaused: 1, ranges: 1 },
    ]);
    expect(snap.perPid![0].metrics).toMatchObject({
      gpuFaults: 1,
      migrationsToVram: 1,
      migrationsToRam: 1,
      evictions: 1,
      tlbInvalidations: 1,
    });
    expect(snap.perPid![1].metrics).toMatchObject({
      gpuFaults: 1,
      migrationsToVram: 1,
      migrationsToRam: 0,
      evictions: 0,
      tlbInvalidations: 0,
    });
    // shared GTs: both faults, one zap of pid 1's range (one range piece → one TLB invalidation), 512 pages copied back
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        ...FAULT_2M_MIGRATED_618,
        svm_pagefault_count: 2,
        svm_2M_pagefault_count: 2,
        svm_2M_migrate_count: 2,
        svm_device_copy_kb: 2048, // pid 2's pages are untouched: nothing to copy for it
        svm_device_copy_us: '>0',
        svm_2M_device_copy_us: '>0',
        svm_cpu_copy_kb: 2048,
        svm_cpu_copy_us: '>0',
        svm_2M_cpu_copy_us: '>0',
        ...ONE_ZAP_618,
      }),
    );
    // the media GT: the TLB side of that one zap only
    expect(counters(r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
    // pid 1's next GPU access faults again in its own VM and evicts pid 2 in turn
    const back = r.do('gpu_read', B, 1n, { pid: 1 });
    expect(find(back.decisions, 'bo_evict')).toMatchObject([{ bo: 2, pid: 2 }]);
  });

  test("per-process GC: a munmap in pid 1 unmaps and collects only pid 1's ranges, pid 2's range at the same address stays bound (xe_svm_garbage_collector)", () => {
    for (const gc of ['eager', 'lazy'] as const) {
      const r = new Run({ gc });
      for (const pid of [1, 2]) {
        r.mmap(B, 4n * M, { pid });
        r.do('gpu_read', B, 1n, { pid });
      }
      const un = r.do('munmap', B, 4n * M, { pid: 1 });
      const inv = find(un.decisions, 'invalidate');
      expect(inv).toHaveLength(1);
      expect(inv[0]).toMatchObject({ event: 'UNMAP', zapped: [{ start: page(B) }], unmapped: [{ start: page(B) }] });
      const p1 = r.sim.context.procs.get(1)!;
      const p2 = r.sim.context.procs.get(2)!;
      expect(p2.vm.gcList).toEqual([]);
      if (gc === 'lazy') {
        expect(p1.vm.gcList).toHaveLength(1);
        // pid 2's fault runs pid 2's GC only
        r.do('gpu_read', B + 2n * M, 1n, { pid: 2 });
        expect(p1.vm.gcList).toHaveLength(1);
        const f = r.do('gpu_read', B + 0x10000000n, 1n, { pid: 1 });
        expect(find(f.decisions, 'gc_range')).toHaveLength(1);
      }
      expect(p1.gpusvm.allRanges()).toEqual([]);
      expect(p2.gpusvm.allRanges().map((x) => [x.start, x.valid, x.hasDevmemPages])).toContainEqual([
        page(B),
        true,
        true,
      ]);
      expect(p2.gpusvm.notifiers.size).toBe(1);
      const hit = r.do('gpu_read', B, 1n, { pid: 2 });
      expect(hit.outcome).toBe('hit');
    }
  });

  test("a CPU touch in pid 2 never migrates pid 1's VRAM pages at the same address (separate page tables)", () => {
    const r = new Run();
    r.mmap(B, 2n * M, { pid: 1 });
    r.do('gpu_read', B, 1n, { pid: 1 });
    r.mmap(B, 2n * M, { pid: 2 });
    const cpu = r.do('cpu_write', B, 2n * M, { pid: 2 });
    expect(find(cpu.decisions, 'migrate_to_ram')).toEqual([]);
    expect(find(cpu.decisions, 'invalidate')).toEqual([]);
    expect(r.sim.snapshot().ranges).toMatchObject([{ pid: 1, location: 'vram', valid: true }]);
  });

  test('single-process traces are unchanged: no pid on ranges, no per-pid breakdown; a trace using only pid 7 has one process with asid 1', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B);
    const s = r.sim.snapshot();
    expect(s.perPid).toBeUndefined();
    expect(s.ranges[0].pid).toBeUndefined();
    const q = new Run();
    q.mmap(B, 2n * M, { pid: 7 });
    q.do('gpu_read', B, 1n, { pid: 7 });
    expect([...q.sim.context.procs.keys()]).toEqual([7]);
    expect(q.sim.context.procs.get(7)!.asid).toBe(1);
    expect(q.sim.snapshot().perPid).toBeUndefined();
  });
});
