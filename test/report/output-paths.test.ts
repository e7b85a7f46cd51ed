/**
 * The optimised output paths against the straightforward ones (test/report/plain-reporters.ts):
 * identical bytes on random traces for every kernel profile — `--format json` written without
 * intermediate objects, `--by-range` and `--format perfetto` streamed through the external
 * sorter (with tiny runs here, so that every replay spills and merges many runs).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CoreEvent } from '../../src/core/events.js';
import type { EventResult } from '../../src/core/decisions.js';
import type { Platform } from '../../src/core/platform.js';
import { Simulator, type FinalState } from '../../src/core/simulator.js';
import { echoFields } from '../../src/replay/replay.js';
import { RangeHistory } from '../../src/report/by-range.js';
import { PerfettoReporter } from '../../src/report/perfetto.js';
import { createReporter, finalJson, type EventEcho } from '../../src/report/reporter.js';
import { eventJsonText } from '../../src/report/json-text.js';
import { ExternalSorter, memoryStore } from '../../src/report/spill.js';
import { eventArb, platformArb } from '../arbitraries.js';
import { PlainPerfettoReporter, PlainRangeHistory, plainEventJson } from './plain-reporters.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 3;

/** Trace times: none at all, from the start, or only after the first `k` events (time-base switch). */
const timesArb = fc.oneof(
  fc.constant({ kind: 'none' as const, k: 0 }),
  fc.constant({ kind: 'always' as const, k: 0 }),
  fc.record({ kind: fc.constant('late' as const), k: fc.integer({ min: 1, max: 30 }) }),
);

interface Replayed {
  steps: { echo: EventEcho; res: EventResult }[];
  final: FinalState;
}

function replayAll(p: Platform, events: CoreEvent[], times: { kind: 'none' | 'always' | 'late'; k: number }): Replayed {
  const sim = new Simulator(p, { record: true });
  const steps = events.map((e, i) => {
    const t = times.kind === 'none' || (times.kind === 'late' && i < times.k) ? 0 : (i + 1) * 1_000_003;
    const ev = { ...e, t } as CoreEvent;
    const echo: EventEcho = {
      line: i + 2,
      t,
      op: ev.op,
      addr: (BigInt(ev.page) << 12n) + BigInt(ev.offset),
      size: BigInt(ev.npages) << 12n,
      fields: echoFields(ev),
    };
    return { echo, res: sim.step(ev) };
  });
  return { steps, final: sim.snapshot() };
}

const traceArb = fc.tuple(platformArb, fc.array(eventArb, { minLength: 1, maxLength: 80 }), timesArb);

describe('optimised output paths equal the plain ones (fast-check, every kernel profile)', () => {
  test('--format json: events written directly = JSON.stringify(eventJson(...), null, 2)', () => {
    fc.assert(
      fc.property(traceArb, ([p, events, times]) => {
        const { steps, final } = replayAll(p, events, times);
        for (const { echo, res } of steps) expect(eventJsonText(echo, res)).toBe(plainEventJson(echo, res));
        // The whole document, with the final ranges written in pieces.
        let out = '';
        const r = createReporter({ format: 'json' }, (s) => (out += s));
        r.begin(p);
        for (const { echo, res } of steps) r.event(echo, res);
        r.end(final);
        // The header is the reporter's own (unchanged) begin(); the events and the end are compared.
        const head = out.slice(0, out.indexOf('"events": [') + '"events": ['.length);
        const plain =
          head +
          steps.map(({ echo, res }, i) => (i === 0 ? '\n    ' : ',\n    ') + plainEventJson(echo, res)).join('') +
          '\n  ],\n' +
          JSON.stringify(finalJson(final), null, 2).slice(2) +
          '\n';
        expect(out).toBe(plain);
      }),
      { numRuns: RUNS },
    );
  });

  test('--by-range: indexed, spilled histories = plain scan of every open history', () => {
    fc.assert(
      fc.property(traceArb, fc.constantFrom(64, 400, 1 << 20), ([p, events, times], runBytes) => {
        const { steps } = replayAll(p, events, times);
        const fast = new RangeHistory(memoryStore, runBytes);
        const plain = new PlainRangeHistory();
        for (const { echo, res } of steps) {
          fast.add(echo, res);
          plain.add(echo, res);
        }
        expect(fast.render()).toBe(plain.render());
      }),
      { numRuns: RUNS },
    );
  });

  test('--format perfetto: streamed, spilled timeline = buffered and sorted at the end', () => {
    fc.assert(
      fc.property(traceArb, fc.constantFrom(64, 400, 1 << 20), ([p, events, times], runBytes) => {
        const { steps, final } = replayAll(p, events, times);
        let fast = '';
        let plain = '';
        const a = new PerfettoReporter((s) => (fast += s), memoryStore, runBytes);
        const b = new PlainPerfettoReporter((s) => (plain += s));
        for (const r of [a, b]) {
          r.begin(p);
          for (const { echo, res } of steps) r.event(echo, res);
          r.end(final);
        }
        expect(fast).toBe(plain);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('ExternalSorter (external merge sort)', () => {
  /** Push [key, extra, text] records and drain them back as the same triples. */
  function sortAll(recs: [number, number, string][], runBytes: number, mergeBytes = 16 << 20) {
    const sorter = new ExternalSorter(
      { keys: 2, compare: (ka, ia, kb, ib) => ka[ia] - kb[ib] },
      memoryStore,
      runBytes,
      mergeBytes, // tiny read buffers: records (and multibyte characters) across reads
    );
    for (const [key, extra, text] of recs) {
      sorter.next[0] = key;
      sorter.next[1] = extra;
      sorter.push(text);
    }
    const out: [number, number, string][] = [];
    const dec = new TextDecoder();
    sorter.drain((k, at, bytes, from, to) => out.push([k[at], k[at + 1], dec.decode(bytes.subarray(from, to))]));
    return out;
  }

  test('equals a stable in-memory sort, whatever the run size and read size (keys exact, any text)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 20 }),
            // keys are stored as varints when they are integers of at most 2^31, else as doubles
            fc.oneof(
              fc.double(),
              fc.integer({ min: -(2 ** 31) - 2, max: 2 ** 31 + 2 }),
              fc.constantFrom(-0, 2 ** 31, -(2 ** 31), 2 ** 53, -(2 ** 53)),
            ),
            fc.string({ unit: 'grapheme' }), // newlines and multibyte characters included
          ),
          { maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 500 }),
        fc.constantFrom(1, 7, 100, 16 << 20),
        (recs, runBytes, mergeBytes) => {
          expect(sortAll(recs, runBytes, mergeBytes)).toEqual([...recs].sort((a, b) => a[0] - b[0]));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('a record larger than the write and read buffers survives a spill', () => {
    const big = 'x'.repeat(300 << 10) + '\u00e9';
    const recs: [number, number, string][] = [
      [2, 0, 'b'],
      [1, 0, big],
      [0, 0, 'a'],
    ];
    expect(sortAll(recs, 1, 4096)).toEqual([recs[2], recs[1], recs[0]]);
  });
});
