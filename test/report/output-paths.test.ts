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
import { ExternalSorter, FAN_IN, memoryStore, type TempStore } from '../../src/report/spill.js';
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
      fc.property(
        traceArb,
        fc.constantFrom(64, 400, 1 << 20),
        fc.constantFrom(2, 3, 512),
        ([p, events, times], runBytes, fanIn) => {
          const { steps } = replayAll(p, events, times);
          const fast = new RangeHistory(memoryStore, runBytes, fanIn);
          const plain = new PlainRangeHistory();
          for (const { echo, res } of steps) {
            fast.add(echo, res);
            plain.add(echo, res);
          }
          expect(fast.render()).toBe(plain.render());
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('--format perfetto: streamed, spilled timeline = buffered and sorted at the end', () => {
    fc.assert(
      fc.property(
        traceArb,
        fc.constantFrom(64, 400, 1 << 20),
        fc.constantFrom(2, 3, 512),
        ([p, events, times], runBytes, fanIn) => {
          const { steps, final } = replayAll(p, events, times);
          let fast = '';
          let plain = '';
          // Tiny runs and fan-in: many runs, merged in groups over several levels.
          const a = new PerfettoReporter((s) => (fast += s), memoryStore, runBytes, fanIn);
          const b = new PlainPerfettoReporter((s) => (plain += s));
          // To an output that takes bytes (the CLI's stdout and files): the same text, no strings.
          const chunks: Buffer[] = [];
          const c = new PerfettoReporter(
            () => expect.unreachable('a string to a bytes output'),
            memoryStore,
            runBytes,
            fanIn,
            (bytes) => chunks.push(Buffer.from(bytes)),
          );
          for (const r of [a, b, c]) {
            r.begin(p);
            for (const { echo, res } of steps) r.event(echo, res);
            r.end(final);
          }
          expect(fast).toBe(plain);
          expect(Buffer.concat(chunks).toString('utf8')).toBe(plain);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('ExternalSorter (external merge sort)', () => {
  /** Push [key, extra, text] records and drain them back as the same triples. */
  function sortAll(recs: [number, number, string][], runBytes: number, mergeBytes = 16 << 20, fanIn = FAN_IN) {
    const sorter = new ExternalSorter(
      { keys: 2, compare: (ka, ia, kb, ib) => ka[ia] - kb[ib] },
      memoryStore,
      runBytes,
      mergeBytes, // tiny read buffers: records (and multibyte characters) across reads
      fanIn, // tiny fan-in: runs merged in groups first, over several levels
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
        fc.constantFrom(2, 3, 5, FAN_IN),
        (recs, runBytes, mergeBytes, fanIn) => {
          expect(sortAll(recs, runBytes, mergeBytes, fanIn)).toEqual([...recs].sort((a, b) => a[0] - b[0]));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('group merges: with more runs than the fan-in, each level leaves at most FAN_IN runs; every store is released', () => {
    // 40 runs of one record each, fan-in 4 (more than 4² runs): level 1 merges all 40 in 10 groups
    // of 4; level 2 merges 2 groups of 4 (10 - 2 × 3 = 4 runs left); then the final merge of 4.
    const stores: { bytes: number; disposed: boolean }[] = [];
    const counting = (): TempStore => {
      const m = memoryStore();
      const s = { bytes: 0, disposed: false };
      stores.push(s);
      return {
        ...m,
        append: (b) => {
          s.bytes += b.length;
          m.append(b);
        },
        dispose: () => {
          s.disposed = true;
          m.dispose();
        },
      };
    };
    const sorter = new ExternalSorter({ keys: 1, compare: (ka, ia, kb, ib) => ka[ia] - kb[ib] }, counting, 1, 4096, 4);
    for (let i = 0; i < 40; i++) {
      sorter.next[0] = (i * 17) % 40;
      sorter.push(`r${i}`);
    }
    const out: number[] = [];
    sorter.drain((k, at) => out.push(k[at]));
    expect(out).toEqual([...Array(40).keys()]);
    expect(stores.length).toBe(3); // the spill, one store per level
    expect(stores.every((s) => s.disposed)).toBe(true);
    // Level 1 rewrote every record, level 2 the 32 of its first 8 runs (as spilled: same bytes per record).
    expect(stores[1].bytes).toBe(stores[0].bytes);
    expect(stores[2].bytes).toBeGreaterThan(stores[0].bytes * 0.7);
    expect(stores[2].bytes).toBeLessThan(stores[0].bytes * 0.9);
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
