/**
 * Every fast path of the trace readers against the schema path (issue 14 §1), with fast-check:
 * random traces built from the rules tables (src/trace/rules.ts) — valid events, and events with
 * the mistakes a user makes (a typo in an op or enum value, an address without 0x, a bad size, a
 * missing or foreign field, time going backwards, a wrong cell count) — written in every encoding
 * and read by the fast readers (JSONL byte reader with fastEvent behind it; CSV fused byte reader, from memory, from a file
 * and gzip-compressed) and by the schema path alone (`fast: false`, every event through zod). Both
 * must give the same events and the same errors, message and line, in the same order.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CsvByteReader,
  eventPuller,
  openTrace,
  parseTrace,
  type ParsedEvent,
  type TraceFormat,
} from '../../src/trace/index.js';
import { ENUM_FIELDS, ENUMS, OP_NAMES, OP_RULES, type EnumField } from '../../src/trace/rules.js';
import { warmUpTrace } from '../../src/trace/csv-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-fast-'));

type Value = string | number;
type Obj = Record<string, Value>;

const plainEvent = (e: ParsedEvent & { toCore?: () => unknown }) => ({
  core: e.toCore ? e.toCore() : e.core,
  line: e.line,
  addr: e.addr,
  size: e.size,
});

/** Events and error messages (file:line: ...) of one read, errors collected in order. */
function collect(read: (onError: (e: Error) => void) => Iterable<ParsedEvent>): {
  events: unknown[];
  errors: string[];
} {
  const errors: string[] = [];
  const events: unknown[] = [];
  try {
    for (const e of read((err) => void errors.push(err.message))) events.push(plainEvent(e));
  } catch (e) {
    errors.push((e as Error).message);
  }
  return { events, errors };
}

const schemaPath = (text: string, format: TraceFormat, file: string) =>
  collect((onError) => parseTrace(text, { file, format, onError, fast: false }).events);
const fastInMemory = (text: string, format: TraceFormat, file: string) =>
  collect((onError) => parseTrace(text, { file, format, onError }).events);
const fastFile = (bytes: string | Buffer, format: TraceFormat, file: string) => {
  const p = join(dir, file);
  writeFileSync(p, bytes);
  return collect((onError) => openTrace(p, file, format, onError).events);
};
/** The replay loop's way: pulled one at a time into the reader's reused event object (readTransient). */
const fastFileTransient = (text: string, format: TraceFormat, file: string) => {
  const p = join(dir, file);
  writeFileSync(p, text);
  const errors: string[] = [];
  const events: unknown[] = [];
  try {
    const next = eventPuller(openTrace(p, file, format, (err) => void errors.push(err.message)).events, true);
    for (let e = next(); e !== undefined; e = next()) events.push(plainEvent(e));
  } catch (e) {
    errors.push((e as Error).message);
  }
  return { events, errors };
};
/**
 * The byte reader fed by an input that returns at most `step` bytes a read (a pipe, a
 * decompressor): every row, cell and line end is cut by the end of the buffer somewhere.
 */
const fastTrickle = (text: string, file: string, step: number) => {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  const input = {
    read: (buf: Buffer, offset: number, length: number) => {
      const n = Math.min(step, length, bytes.length - at);
      bytes.copy(buf, offset, at, at + n);
      at += n;
      return n;
    },
    close: () => undefined,
  };
  const errors: string[] = [];
  const events: unknown[] = [];
  try {
    const r = new CsvByteReader({ input, head: Buffer.alloc(0) }, file);
    r.onError = (err) => void errors.push(err.message);
    const next = eventPuller(r.events(), true);
    for (let e = next(); e !== undefined; e = next()) events.push(plainEvent(e));
  } catch (e) {
    errors.push((e as Error).message);
  }
  return { events, errors };
};

// ---------------------------------------------------------------------------------------------
// Random events from the rules tables

const hex = (max: bigint, min = 0n) => fc.bigInt({ min, max }).map((v) => '0x' + v.toString(16));
/** Leading zeros: `0x` + up to 16 digits in all (more is refused, by both paths). */
const zeroPadded = (max: bigint) =>
  fc
    .tuple(fc.bigInt({ min: 0n, max }), fc.integer({ min: 0, max: 16 }))
    .map(([v, w]) => '0x' + v.toString(16).padStart(Math.min(16, Math.max(w, v.toString(16).length)), '0'));
const goodAddr = fc.oneof(
  hex(0xffffffffffffn),
  hex((1n << 64n) - 1n),
  fc.bigInt({ min: 0n, max: 1n << 40n }).map((v) => '0X' + v.toString(16).toUpperCase()),
  fc.bigInt({ min: 0n, max: 1n << 52n }).map((v) => '0x' + v.toString(16).replace(/[a-f]/g, (c) => c.toUpperCase())),
  zeroPadded(0xffffffffffffn),
);
const badAddr = fc.constantFrom(
  '7f00000000ab',
  '7000000000',
  '0x',
  'zz',
  '0x7f000000100g',
  '0x00000000000000001',
  '0x10000000000000000',
  ' 0x10',
  '-1',
);
const goodSize = fc.oneof(
  fc.integer({ min: 1, max: 2 ** 36 }).map(String),
  hex(0xfffffffffn, 1n),
  fc.constantFrom(
    '4K',
    '2M',
    '1.5M',
    '64K',
    '0x200000',
    '4096',
    '0X1F000',
    '0x00001000',
    '0004096',
    '000000000000004096',
  ),
  fc.integer({ min: 1, max: 2 ** 36 }).map((v) => '0X' + v.toString(16).toUpperCase()),
);
const badSize = fc.constantFrom(
  '0',
  '0x0',
  '00',
  '-4',
  '1.5',
  '2Q',
  '99999999999999999999',
  '0x20000000000000',
  '128G',
  '1e3',
  'K',
);
const goodTime = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }).map(String),
  fc.constantFrom('5us', '1.5ms', '2s', '0', '007', '000000000000000123', '9007199254740991', '9007199254740992'),
);
const badTime = fc.constantFrom('-1', '1e3', '1.5', 'soon', '5 ms', '1.0000000001s');
const goodPid = fc.constantFrom('1', '2', '200', '2147483647', '007', '0000000001');
const badPid = fc.constantFrom('0', '-1', '2147483648', '1.5', 'x', '007a');
const enumValue = (f: EnumField) => fc.constantFrom(...(ENUMS[f].values as readonly string[]));
const typo = (w: string) => fc.constantFrom(w.toUpperCase(), w.slice(0, -1), w + 'x', w.replace(/[aeiou]/, 'e'), '');

/** A valid event object (string values, as in CSV cells) of a random op. */
const validEvent: fc.Arbitrary<Obj> = fc.constantFrom(...OP_NAMES).chain((op) => {
  const rule = OP_RULES[op];
  const fields = Object.entries(rule.fields) as [EnumField, { use: string }][];
  const oneOf = rule.oneOf ?? [];
  return fc
    .record({
      t: fc.option(goodTime, { nil: undefined }),
      pid: fc.option(goodPid, { nil: undefined }),
      addr: goodAddr,
      size:
        rule.size === 'none'
          ? fc.constant(undefined)
          : rule.size === 'required'
            ? goodSize
            : fc.option(goodSize, { nil: undefined }),
      enums: fc.tuple(
        ...fields.map(([f, use]) =>
          use.use === 'required' || oneOf.includes(f) ? enumValue(f) : fc.option(enumValue(f), { nil: undefined }),
        ),
      ),
      pick: fc.integer({ min: 0, max: Math.max(0, oneOf.length - 1) }),
    })
    .map(({ t, pid, addr, size, enums, pick }) => {
      const o: Obj = { op };
      if (t !== undefined) o.t = t;
      if (pid !== undefined) o.pid = pid;
      o.addr = addr;
      if (size !== undefined) o.size = size;
      fields.forEach(([f], i) => {
        if (enums[i] !== undefined && (!oneOf.includes(f) || f === oneOf[pick])) o[f] = enums[i]!;
      });
      return o;
    });
});

/** A mistake applied to a valid event. */
const mistake: fc.Arbitrary<(o: Obj) => Obj> = fc.oneof(
  fc
    .constantFrom(...OP_NAMES)
    .chain((op) => typo(op))
    .map((w) => (o: Obj) => ({ ...o, op: w })),
  fc.constant((o: Obj) => ({ ...o, op: 'gpu_reed' })),
  badAddr.map((a) => (o: Obj) => ({ ...o, addr: a })),
  badSize.map((s) => (o: Obj) => ({ ...o, size: s })),
  badTime.map((t) => (o: Obj) => ({ ...o, t })),
  badPid.map((p) => (o: Obj) => ({ ...o, pid: p })),
  fc
    .constantFrom(...ENUM_FIELDS)
    .chain((f) => fc.tuple(fc.constant(f), fc.oneof(enumValue(f), typo(ENUMS[f].values[0]))))
    .map(([f, v]) => (o: Obj) => ({ ...o, [f]: v })),
  fc.constantFrom('addr', 'size', ...ENUM_FIELDS).map((f) => (o: Obj) => {
    const c = { ...o };
    delete c[f];
    return c;
  }),
  fc.constant((o: Obj) => ({ ...o, t: '1' })), // backwards in time after a later event
);

const eventList = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: validEvent },
    { weight: 1, arbitrary: fc.tuple(validEvent, mistake).map(([o, m]) => m(o)) },
  ),
  { minLength: 1, maxLength: 25 },
);

// ---------------------------------------------------------------------------------------------
// Encodings

const ALL_COLUMNS = ['t', 'pid', 'op', 'addr', 'size', ...ENUM_FIELDS];

function csvCell(v: Value | undefined, quote: boolean): string {
  if (v === undefined) return '';
  const s = String(v);
  return quote || /[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with the columns in a random order; some rows quoted, some blank or comment lines, CRLF or LF. */
function toCsv(
  events: Obj[],
  order: number[],
  style: { crlf: boolean; quoteEvery: number; commentEvery: number; shortRowAt: number },
): string {
  const cols = order.map((i) => ALL_COLUMNS[i % ALL_COLUMNS.length]).filter((c, i, a) => a.indexOf(c) === i);
  for (const c of ['op', 'addr', ...ALL_COLUMNS])
    if (!cols.includes(c) && events.some((e) => e[c] !== undefined)) cols.push(c);
  const nl = style.crlf ? '\r\n' : '\n';
  let text = `#! platform kernel=6.18${nl}${cols.join(',')}${nl}`;
  events.forEach((e, i) => {
    let cells = cols.map((c) => csvCell(e[c], style.quoteEvery > 0 && i % style.quoteEvery === 0));
    if (i === style.shortRowAt) cells = cells.slice(0, -1);
    text += cells.join(',') + nl;
    if (style.commentEvery > 0 && i % style.commentEvery === 0) text += `# comment ✓${nl}${nl}`;
  });
  return text;
}

/** JSONL, values as strings or (integers) as JSON numbers; an optional header line; a foreign field sometimes. */
function toJsonl(events: Obj[], style: { header: boolean; numbers: boolean; foreignAt: number }): string {
  let text = style.header ? '{"svmsim":1,"platform":{"kernel":"6.18"}}\n' : '';
  events.forEach((e, i) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e))
      o[k] = style.numbers && k !== 'addr' && /^[0-9]{1,15}$/.test(String(v)) ? Number(v) : v;
    if (i === style.foreignAt) o.bogus = 1;
    text += JSON.stringify(o) + '\n';
    if (i % 7 === 3) text += '# comment\n\n';
  });
  return text;
}

/** The canonical layout (t,op,addr,size: what gen, capture and import write): CsvByteReader's canonical loop. */
const CANONICAL_ORDER = [0, 2, 3, 4];
/** An event with only the canonical columns (its enum fields and pid dropped: ops that need one are errors). */
const canonicalOnly = (o: Obj): Obj => {
  const c: Obj = {};
  for (const k of ['t', 'op', 'addr', 'size']) if (o[k] !== undefined) c[k] = o[k];
  return c;
};
/** Canonical cells as gen writes them, or not quite: upper-case hex, leading zeros, times with units or empty. */
const canonicalVariant = fc.constantFrom(
  (o: Obj) => o,
  (o: Obj) => ({ ...o, addr: String(o.addr).toUpperCase() }),
  (o: Obj) => ({ ...o, addr: String(o.addr).replace(/^0x/i, '0x000') }),
  (o: Obj) => ({ ...o, t: `00${o.t ?? 0}` }),
  (o: Obj) => ({ ...o, t: '' }),
  (o: Obj) => ({ ...o, t: '1234567890123456' }),
  (o: Obj) => ({ ...o, size: '0x' }),
  (o: Obj) => ({ ...o, size: '0x0000000000001' }),
  (o: Obj) => ({ ...o, size: '0x00000000000001' }),
  (o: Obj) => ({ ...o, size: '000000000000001' }),
  (o: Obj) => ({ ...o, size: '0000000000000001' }),
  (o: Obj) => ({ ...o, op: `${o.op}_` }),
  (o: Obj) => ({ ...o, op: String(o.op).slice(0, -1) }),
  (o: Obj) => ({ ...o, op: String(o.op).toUpperCase() }),
  (o: Obj) => ({ ...o, op: `${o.op}1` }),
  (o: Obj) => ({ ...o, t: '123456789012345' }),
  (o: Obj) => ({ ...o, t: String(o.t ?? 7).slice(0, 1) }),
  (o: Obj) => ({ ...o, addr: `${o.addr}0` }),
  (o: Obj) => ({ ...o, addr: `0x${'f'.repeat(17)}` }),
  (o: Obj) => ({ ...o, op: 'gpu_fault' }),
  (o: Obj) => ({ ...o, op: 'xe_madvise' }),
);
const canonicalList = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: validEvent.map(canonicalOnly) },
    { weight: 1, arbitrary: fc.tuple(validEvent, canonicalVariant).map(([o, v]) => canonicalOnly(v(o))) },
    { weight: 1, arbitrary: fc.tuple(validEvent, mistake).map(([o, m]) => canonicalOnly(m(o))) },
  ),
  { minLength: 1, maxLength: 25 },
);

const csvStyle = fc.record({
  crlf: fc.boolean(),
  quoteEvery: fc.constantFrom(0, 0, 3),
  commentEvery: fc.constantFrom(0, 4),
  shortRowAt: fc.constantFrom(-1, -1, 2),
});
const columnOrder = fc.shuffledSubarray([...ALL_COLUMNS.keys()], { minLength: 2 });
const jsonlStyle = fc.record({ header: fc.boolean(), numbers: fc.boolean(), foreignAt: fc.constantFrom(-1, -1, 1) });

/** Every CSV byte-reader way (memory, file, reused event, trickled input) gives the schema path's events and errors. */
function expectCsvReadersAgree(text: string): void {
  const ref = schemaPath(text, 'csv', 't.csv');
  expect(fastInMemory(text, 'csv', 't.csv')).toEqual(ref);
  expect(fastFile(text, 'csv', 't.csv')).toEqual(ref);
  expect(fastFileTransient(text, 'csv', 't.csv')).toEqual(ref);
  expect(fastTrickle(text, 't.csv', 1 + (text.length % 13))).toEqual(ref);
}

describe('fast paths = schema path (fast-check, random valid and invalid traces)', () => {
  test('CSV: the fused byte reader, from memory, from a file and into its reused event, gives the events and errors of the schema path', () => {
    fc.assert(
      fc.property(eventList, columnOrder, csvStyle, (events, order, style) => {
        const text = toCsv(events, order, style);
        expectCsvReadersAgree(text);
      }),
      { numRuns: 400, seed: 20261130 },
    );
  });

  test('CSV, canonical layout t,op,addr,size: the canonical loop gives the events and errors of the schema path', () => {
    fc.assert(
      fc.property(canonicalList, csvStyle, (events, style) => {
        const text = toCsv(events, CANONICAL_ORDER, style);
        expect(text).toMatch(/^#! platform kernel=6.18\r?\nt,op,addr,size\r?\n/);
        expectCsvReadersAgree(text);
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });

  test('JSONL: the byte reader gives the events and errors of the schema path, from memory and from a file', () => {
    fc.assert(
      fc.property(eventList, jsonlStyle, (events, style) => {
        const text = toJsonl(events, style);
        const ref = schemaPath(text, 'jsonl', 't.jsonl');
        expect(fastInMemory(text, 'jsonl', 't.jsonl')).toEqual(ref);
        expect(fastFile(text, 'jsonl', 't.jsonl')).toEqual(ref);
      }),
      { numRuns: 400, seed: 20261130 },
    );
  });

  test('gzip: CSV and JSONL read through the decompressor give the events and errors of the schema path', () => {
    fc.assert(
      fc.property(eventList, columnOrder, csvStyle, jsonlStyle, (events, order, cs, js) => {
        const csv = toCsv(events, order, cs);
        expect(fastFile(gzipSync(csv), 'csv', 't.csv.gz')).toEqual(schemaPath(csv, 'csv', 't.csv.gz'));
        const jsonl = toJsonl(events, js);
        expect(fastFile(gzipSync(jsonl), 'jsonl', 't.jsonl.gz')).toEqual(schemaPath(jsonl, 'jsonl', 't.jsonl.gz'));
      }),
      { numRuns: 100, seed: 20261130 },
    );
  });

  test('JSON document: the same events as the JSONL and CSV schema paths, and the same first error', () => {
    fc.assert(
      fc.property(eventList, (events) => {
        const doc = `{"svmsim":1,"platform":{"kernel":"6.18"},"events":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]}`;
        const json = schemaPath(doc, 'json', 't');
        const jsonl = schemaPath(events.map((e) => JSON.stringify(e)).join('\n'), 'jsonl', 't');
        jsonl.errors = jsonl.errors.filter((m) => !m.endsWith(': no events')); // a JSON document with only bad events has events
        // Line numbers differ by the document's first line; messages otherwise agree.
        const shift = (r: { events: unknown[]; errors: string[] }, by: number) => ({
          events: r.events.map((e) => ({ ...(e as object), line: (e as { line: number }).line + by })),
          errors: r.errors.map((m) => m.replace(/^t:(\d+)/, (_, n) => `t:${Number(n) + by}`)),
        });
        expect(json).toEqual(shift(jsonl, 1));
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });

  test('the warm-up trace of the canonical loop (csv-bytes.ts warmUp()) is valid rows only, read alike by both paths', () => {
    const text = warmUpTrace();
    const rows = text.split('\n').length - 2; // the column row, and the empty string after the last LF
    expect(rows).toBeGreaterThan(50);
    const ref = schemaPath(text, 'csv', 'warm.csv');
    expect(ref.errors).toEqual([]);
    expect(ref.events).toHaveLength(rows);
    expectCsvReadersAgree(text);
  });

  test('a canonical CSV of more than 2 MiB in memory (a read buffer larger than the default, and its word view)', () => {
    const rows = Array.from(
      { length: 80000 },
      (_, i) => `${i},gpu_read,0x7f${(i * 4096).toString(16).padStart(10, '0')},\n`,
    );
    const text = `t,op,addr,size\n0,mmap,0x7f0000000000,0x10000000\n${rows.join('')}`;
    expect(text.length).toBeGreaterThan(2 << 20);
    const ref = schemaPath(text, 'csv', 'big.csv');
    expect(ref.errors).toEqual([]);
    expect(ref.events).toHaveLength(80001);
    expect(fastInMemory(text, 'csv', 'big.csv')).toEqual(ref);
  });

  test('a CSV longer than the 1 MiB read chunk: rows split across chunks give the schema path events', () => {
    const rows = fc.sample(validEvent, { numRuns: 30000, seed: 7 });
    // Times never decrease, so every row is an event.
    for (const r of rows) delete r.t;
    const text = toCsv(rows, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], {
      crlf: true,
      quoteEvery: 0,
      commentEvery: 997,
      shortRowAt: -1,
    });
    expect(text.length).toBeGreaterThan(1 << 20);
    const ref = schemaPath(text, 'csv', 'big.csv');
    expect(ref.events.length).toBeGreaterThan(25000); // the rest: spans past 2^64 (random 64-bit addresses)
    expect(fastFile(text, 'csv', 'big.csv')).toEqual(ref);
    expect(fastFileTransient(text, 'csv', 'big.csv')).toEqual(ref);
  });

  test('a canonical CSV (t,op,addr,size) longer than the 1 MiB read chunk: rows split across chunks give the schema path events', () => {
    const rows = fc.sample(validEvent.map(canonicalOnly), { numRuns: 32000, seed: 8 });
    rows.forEach((r, i) => {
      r.t = String(i * 1000);
    });
    const text = toCsv(rows, CANONICAL_ORDER, { crlf: false, quoteEvery: 0, commentEvery: 1999, shortRowAt: -1 });
    expect(text.length).toBeGreaterThan(1 << 20);
    const ref = schemaPath(text, 'csv', 'canon.csv');
    // the rest: spans past 2^64, and the ops that need an enum cell (mprotect, gpu_fault, xe_madvise)
    expect(ref.events.length).toBeGreaterThan(20000);
    expect(fastFile(text, 'csv', 'canon.csv')).toEqual(ref);
    expect(fastFileTransient(text, 'csv', 'canon.csv')).toEqual(ref);
  });
});
