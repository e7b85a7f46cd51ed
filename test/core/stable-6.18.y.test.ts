/**
 * The 6.18.y profile (read in 6.18.10): four behaviours, each a knob defaulting true on 6.18.y and
 * false elsewhere. Each test runs the scenario with the knob on and off and names the function.
 */
import { describe, expect, test } from 'vitest';
import type { Decision } from '../../src/core/decisions.js';
import { defaultPlatform, KERNEL_VERSIONS } from '../../src/core/platform.js';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, K, M, ONE_ZAP_618, Run, page } from '../helpers.js';

const find = <C extends Decision['code']>(ds: Decision[], c: C) =>
  ds.filter((d) => d.code === c) as Extract<Decision, { code: C }>[];

describe('6.18.y knobs', () => {
  test('defaults: all four true on 6.18.y only', () => {
    for (const k of KERNEL_VERSIONS) {
      const p = defaultPlatform(k);
      const want = k === '6.18.y';
      expect([
        p.faultExitReturnsZero,
        p.prefSystemOwnerNull,
        p.devmemOnlyFailToGetPages,
        p.madviseAutoresetGate,
      ]).toEqual([want, want, want, want]);
    }
  });

  test('fault_exit_returns_zero: exhausted devmem_only get_pages retries are acked without a bind and the GPU replays (xe_svm_handle_pagefault out)', () => {
    // NEED64K: a 4K range never migrates, so the atomic's get_pages meets system pages under
    // devmem_only (-EFAULT) three times: "retry count exceeded" → `out`.
    const setup = (kernel: '6.18' | '6.18.y') => {
      const r = new Run({ kernel, need64k: true, livelockBound: 4 });
      r.mmap(B, 8n * K);
      return { r, f: r.do('gpu_atomic', B) };
    };
    const a = setup('6.18');
    expect(a.f).toMatchObject({ outcome: 'error', errno: 'EFAULT' });
    expect(find(a.f.decisions, 'get_pages').map((d) => d.cause)).toEqual([
      'smem_devmem_only',
      'smem_devmem_only',
      'smem_devmem_only',
    ]);
    expect(counters(a.r)).toEqual(
      allCounters('6.18', { svm_pagefault_count: 1, svm_4K_pagefault_count: 3, svm_4K_pagefault_us: '>0' }),
    );
    const b = setup('6.18.y');
    expect(b.f).toMatchObject({ outcome: 'error', errno: 'LIVELOCK' });
    expect(find(b.f.decisions, 'fault_acked_unbound')).toHaveLength(4);
    expect(find(b.f.decisions, 'gpu_replay').map((d) => d.replays)).toEqual([1, 2, 3]);
    // 4 handler invocations × 3 loop iterations each
    expect(counters(b.r)).toEqual(
      allCounters('6.18.y', { svm_pagefault_count: 4, svm_4K_pagefault_count: 12, svm_4K_pagefault_us: '>0' }),
    );

    // A gpu_fault record is one handler invocation: with the knob it is acked (outcome ok, unbound).
    const y = new Run({ kernel: '6.18.y' });
    y.mmap(B, 2n * M, { kind: 'shared' });
    const g = y.do('gpu_fault', B, 1n, { access: 'atomic' });
    expect(g.outcome).toBe('ok');
    expect(find(g.decisions, 'fault_acked_unbound')).toMatchObject([{ errno: 'EACCES' }]);
    expect(y.stat('svm_pagefault_count')).toBe(1);
    const off = new Run({ kernel: '6.18.y', faultExitReturnsZero: false });
    off.mmap(B, 2n * M, { kind: 'shared' });
    expect(off.do('gpu_fault', B, 1n, { access: 'atomic' })).toMatchObject({ outcome: 'error', errno: 'EACCES' });
    const on = new Run({ kernel: '6.18', faultExitReturnsZero: true });
    on.mmap(B, 2n * M, { kind: 'shared' });
    expect(on.do('gpu_fault', B, 1n, { access: 'atomic' }).outcome).toBe('ok');
  });

  test('fault_exit_returns_zero: errors before `out` are still returned (no CPU VMA, atomic attribute CPU, VRAM give-up)', () => {
    const r = new Run({ kernel: '6.18.y' });
    expect(r.do('gpu_read', B)).toMatchObject({ errno: 'ENOENT' });
    r.mmap(B, 2n * M);
    r.do('xe_madvise', B, 2n * M, { atomic: 'cpu' });
    expect(r.do('gpu_atomic', B)).toMatchObject({ errno: 'EACCES' });
    const v = new Run({ kernel: '6.18.y', vramBytes: 1n * M });
    v.mmap(B, 2n * M);
    expect(v.do('gpu_atomic', B)).toMatchObject({ errno: 'ENOMEM' });
    // 6.18.y: get_pages runs between the attempts (-EFAULT, system pages under devmem_only)
    expect(v.stat('svm_2M_migrate_count')).toBe(3);
    expect(v.stat('svm_2M_pagefault_count')).toBe(3);
  });

  test('pref_system_owner_null: with preferred=system our VRAM pages count absent in check_pages and get_pages pulls them back (drm_gpusvm_check_pages / hmm_range_fault owner NULL)', () => {
    const run = (over: object) => {
      const r = new Run(over);
      r.mmap(B, 4n * M);
      r.do('gpu_read', B); // 2M range in VRAM (BO 1)
      r.do('xe_madvise', B, 2n * M, { preferred: 'system' }); // zap only, pages stay in VRAM
      r.do('munmap', B + M, 4n * K); // destroys the range; device pages remain on both sides
      const f = r.do('gpu_read', B);
      return { r, f };
    };
    // (the gate keeps the GC from resetting preferred=system when the munmap removes the range)
    const a = run({ kernel: '6.18', madviseAutoresetGate: true });
    expect(find(a.f.decisions, 'no_migrate')).toMatchObject([{ reason: 'not_preferred' }]);
    // owner = xe: the 64K candidate's device pages count present; get_pages maps them as VRAM
    expect(a.r.ranges()[0]).toMatchObject({ start: page(B), end: page(B + 64n * K), location: 'vram' });
    expect(find(a.f.decisions, 'migrate_to_ram')).toEqual([]);
    const b = run({ kernel: '6.18.y' });
    expect(find(b.f.decisions, 'fault')[0]).toMatchObject({ ownerNull: true });
    expect(find(b.f.decisions, 'range')[0]).toMatchObject({
      rejected: [
        { pages: 512, reason: 'cpu_vma' },
        { pages: 16, reason: 'check_pages' },
      ],
    });
    // the hmm walk pulls the allocation's window [B, B+1M) (clamped to the CPU VMA) back to RAM
    expect(find(b.f.decisions, 'migrate_to_ram')).toMatchObject([
      { cause: 'get_pages', start: page(B), end: page(B + M), pages: 256 },
    ]);
    expect(b.r.ranges()[0]).toMatchObject({ start: page(B), end: page(B) + 1, location: 'smem', valid: true });
    expect(b.r.vramUsed()).toBe(2n * M); // the BO lives on for the pages above the hole
    expect(counters(b.r).svm_cpu_copy_kb).toBe(1024);
    // knob off on 6.18.y behaves as 6.18, knob on 6.18 as 6.18.y
    expect(run({ kernel: '6.18.y', prefSystemOwnerNull: false }).r.ranges()[0]).toMatchObject({ location: 'vram' });
    expect(run({ kernel: '6.18', prefSystemOwnerNull: true, madviseAutoresetGate: true }).r.ranges()[0]).toMatchObject({
      location: 'smem',
    });
  });

  test('devmem_only_fail_to_get_pages: an atomic over pages already in one BO is mapped from VRAM instead of failing three times (xe_svm_handle_pagefault)', () => {
    const run = (over: object) => {
      const r = new Run(over);
      r.mmap(B, 4n * M);
      r.do('gpu_read', B); // 2M in VRAM
      r.do('munmap', B + M, 4n * K); // range destroyed, device pages stay
      return { r, f: r.do('gpu_atomic', B) };
    };
    const a = run({ kernel: '6.18' });
    expect(a.f).toMatchObject({ outcome: 'error', errno: 'EFAULT' });
    expect(find(a.f.decisions, 'migrate_to_vram').map((d) => [d.errno, d.cause])).toEqual([
      ['EFAULT', 'all_device_private'],
      ['EFAULT', 'all_device_private'],
      ['EFAULT', 'all_device_private'],
    ]);
    // every counter: the 2M fault (E1), the munmap's zap of the bound range (one per GT), then one
    // handler call whose three iterations each count a 64K fault and a migration attempt
    // (migrate_us per attempt) and end in the error without pagefault_us
    const setupCounters = { ...FAULT_2M_MIGRATED_618, ...ONE_ZAP_618, svm_pagefault_count: 2 };
    expect(counters(a.r)).toEqual(
      allCounters('6.18', {
        ...setupCounters,
        svm_64K_pagefault_count: 3,
        svm_64K_migrate_count: 3,
        svm_64K_migrate_us: '>0',
      }),
    );
    expect(counters(a.r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
    const b = run({ kernel: '6.18.y' });
    expect(b.f.outcome).toBe('ok');
    expect(find(b.f.decisions, 'migrate_failed_get_pages')).toHaveLength(1);
    expect(b.r.ranges()[0]).toMatchObject({ start: page(B), end: page(B + 64n * K), location: 'vram', valid: true });
    // one iteration: the failed migration, then get_pages maps the device pages and binds
    expect(counters(b.r)).toEqual(
      allCounters('6.18.y', {
        ...setupCounters,
        svm_64K_pagefault_count: 1,
        svm_64K_pagefault_us: '>0',
        svm_64K_migrate_count: 1,
        svm_64K_migrate_us: '>0',
        svm_64K_get_pages_us: '>0',
        svm_64K_bind_us: '>0',
      }),
    );
    expect(counters(b.r, 1)).toEqual(allCounters('6.18.y', ONE_ZAP_618));
    expect(run({ kernel: '6.18.y', devmemOnlyFailToGetPages: false }).f).toMatchObject({ errno: 'EFAULT' });
  });

  test('madvise_autoreset_gate: the GC resets attributes only of a VMA bound with MADVISE_AUTORESET (xe_svm_range_set_default_attr)', () => {
    const run = (over: object) => {
      const r = new Run(over);
      r.mmap(B, 4n * M);
      r.do('xe_madvise', B, 64n * K, { preferred: 'system' });
      r.do('gpu_read', B);
      return r.do('munmap', B, 64n * K);
    };
    expect(find(run({ kernel: '6.18' }).decisions, 'gpuvma_attr_reset')).toHaveLength(1);
    expect(find(run({ kernel: '6.18.y' }).decisions, 'gpuvma_attr_reset')).toEqual([]);
    expect(find(run({ kernel: '6.18.y', mirrorMadviseAutoreset: true }).decisions, 'gpuvma_attr_reset')).toHaveLength(
      1,
    );
    expect(find(run({ kernel: '6.18', madviseAutoresetGate: true }).decisions, 'gpuvma_attr_reset')).toEqual([]);
  });

  test('E1 on 6.18.y counts as on 6.18 (every counter of gt0 and gt1) — xe_svm_handle_pagefault', () => {
    for (const kernel of ['6.18', '6.18.y'] as const) {
      const r = new Run({ kernel });
      r.mmap(B, 4n * M);
      r.do('gpu_read', B + 0x1000n);
      expect(counters(r)).toEqual(allCounters(kernel, FAULT_2M_MIGRATED_618));
      expect(counters(r, 1)).toEqual(allCounters(kernel, {}));
    }
  });
});
