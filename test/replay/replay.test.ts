/**
 * The replay driver (src/replay/replay.ts): platform precedence, the heap guard's error, the model's warm-up.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { describeFailure } from '../../src/cli/errors.js';
import type { CoreEvent } from '../../src/core/events.js';
import { defaultPlatform, type Platform } from '../../src/core/platform.js';
import { createReporter } from '../../src/report/reporter.js';
import { ModelMemoryError } from '../../src/replay/errors.js';
import { buildPlatform, replay } from '../../src/replay/replay.js';
import { asByteEvent, ByteEvent } from '../../src/trace/csv-bytes.js';
import type { ParsedEvent } from '../../src/trace/parse.js';
import { eventArb, platformArb } from '../arbitraries.js';

describe('replay driver', () => {
  test('buildPlatform: defaults of the kernel ← trace header ← command line; the kernel chooses the defaults', () => {
    expect(buildPlatform({}, {})).toEqual(defaultPlatform('6.18'));
    const p = buildPlatform({ kernel: '6.16', vramBytes: 1n << 30n, hz: 100 }, { vramBytes: 2n << 30n });
    expect(p).toEqual({ ...defaultPlatform('6.16'), vramBytes: 2n << 30n, hz: 100, kernel: '6.16' });
    // the command line's kernel wins, and its defaults apply under the trace's own knobs
    expect(buildPlatform({ kernel: '6.16', hz: 100 }, { kernel: '6.18.y' })).toEqual({
      ...defaultPlatform('6.18.y'),
      hz: 100,
      kernel: '6.18.y',
    });
  });

  test('a model that outgrows the heap (ModelMemoryError) is bad input, exit 2, not an internal error', () => {
    expect(describeFailure(new ModelMemoryError('the model state outgrew 900 MB of the 1000 MB heap'))).toEqual({
      code: 2,
      message: 'svmsim: the model state outgrew 900 MB of the 1000 MB heap',
    });
  });
});

describe('warmUpModel (replay option warmUp)', () => {
  /** The events as the readers give them: one reused ByteEvent, valid until the next. */
  function* asRead(events: CoreEvent[]): Generator<ParsedEvent> {
    const into = new ByteEvent();
    let t = 0;
    let line = 1;
    for (const e of events) {
      t += 1_000_000;
      yield asByteEvent({ core: { ...e, t }, line: ++line, addr: 0n, size: BigInt(e.npages) * 4096n }, into);
    }
  }
  const run = (p: Platform, events: CoreEvent[], format: 'jsonl' | 'debugfs', warmUp: boolean) => {
    let out = '';
    const sim = replay(
      asRead(events),
      p,
      createReporter({ format, gt: 0 }, (s) => void (out += s)),
      { warmUp },
    );
    return { out, final: structuredClone(sim.snapshot()) };
  };

  test('a replay after the warm-up is the replay without it: every event, decision and counter (fast-check, every kernel profile)', () => {
    fc.assert(
      fc.property(platformArb, fc.array(eventArb, { minLength: 1, maxLength: 60 }), (p, events) => {
        for (const format of ['jsonl', 'debugfs'] as const) {
          expect(run(p, events, format, true)).toEqual(run(p, events, format, false));
        }
      }),
      { numRuns: Number(process.env.SVMSIM_PROPERTY_RUNS ?? 100), seed: 7 },
    );
  });
});
