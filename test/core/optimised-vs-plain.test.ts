/**
 * The optimised core (src/core) against the straightforward one it replaced
 * (test/reference/core-baseline, src/core at 9ee19e8): on random traces for every kernel profile and
 * platform variant, every event's outcome, errno and decision records, the GT stats and the final
 * state must be identical — with decisions recorded, without (the hot paths that skip building
 * records), and with CONFIG_DRM_XE_DEBUG_VM print points.
 *
 * Case count: SVMSIM_PROPERTY_RUNS (default 300).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CoreEvent } from '../../src/core/events.js';
import type { Platform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import { Simulator as PlainSimulator } from '../reference/core-baseline/simulator.js';
import { eventArb, platformArb } from '../arbitraries.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300);

type Mode = { record: boolean; debugVm: boolean };
const MODES: Mode[] = [
  { record: true, debugVm: false },
  { record: false, debugVm: false },
  { record: true, debugVm: true },
];

/** Replay through one model; every event's result is copied (a non-recording replay reuses one object). */
function replay(Sim: typeof Simulator | typeof PlainSimulator, p: Platform, events: CoreEvent[], mode: Mode) {
  const sim = new Sim(p, mode);
  let t = 0;
  const results = events.map((e) => {
    t += 1_000_000;
    const r = sim.step({ ...e, t });
    return structuredClone({ ...r, decisions: mode.record ? r.decisions : [] });
  });
  return { results, final: structuredClone(sim.snapshot()) };
}

const pidArb = fc.constantFrom(undefined, undefined, undefined, 2, 3);
const traceArb = fc.array(
  fc.tuple(eventArb, pidArb).map(([e, pid]) => (pid === undefined ? e : { ...e, pid })),
  { minLength: 1, maxLength: 80 },
);

describe('optimised core = straightforward core (fast-check, every kernel profile)', () => {
  for (const mode of MODES) {
    test(`decisions, outcomes, stats and final state identical (record=${mode.record}, debugVm=${mode.debugVm})`, () => {
      fc.assert(
        fc.property(platformArb, traceArb, (p, events) => {
          const fast = replay(Simulator, p, events, mode);
          const plain = replay(PlainSimulator, p, events, mode);
          expect(fast.results).toEqual(plain.results);
          expect(fast.final).toEqual(plain.final);
        }),
        { numRuns: RUNS, seed: 12 },
      );
    });
  }
});
