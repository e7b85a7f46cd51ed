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
import { defaultPlatform, type Platform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import { parseTrace } from '../../src/trace/index.js';
import { eventArb, platformArb } from '../arbitraries.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300);
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
  test(`${RUNS} random traces across kernels and platforms: no invariant breaks after any event`, () => {
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

  test("invariants per process and of the shared VRAM pool; one process never adds or removes another process's ranges; per-pid metrics add up to the totals", () => {
    let multi = 0;
    fc.assert(
      fc.property(platformArb, fc.array(procEventArb, { minLength: 1, maxLength: 60 }), (p, events) => {
        const sim = new Simulator(p, { checkInvariants: true });
        const rangesOf = () => {
          const out = new Map<number, string>();
          for (const [pid, proc] of sim.context.procs)
            out.set(
              pid,
              proc.gpusvm
                .allRanges()
                .map((r) => `${r.start}-${r.end}`)
                .join(','),
            );
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
          multi++;
          expect(snap.perPid.reduce((a, x) => a + x.metrics.gpuFaults, 0)).toBe(snap.metrics.gpuFaults);
          expect(snap.perPid.reduce((a, x) => a + x.vramBytes, 0n)).toBe(snap.vram.used);
          expect(snap.perPid.reduce((a, x) => a + x.evictionsSuffered, 0)).toBe(
            snap.perPid.reduce((a, x) => a + x.evictionsCaused, 0),
          );
        }
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 2)) },
    );
    // Not vacuous: the per-pid sums were checked on traces with several processes.
    expect(multi).toBeGreaterThan(10);
  });
});

describe('regressions (shrunk counterexamples kept as traces)', () => {
  const files = readdirSync('test/regressions').filter((f) => /\.(jsonl|csv|json)$/.test(f));
  test('test/regressions holds the kept counterexamples', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  test.each(files)('%s replays with every model invariant checked after each event', (f) => {
    const t = parseTrace(readFileSync(join('test/regressions', f), 'utf8'), { file: f });
    expect(t.events.length).toBeGreaterThan(0);
    const sim = new Simulator(
      { ...defaultPlatform(t.platform.kernel ?? '6.18'), ...t.platform },
      { checkInvariants: true },
    );
    for (const e of t.events) sim.step(e.core); // a broken invariant throws ModelInvariantError
  });
});
