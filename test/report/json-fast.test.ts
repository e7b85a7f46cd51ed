/**
 * The compiled JSON writers (src/report/json-text.ts) against the plain path
 * (JSON.stringify(eventJson(...))): the same bytes for `--format jsonl` and `--format json` on
 * random traces of every kernel profile, and on random well-formed decision records of every
 * registry code (random values of each field's kind: huge and negative page numbers, bigints,
 * non-ASCII strings, optional fields absent or undefined). Also the hex formatting against BigInt.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DECISIONS, type Decision, type EventResult, type FieldSpec, Span } from '../../src/core/decisions.js';
import type { CoreEvent } from '../../src/core/events.js';
import type { Platform } from '../../src/core/platform.js';
import { Simulator } from '../../src/core/simulator.js';
import { echoFields } from '../../src/replay/replay.js';
import { hexAddr, hexDigits, hexPage } from '../../src/report/format.js';
import { eventJsonLine, eventJsonText, JsonOut, writeEvent } from '../../src/report/json-text.js';
import { heldSink, jsonRecordEnd, lineEnd } from '../../src/cli/output.js';
import { defaultPlatform } from '../../src/core/platform.js';
import { createReporter, eventJson, finalJson, headerJson, type EventEcho } from '../../src/report/reporter.js';
import { eventArb, platformArb } from '../arbitraries.js';
import { plainEventJson } from './plain-reporters.js';

const RUNS = Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 3;

function replayAll(p: Platform, events: CoreEvent[]) {
  const sim = new Simulator(p, { record: true });
  const steps = events.map((e, i) => {
    const ev = { ...e, t: i * 1_000_003 } as CoreEvent;
    const echo: EventEcho = {
      line: i + 2,
      t: ev.t,
      op: ev.op,
      addr: (BigInt(ev.page) << 12n) + BigInt(ev.offset),
      // as the replay's echo: the writers print the address from these, the plain path from addr
      page: ev.page,
      offset: ev.offset,
      size: BigInt(ev.npages) << 12n,
      // every other event's size also as a number, as the CSV reader's echo has it
      ...(i % 2 === 0 ? { sizeNumber: ev.npages * 4096 } : {}),
      fields: echoFields(ev),
    };
    return { echo, res: sim.step(ev) };
  });
  return { steps, final: sim.snapshot() };
}

/** The JSONL result the plain way (JSON.stringify of every record). */
function plainJsonl(
  p: Platform,
  steps: { echo: EventEcho; res: EventResult }[],
  final: ReturnType<Simulator['snapshot']>,
): string {
  const f = finalJson(final);
  const lines = [
    JSON.stringify(headerJson(p, undefined)),
    ...steps.map(({ echo, res }) => JSON.stringify(eventJson(echo, res))),
  ];
  for (const r of f.ranges as unknown[]) lines.push(JSON.stringify({ range: r }));
  lines.push(
    JSON.stringify({ vram: f.vram }),
    JSON.stringify({ stats: f.stats }),
    JSON.stringify({ metrics: f.metrics }),
  );
  for (const x of (f.per_pid as unknown[] | undefined) ?? []) lines.push(JSON.stringify({ process: x }));
  for (const t of f.thrashing as unknown[]) lines.push(JSON.stringify({ thrashing: t }));
  lines.push(JSON.stringify({ end: { events: steps.length, ranges: final.ranges.length } }));
  return lines.join('\n') + '\n';
}

describe('compiled JSON writers equal JSON.stringify (fast-check)', () => {
  test('--format jsonl on random traces, every kernel profile: the whole result byte for byte', () => {
    fc.assert(
      fc.property(platformArb, fc.array(eventArb, { minLength: 1, maxLength: 80 }), (p, events) => {
        const { steps, final } = replayAll(p, events);
        for (const { echo, res } of steps) expect(eventJsonLine(echo, res)).toBe(JSON.stringify(eventJson(echo, res)));
        let out = '';
        const r = createReporter({ format: 'jsonl' }, (s) => (out += s));
        r.begin(p);
        for (const { echo, res } of steps) r.event(echo, res);
        r.end(final);
        expect(out).toBe(plainJsonl(p, steps, final));
      }),
      { numRuns: RUNS },
    );
  });

  test('every registry code with random field values (each code sampled on its own, then random mixes): jsonl and json layouts', () => {
    const check = (decisions: Decision[], addr: number) => {
      const echo: EventEcho = {
        line: 3,
        t: 12,
        op: 'gpu_fault',
        addr: BigInt(addr),
        size: 0n,
        fields: [['access', 'read']],
      };
      const res: EventResult = { seq: 1, op: 'gpu_fault', t: 15, outcome: 'ok', decisions };
      expect(eventJsonLine(echo, res)).toBe(JSON.stringify(eventJson(echo, res)));
      expect(eventJsonText(echo, res)).toBe(plainEventJson(echo, res));
    };
    // Every code, whatever the run count: five records of each, alone.
    for (const code of Object.keys(DECISIONS))
      for (const d of fc.sample(decisionOf(code), { numRuns: 5, seed: 20261130 })) check([d], 0x7f0000000);
    fc.assert(fc.property(fc.array(decisionArb, { maxLength: 6 }), fc.integer({ min: 0, max: 2 ** 47 }), check), {
      numRuns: RUNS * 3,
    });
  });

  test('an event address given as page and offset (the replay echo) prints as hexAddr() of the bigint', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.bigInt({ min: 0n, max: 1n << 48n }),
          fc.constantFrom(0n, 1n, 0xfffn, 0x1000n, 0x7f0000000123n, (1n << 64n) - 1n),
        ),
        fc.boolean(),
        (addr, pretty) => {
          const fields: [string, string][] = [];
          const res: EventResult = { seq: 0, op: 'cpu_read', t: 0, outcome: 'ok', decisions: [] };
          const big: EventEcho = { line: 2, t: 0, op: 'cpu_read', addr, size: 0n, fields };
          const paged: EventEcho = { ...big, page: Number(addr >> 12n), offset: Number(addr & 0xfffn) };
          expect(pretty ? eventJsonText(paged, res) : eventJsonLine(paged, res)).toBe(
            pretty ? eventJsonText(big, res) : JSON.stringify(eventJson(big, res)),
          );
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test('an event size given as a number (the echo of the CSV reader) prints as hexAddr() of the bigint', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 1 << 30 }),
          fc.constantFrom(0, 1, 0xfff, 0x1000, 0x200000, 0xffffff, 0x1000000, 2 ** 52, Number.MAX_SAFE_INTEGER),
        ),
        fc.boolean(),
        (n, pretty) => {
          const res: EventResult = { seq: 0, op: 'munmap', t: 0, outcome: 'ok', decisions: [] };
          const big: EventEcho = { line: 2, t: 0, op: 'munmap', addr: 0x7f0000000000n, size: BigInt(n), fields: [] };
          const num: EventEcho = { ...big, page: 0x7f0000000, offset: 0, sizeNumber: n };
          expect(pretty ? eventJsonText(num, res) : eventJsonLine(num, res)).toBe(
            pretty ? eventJsonText(big, res) : JSON.stringify(eventJson(big, res)),
          );
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test('the event head (seq, line, t, pid, t_end) with numbers at every edge of the in-place conversion', () => {
    fc.assert(
      fc.property(
        fc.tuple(edgeNumberArb, edgeNumberArb, edgeNumberArb, fc.option(edgeNumberArb, { nil: undefined })),
        fc.oneof(edgeNumberArb, fc.constant(-1)),
        fc.boolean(),
        ([seq, line, t, pid], tEnd, pretty) => {
          const echo: EventEcho = { line, t, op: 'cpu_read', addr: 0x1000n, page: 1, offset: 0, size: 0n, fields: [] };
          if (pid !== undefined) echo.pid = pid;
          const res: EventResult = { seq, op: 'cpu_read', t: tEnd === -1 ? t : tEnd, outcome: 'ok', decisions: [] };
          expect(pretty ? eventJsonText(echo, res) : eventJsonLine(echo, res)).toBe(
            pretty ? plainEventJson(echo, res) : JSON.stringify(eventJson(echo, res)),
          );
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  test('seq and line of consecutive events (the kept text bumped by one): every carry, jumps, edges', () => {
    // runs of consecutive numbers from starts next to a carry or an edge, mixed with anything
    const startArb = fc.oneof(
      fc.constantFrom(0, 8, 9, 98, 99, 999, 9999999, 99999999, 2 ** 53 - 3, 2 ** 53 - 2, 2 ** 53, 1e16 - 2, -3, 0.5),
      fc.nat(),
      edgeNumberArb,
    );
    const runArb = fc.tuple(startArb, fc.integer({ min: 1, max: 15 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(runArb, runArb), { minLength: 1, maxLength: 6 }), fc.boolean(), (runs, pretty) => {
        for (const [[s0, ns], [l0, nl]] of runs) {
          for (let k = 0; k < Math.max(ns, nl); k++) {
            const seq = s0 + Math.min(k, ns - 1);
            const line = l0 + Math.min(k, nl - 1);
            const echo: EventEcho = {
              line,
              t: 5,
              op: 'cpu_read',
              addr: 0x1000n,
              page: 1,
              offset: 0,
              size: 0n,
              fields: [],
            };
            const res: EventResult = { seq, op: 'cpu_read', t: 5, outcome: 'ok', decisions: [] };
            expect(pretty ? eventJsonText(echo, res) : eventJsonLine(echo, res)).toBe(
              pretty ? plainEventJson(echo, res) : JSON.stringify(eventJson(echo, res)),
            );
          }
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('hexPage, hexAddr and hexDigits equal BigInt#toString(16)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 31 }),
          fc.integer({ min: 0, max: 2 ** 41 + 5 }),
          fc.constantFrom(0, 1, 255, 256, 2 ** 24 - 1, 2 ** 24, 2 ** 40, 2 ** 41 - 1, 2 ** 41, 2 ** 52),
        ),
        (p) => {
          expect(hexPage(p)).toBe('0x' + (BigInt(p) << 12n).toString(16));
          expect(hexDigits(p)).toBe(p.toString(16));
          expect(hexAddr(BigInt(p) * 4099n)).toBe('0x' + (BigInt(p) * 4099n).toString(16));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random well-formed decision records: the registry's fields in its order, values of each kind.

const pageArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 36 }),
  // the band of the writers' page-text cache (9 hex digits), few values: hits, and pairs that
  // share a cache slot (v, v + 16) evicting each other
  fc.constantFrom(2 ** 32, 2 ** 32 + 16, 0x7f00d0600, 0x7f00d0610, 0x7f00d0800, 2 ** 36 - 17, 2 ** 36 - 1, 2 ** 36),
  fc.constantFrom(
    0,
    1,
    2 ** 24 - 1,
    2 ** 24,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 41 - 1,
    2 ** 41,
    2 ** 45,
    2 ** 52 - 1,
    2 ** 53 - 1,
  ),
);
/**
 * Numbers where the in-place conversions change method: 10^8 (one or two halves), 2^31, 2^53
 * (the last exact integer; above it String()), -0, fractions, exponents, not finite.
 */
const edgeNumberArb = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    9,
    10,
    99,
    100,
    99999999,
    100000000,
    100000001,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    9007199254740991 - 1,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53 - 1),
    -(2 ** 53),
    1e21,
    1.5e-7,
    0.1,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
  fc.integer({ min: 2 ** 53 - 2 ** 20, max: 2 ** 53 - 1 }),
  fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  fc.double(),
);
/** Bigints where Number() rounds or stays exact. */
const edgeBigArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 1n << 60n }),
  fc.constantFrom(0n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n, -1n),
);
/**
 * A span as the model builds it (a Span, whose keys the writers trust), as a plain object, and
 * the shapes the writers must not take in place (other key order, an extra key, not a page).
 */
const spanArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ start: pageArb, end: pageArb }).map(({ start, end }) => new Span(start, end)),
  fc.record({ start: pageArb, end: pageArb }),
  fc.record({ end: pageArb, start: pageArb }),
  fc.record({ start: pageArb, end: pageArb, pid: fc.nat() }),
  fc.record({ start: fc.constantFrom('x', null, 1.5, -1), end: pageArb }),
);
const textArb = fc.oneof(
  fc.constantFrom(
    'rw',
    'vram',
    'EINVAL',
    'PAGE FAULT - VALID',
    'a"b',
    'a\\b',
    'tab\there',
    '\u007f',
    '\u0000',
    '\ud800',
    'é',
    '日本',
    'x'.repeat(70),
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

function valueArb(key: string, f: FieldSpec): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case 'addr':
      return key === 'next' ? fc.option(pageArb, { nil: null }) : pageArb;
    case 'range':
      return spanArb;
    case 'range[]':
      return fc.array(spanArb, { maxLength: 3 });
    case 'bool':
      return fc.boolean();
    case 'bytes':
      return edgeBigArb;
    case 'enum':
    case 'errno':
      return f.values ? fc.constantFrom(...f.values) : textArb;
    case 'string':
      return textArb;
    case 'object[]':
      return key === 'vram'
        ? fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }))
        : fc.oneof(
            fc.array(
              fc.record({ pages: fc.integer({ min: 1, max: 512 }), reason: fc.constantFrom('cpu_vma', 'overlap') }),
              { maxLength: 3 },
            ),
            // what the writers take in place only when well-formed (isRejectedList): any number,
            // any text, other key orders, extra keys, not an object
            fc.array(
              fc.oneof(
                fc.record({
                  pages: fc.oneof(fc.integer(), edgeNumberArb),
                  reason: fc.oneof(textArb, fc.constantFrom('check_pages', 'a"b')),
                }),
                fc.record({ reason: fc.constant('cpu_vma'), pages: fc.nat() }),
                fc.record({ pages: fc.nat(), reason: fc.constant('overlap'), extra: fc.nat() }),
                fc.constantFrom(null, 7, 'x'),
              ),
              { maxLength: 4 },
            ),
          );
    default:
      return fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }), edgeNumberArb);
  }
}

/** A random well-formed record of one registry code. */
function decisionOf(code: string): fc.Arbitrary<Decision> {
  const fields = Object.entries((DECISIONS as Record<string, { fields: Record<string, FieldSpec> }>)[code].fields);
  return fc
    .tuple(
      ...fields.map(([k, f]) =>
        f.optional
          ? fc.oneof(fc.constant(Symbol.for('absent')), fc.constant(undefined), valueArb(k, f))
          : valueArb(k, f),
      ),
    )
    .map((vals) => {
      const d: Record<string, unknown> = { code };
      fields.forEach(([k], i) => {
        if (vals[i] !== Symbol.for('absent')) d[k] = vals[i];
      });
      return d as unknown as Decision;
    });
}
const decisionArb: fc.Arbitrary<Decision> = fc.constantFrom(...Object.keys(DECISIONS)).chain(decisionOf);

describe('JsonOut: the byte buffer behind --format json/jsonl', () => {
  const long = fc.constantFrom('x'.repeat(5000), 'é€'.repeat(3000), 'read', 'wr"ite\n', '日本');
  test('bytes output and string sink, a small buffer, strings longer than the buffer, record ends marked or not: JSON.stringify of the plain record', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(decisionArb, { maxLength: 4 }), long, fc.integer({ min: 0, max: 2 ** 47 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        fc.boolean(),
        (events, pretty, marked) => {
          const chunks: Buffer[] = [];
          let text = '';
          const bytes = new JsonOut(
            () => {
              throw new Error('strings go to the bytes output');
            },
            (b) => chunks.push(Buffer.from(b)), // the buffer is reused after the call: copy
            4096,
          );
          const strings = new JsonOut((s) => (text += s), undefined, 4096);
          let plain = '';
          events.forEach(([decisions, access, addr], i) => {
            const echo: EventEcho = {
              line: i + 2,
              t: i,
              op: 'gpu_fault',
              addr: BigInt(addr),
              size: 0n,
              fields: [['access', access]],
            };
            const res: EventResult = { seq: i, op: 'gpu_fault', t: i, outcome: 'ok', decisions };
            for (const o of [bytes, strings]) {
              writeEvent(o, echo, res, pretty);
              o.byte(10);
              if (marked) o.mark();
            }
            plain += (pretty ? plainEventJson(echo, res) : JSON.stringify(eventJson(echo, res))) + '\n';
          });
          bytes.flush();
          strings.flush();
          expect(Buffer.concat(chunks).toString('utf8')).toBe(plain);
          expect(text).toBe(plain);
          // With record ends marked, a chunk handed over when the buffer fills ends at one (when
          // the records are well within the buffer: a longer one may be cut)
          if (marked && plain.split('\n').every((l) => Buffer.byteLength(l) < 2048))
            for (const c of chunks) expect(c[c.length - 1]).toBe(10);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('heldSink (src/cli/output.ts) with a bytes output', () => {
  test('holds strings and bytes in order until HOLD_BYTES, copying held bytes; then writes bytes straight through', () => {
    const out: string[] = [];
    const { sink, bytes, flush } = heldSink(
      (s) => out.push(`s:${s.length}`),
      (b) => out.push(`b:${Buffer.from(b).toString('latin1').slice(0, 3)}:${b.length}`),
    );
    const reused = Buffer.from('abc');
    sink('head');
    bytes!(reused);
    reused.fill(0x7a); // 'zzz': what was held must be the copy of 'abc'
    expect(out).toEqual([]);
    sink('y'.repeat(4 << 20)); // past HOLD_BYTES: everything held goes out as one byte chunk
    expect(out).toEqual([`b:hea:${4 + 3 + (4 << 20)}`]);
    bytes!(reused); // flowing: straight through, no copy
    sink('tail');
    flush();
    expect(out).toEqual([`b:hea:${4 + 3 + (4 << 20)}`, 'b:zzz:3', 's:4']);
  });

  test('without a bytes output: strings only, joined', () => {
    const out: string[] = [];
    const h = heldSink((s) => out.push(s));
    expect(h.bytes).toBeUndefined();
    h.sink('a');
    h.sink('b');
    h.flush();
    expect(out).toEqual(['ab']);
  });
});

describe('json/jsonl reporters: chunks of whole records (JsonOut.mark)', () => {
  test('every chunk but the last ends at a record end (jsonl: a line; json: an event and its comma), ~1 MiB each, the same text as through the string sink', () => {
    const p: Platform = { ...defaultPlatform('6.18') };
    const events: CoreEvent[] = [];
    const base = 0x7f0000000;
    events.push({ op: 'mmap', t: 0, page: base, offset: 0, npages: 1 << 16, prot: 'rw', kind: 'anon' } as CoreEvent);
    for (let i = 0; i < 12000; i++)
      events.push({
        op: 'gpu_fault',
        t: i + 1,
        page: base + ((i * 97) & 0xffff),
        offset: 0,
        npages: 1,
        access: 'read',
      } as CoreEvent);
    const { steps, final } = replayAll(p, events);
    for (const format of ['jsonl', 'json'] as const) {
      const chunks: Buffer[] = [];
      let text = '';
      let viaStrings = '';
      const viaBytes = createReporter({ format, bytes: (b) => chunks.push(Buffer.from(b)) }, (s) => (text += s));
      const plain = createReporter({ format }, (s) => (viaStrings += s));
      for (const r of [viaBytes, plain]) {
        r.begin(p);
        for (const { echo, res } of steps) r.event(echo, res);
        r.end(final);
      }
      expect(chunks.length).toBeGreaterThan(1);
      const recordEnd = format === 'jsonl' ? lineEnd : jsonRecordEnd;
      for (const c of chunks.slice(0, -1)) {
        expect(recordEnd(c)).toBe(c.length);
        expect(c.length).toBeGreaterThan(1 << 19);
      }
      expect(text.slice(0, viaStrings.indexOf('\n') + 1)).toBe(viaStrings.slice(0, viaStrings.indexOf('\n') + 1));
      expect(Buffer.concat(chunks).length).toBeGreaterThan(1 << 20);
      expect(viaStrings).toContain(Buffer.concat(chunks).toString('utf8'));
    }
  });
});
