/**
 * Paths of the model that no trace reaches, each driven through Simulator.step and checked on the
 * decisions and every GT counter (values derived by hand from the kernel rules; `_us` as ">0").
 */
import { describe, expect, test } from 'vitest';
import { allCounters, B, counters, FAULT_2M_MIGRATED_618, K, M, ONE_ZAP_618, Run, page } from '../helpers.js';

describe('copy-on-write of a zero page — do_wp_page / wp_page_copy (MMU_NOTIFY_CLEAR)', () => {
  // iGPU with a read-only mirror: the GPU fault faults the range in without REQ_WRITE, so the zero
  // pages a CPU read mapped stay zero pages under a valid SMEM range.
  const setup = () => {
    const r = new Run({ dgfx: false, mirrorReadOnly: true });
    r.mmap(B, 2n * M);
    r.do('cpu_read', B, 2n * M); // 512 zero pages
    const f = r.do('gpu_read', B);
    expect(f.decisions.find((d) => d.code === 'get_pages')).toMatchObject({ ok: true, location: 'smem', faultedIn: 0 });
    return r;
  };
  const FAULT_2M_SMEM_618 = {
    svm_pagefault_count: 1,
    svm_2M_pagefault_count: 1,
    svm_2M_pagefault_us: '>0',
    svm_2M_get_pages_us: '>0',
    svm_2M_bind_us: '>0',
  };

  test('a CPU write of two zero pages under a range: one MMU_NOTIFY_CLEAR per page; the first zaps the range (one TLB invalidation per GT), the second finds it invalid', () => {
    const r = setup();
    const w = r.do('cpu_write', B + 0x3000n, 8n * K);
    const n = { start: page(B), end: page(B + 512n * M) };
    const range = { start: page(B), end: page(B + 2n * M) };
    expect(w.decisions).toEqual([
      {
        code: 'invalidate',
        event: 'CLEAR',
        start: page(B) + 3,
        end: page(B) + 4,
        notifier: n,
        ranges: 1,
        zapped: [range],
        tlbInval: true,
        unmapped: [],
      },
      {
        code: 'invalidate',
        event: 'CLEAR',
        start: page(B) + 4,
        end: page(B) + 5,
        notifier: n,
        ranges: 1,
        zapped: [],
        tlbInval: false,
        unmapped: [],
      },
      { code: 'cpu_populate', pages: 0, zeroPages: 0, cowPages: 2 },
    ]);
    expect(r.ranges()).toMatchObject([{ ...range, location: 'smem', valid: false }]);
    expect(counters(r)).toEqual(allCounters('6.18', { ...FAULT_2M_SMEM_618, ...ONE_ZAP_618 }));
    expect(counters(r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
    // the copies are ordinary pages now: writing them again fires nothing
    expect(r.do('cpu_write', B + 0x3000n, 8n * K).decisions).toEqual([]);
  });

  test('without a range over the zero pages no notifier has a range to zap: the pages are copied silently', () => {
    const r = new Run({ dgfx: false, mirrorReadOnly: true });
    r.mmap(B, 2n * M);
    r.do('cpu_read', B, 2n * M);
    expect(r.do('cpu_write', B, 16n * K).decisions).toEqual([
      { code: 'cpu_populate', pages: 0, zeroPages: 0, cowPages: 4 },
    ]);
    expect(counters(r)).toEqual(allCounters('6.18', {}));
  });
});

describe('prefetch get_pages failure is not retried — prefetch_ranges / xe_svm_range_get_pages', () => {
  test('a range over device pages of an older BO and a new system page: -EOPNOTSUPP, the range is evicted (drm_gpusvm_range_evict) and the ioctl returns -ENODATA at once', () => {
    const r = new Run();
    r.mmap(B, 2n * M);
    r.do('gpu_read', B); // BO 1 holds the 2M
    // a 4K hole punched and mapped again: BO 1 keeps its other 511 pages, the range is gone
    r.do('munmap', B + M, 4n * K);
    r.mmap(B + M, 4n * K);
    expect(r.ranges()).toEqual([]);
    const p = r.do('xe_prefetch', B, 2n * M, { region: 'smem' });
    const range = { start: page(B), end: page(B + 2n * M) };
    expect(p).toMatchObject({ outcome: 'error', errno: 'ENODATA' });
    expect(p.decisions.map((d) => d.code)).toEqual([
      'notifier_create',
      'prefetch_collect',
      'get_pages',
      'range_evict',
      'invalidate',
      'migrate_to_ram',
      'bo_free',
    ]);
    // hmm_range_fault with REQ_WRITE faults in the one new page, then the walk meets device pages
    // and that system page: mixed placement
    expect(p.decisions[2]).toEqual({
      code: 'get_pages',
      range,
      ok: false,
      errno: 'EOPNOTSUPP',
      cause: 'mixed_placement',
      faultedIn: 1,
    });
    expect(p.decisions[5]).toEqual({ code: 'migrate_to_ram', bo: 1, ...range, pages: 511, cause: 'range_evict' });
    // exactly one get_pages: no retry
    expect(p.decisions.filter((d) => d.code === 'get_pages')).toHaveLength(1);
    expect(r.vramUsed()).toBe(0n);
    expect(r.ranges()).toMatchObject([{ ...range, location: 'smem', valid: false }]);
    // the fault, the munmap's zap, and the eviction's copy of 511 pages (4 KiB each); prefetch
    // itself charges no fault counter
    expect(counters(r)).toEqual(
      allCounters('6.18', {
        ...FAULT_2M_MIGRATED_618,
        ...ONE_ZAP_618,
        svm_cpu_copy_kb: 511 * 4,
        svm_cpu_copy_us: '>0',
        svm_2M_cpu_copy_us: '>0',
      }),
    );
    expect(counters(r, 1)).toEqual(allCounters('6.18', ONE_ZAP_618));
  });
});
