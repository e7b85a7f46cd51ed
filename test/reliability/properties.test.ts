/**
 * Property-based tests (fast-check): random valid traces over a small address space and a small
 * VRAM, for every kernel profile and platform variant, replayed with every model invariant
 * checked after every event (the simulator's WARN_ONs). A failure prints the shrunk trace; keep
 * it in test/regressions/ as a JSONL trace (the regression test below replays every file there).
 *
 * Case count: SVMSIM_PROPERTY_RUNS (default 300).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CoreEvent } from '../../src/core/events.js';
import { defaultPlatform, KERNEL_VERSIONS, type Platform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import { parseTrace } from '../../src/trace/index.js';
import { ev } from '../helpers.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300);
const BASE = 0x7f0000000000n;
const REGION_PAGES = 2048; // 8 MiB

const page = fc.integer({ min: 0, max: REGION_PAGES - 1 });
const pages = fc.constantFrom(1, 2, 16, 17, 256, 512, 600, 1024);
const addrOf = (p: number, off = 0) => BASE + BigInt(p) * 4096n + BigInt(off);

const eventArb: fc.Arbitrary<CoreEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ p: page, n: pages, prot: fc.constantFrom('rw', 'rw', 'rw', 'r', 'none'), kind: fc.constantFrom('anon', 'anon', 'anon', 'shared', 'file', 'hugetlb') }).map(({ p, n, prot, kind }) => {
    const hp = kind === 'hugetlb' ? Math.floor(p / 512) * 512 : p;
    const hn = kind === 'hugetlb' ? 512 * Math.max(1, Math.round(n / 512)) : n;
    return ev('mmap', addrOf(hp), BigInt(hn) * 4096n, { prot, kind });
  }) },
  { weight: 2, arbitrary: fc.record({ p: page, n: pages }).map(({ p, n }) => ev('munmap', addrOf(p), BigInt(n) * 4096n)) },
  { weight: 1, arbitrary: fc.record({ p: page, n: pages, prot: fc.constantFrom('r', 'rw', 'none') }).map(({ p, n, prot }) => ev('mprotect', addrOf(p), BigInt(n) * 4096n, { prot })) },
  { weight: 1, arbitrary: fc.record({ p: page, n: pages }).map(({ p, n }) => ev('madvise', addrOf(p), BigInt(n) * 4096n)) },
  { weight: 4, arbitrary: fc.record({ p: page, n: fc.integer({ min: 1, max: 40 }), w: fc.boolean(), off: fc.integer({ min: 0, max: 4095 }) }).map(({ p, n, w, off }) => ev(w ? 'cpu_write' : 'cpu_read', addrOf(p, off), BigInt(n) * 1000n)) },
  { weight: 6, arbitrary: fc.record({ p: page, n: fc.integer({ min: 1, max: 8 }), k: fc.constantFrom('gpu_read', 'gpu_write', 'gpu_atomic') }).map(({ p, n, k }) => ev(k as 'gpu_read', addrOf(p), BigInt(n) * 4096n)) },
  { weight: 2, arbitrary: fc.record({ p: page, access: fc.constantFrom('read', 'write', 'atomic') }).map(({ p, access }) => ev('gpu_fault', addrOf(p), 0n, { access })) },
  { weight: 1, arbitrary: fc.record({ p: page, n: pages, region: fc.constantFrom('smem', 'vram', 'advised') }).map(({ p, n, region }) => ev('xe_prefetch', addrOf(p), BigInt(n) * 4096n, { region })) },
  { weight: 1, arbitrary: fc.record({ p: page, n: pages, a: fc.oneof(fc.record({ preferred: fc.constantFrom('device', 'system') }), fc.record({ atomic: fc.constantFrom('undefined', 'device', 'global', 'cpu') })) }).map(({ p, n, a }) => ev('xe_madvise', addrOf(p), BigInt(n) * 4096n, a)) },
);

const platformArb: fc.Arbitrary<Platform> = fc
  .record({
    kernel: fc.constantFrom(...KERNEL_VERSIONS),
    dgfx: fc.boolean(),
    vramPages: fc.constantFrom(16, 512, 700, 1024, 2048),
    need64k: fc.boolean(),
    notifierMb: fc.constantFrom(1, 2, 4, 512),
    gc: fc.constantFrom('eager' as const, 'lazy' as const),
    deviceAtomicsOnSmem: fc.boolean(),
    vmaMerge: fc.boolean(),
  })
  .map((r) => ({
    ...defaultPlatform(r.kernel),
    dgfx: r.dgfx,
    vramBytes: BigInt(r.vramPages) * 4096n,
    need64k: r.need64k,
    notifierBytes: BigInt(r.notifierMb) << 20n,
    gc: r.gc,
    deviceAtomicsOnSmem: r.deviceAtomicsOnSmem,
    vmaMerge: r.vmaMerge,
  }));

/** Replay with invariants after every event; returns the results (throws on a broken invariant). */
function replayChecked(p: Platform, events: CoreEvent[]) {
  const sim = new Simulator(p, { checkInvariants: true });
  let t = 0;
  return events.map((e) => {
    t += 1_000_000;
    return sim.step({ ...e, t });
  });
}

describe('model invariants hold on random traces (fast-check)', () => {
  test(`${RUNS} random traces across kernels and platforms`, () => {
    fc.assert(
      fc.property(platformArb, fc.array(eventArb, { minLength: 1, maxLength: 60 }), (p, events) => {
        const results = replayChecked(p, events);
        for (const r of results) expect(['ok', 'hit', 'error']).toContain(r.outcome);
      }),
      { numRuns: RUNS },
    );
    console.log(`property test: ${RUNS} random traces replayed with invariants checked after every event`);
  });

  test('determinism: the same random trace twice gives identical results', () => {
    fc.assert(
      fc.property(platformArb, fc.array(eventArb, { minLength: 1, maxLength: 40 }), (p, events) => {
        const a = JSON.stringify(replayChecked(p, events), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        const b = JSON.stringify(replayChecked(p, events), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        expect(a).toBe(b);
      }),
      { numRuns: Math.max(20, Math.floor(RUNS / 5)) },
    );
  });
});

describe('several processes on one GPU (fast-check)', () => {
  const procEventArb = fc.tuple(fc.constantFrom(1, 2, 3), eventArb).map(([pid, e]) => ({ ...e, pid }) as CoreEvent);

  test('invariants per process and of the shared VRAM pool; one process never adds or removes another process\'s ranges', () => {
    fc.assert(
      fc.property(platformArb, fc.array(procEventArb, { minLength: 1, maxLength: 60 }), (p, events) => {
        const sim = new Simulator(p, { checkInvariants: true });
        const rangesOf = () => {
          const out = new Map<number, string>();
          for (const [pid, proc] of sim.context.procs) out.set(pid, proc.gpusvm.allRanges().map((r) => `${r.start}-${r.end}`).join(','));
          return out;
        };
        let t = 0;
        for (const e of events) {
          const before = rangesOf();
          t += 1_000_000;
          sim.step({ ...e, t });
          const after = rangesOf();
          for (const [pid, rs] of before) if (pid !== e.pid) expect(after.get(pid) ?? '').toBe(rs);
        }
        // Per-process metrics add up to the totals; BOs are held by the processes that made them.
        const snap = sim.snapshot();
        if (snap.perPid !== undefined) {
          expect(snap.perPid.reduce((a, x) => a + x.metrics.gpuFaults, 0)).toBe(snap.metrics.gpuFaults);
          expect(snap.perPid.reduce((a, x) => a + x.vramBytes, 0n)).toBe(snap.vram.used);
          expect(snap.perPid.reduce((a, x) => a + x.evictionsSuffered, 0)).toBe(snap.perPid.reduce((a, x) => a + x.evictionsCaused, 0));
        }
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 2)) },
    );
  });
});

describe('regressions (shrunk counterexamples kept as traces)', () => {
  const files = readdirSync('test/regressions').filter((f) => /\.(jsonl|csv|json)$/.test(f));
  test.each(files.length ? files : ['(none yet)'])('%s', (f) => {
    if (f === '(none yet)') return;
    const t = parseTrace(readFileSync(join('test/regressions', f), 'utf8'), { file: f });
    const sim = new Simulator({ ...defaultPlatform(t.platform.kernel ?? '6.18'), ...t.platform }, { checkInvariants: true });
    for (const e of t.events) sim.step(e.core);
  });
});
