/**
 * The byte-level JSONL reader (src/trace/jsonl-bytes.ts, JsonlByteReader) against the schema path
 * (the line reader of stream.ts with `fast: false`: JSON.parse and zod on every line). Unit tests
 * derive the event of a line by hand from the rules (rules.ts pagesOf, the page/offset split);
 * the fast-check property builds random JSONL texts token by token — the keys of an event in any
 * order, repeated or unknown keys, every value form the schema accepts and many it refuses
 * (leading zeros, fractions, exponents, units, escapes, non-ASCII, out of range), spaces and tabs
 * between tokens, CRLF or LF, a BOM, blank, comment, header, NUL and malformed lines — and reads
 * each text from memory, from a file, into the reused event (readTransient) and through an input
 * that hands out a few bytes at a time (every line cut at the end of the read buffer somewhere).
 * All must give the events and the errors (message, line) of the schema path, in order; and the
 * byte path must have answered on most event lines (counted: it is not vacuous).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { JsonlByteReader } from '../../src/trace/jsonl-bytes.js';
import {
  eventPuller,
  openTrace,
  parseTrace,
  type ParsedEvent,
  TextLines,
  TraceInputError,
  TraceReader,
} from '../../src/trace/index.js';
import { ENUM_FIELDS, ENUMS, OP_NAMES, OP_RULES } from '../../src/trace/rules.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-jsonl-bytes-'));

type Plain = { core: unknown; line: number; addr: bigint; size: bigint };
const plainEvent = (e: ParsedEvent & { toCore?: () => unknown }): Plain => ({
  core: e.toCore ? e.toCore() : e.core,
  line: e.line,
  addr: e.addr,
  size: e.size,
});

/** Events and error messages of one read; `skip`: bad lines reported and skipped (else the first ends the read). */
function collect(
  skip: boolean,
  read: (onError: ((e: TraceInputError) => void) | undefined) => () => ParsedEvent | undefined,
): { events: Plain[]; errors: string[] } {
  const errors: string[] = [];
  const events: Plain[] = [];
  try {
    const next = read(skip ? (e) => void errors.push(e.message) : undefined);
    for (let e = next(); e !== undefined; e = next()) events.push(plainEvent(e));
  } catch (e) {
    if (!(e instanceof TraceInputError)) throw e;
    errors.push(e.message);
  }
  return { events, errors };
}

const FILE = 't.jsonl';
const schemaPath = (text: string, skip: boolean) =>
  collect(skip, (onError) => {
    const evs = parseTrace(text, { file: FILE, format: 'jsonl', onError, fast: false }).events;
    let i = 0;
    return () => evs[i++];
  });
/** The schema path streamed (as the replay reads): events up to the first error, then the error. */
const schemaStream = (text: string, skip: boolean) =>
  collect(skip, (onError) => {
    const r = new TraceReader(new TextLines(text, FILE), FILE, { fast: false });
    r.onError = onError;
    return () => r.read();
  });
const fromMemory = (text: string, skip: boolean) =>
  collect(skip, (onError) => {
    const evs = parseTrace(text, { file: FILE, format: 'jsonl', onError }).events;
    let i = 0;
    return () => evs[i++];
  });
const fromFile = (text: string, skip: boolean, transient: boolean) => {
  const p = join(dir, FILE);
  writeFileSync(p, text);
  return collect(skip, (onError) => eventPuller(openTrace(p, FILE, 'jsonl', onError).events, transient));
};
/** Through an input that gives `sizes` bytes per read in turn (like a slow pipe), after a head of `head` bytes. */
const dribbled = (text: string, skip: boolean, head: number, sizes: number[]) =>
  collect(skip, (onError) => {
    const bytes = Buffer.from(text, 'utf8');
    let pos = Math.min(head, bytes.length);
    let turn = 0;
    const input = {
      read: (buf: Buffer, offset: number, length: number) => {
        const n = Math.min(length, sizes[turn++ % sizes.length], bytes.length - pos);
        bytes.copy(buf, offset, pos, pos + n);
        pos += n;
        return n;
      },
      close: () => undefined,
    };
    const r = new JsonlByteReader({ input, head: bytes.subarray(0, pos) }, FILE);
    r.onError = onError;
    return eventPuller(r.events(), true);
  });

afterEach(() => {
  vi.restoreAllMocks();
});

/** Lines the line reader (the schema side) was asked for while `f` ran, and how many of them gave an event. */
function lineReader(f: () => void): { calls: number; events: number } {
  const spy = vi.spyOn(TraceReader.prototype, 'readLine');
  f();
  const calls = spy.mock.calls.length;
  const events = spy.mock.results.filter(
    (r) => r.type === 'return' && r.value !== undefined && r.value !== null,
  ).length;
  spy.mockRestore();
  return { calls, events };
}
const slowReads = (f: () => void) => lineReader(f).calls;

describe('JsonlByteReader: events derived by hand', () => {
  test('a GPU read with hex addr and a JSON-number size: page/offset split, pages = ceil((offset+size)/4096)', () => {
    const text = '{"svmsim":1}\n{"t":1200,"op":"gpu_read","addr":"0x7f0000201234","size":8192}\n';
    let evs: ParsedEvent[] = [];
    expect(slowReads(() => void (evs = parseTrace(text, { file: FILE }).events))).toBe(1); // the end of the file only: the header is no event
    expect(evs.map(plainEvent)).toEqual([
      {
        core: {
          op: 'gpu_read',
          t: 1200,
          page: 0x7f0000201,
          offset: 0x234,
          npages: 3, // ceil((0x234 + 8192) / 4096) = ceil(8756 / 4096)
          sizeAligned: true,
        },
        line: 2,
        addr: 0x7f0000201234n,
        size: 8192n,
      },
    ]);
  });

  test('keys in any order with spaces and tabs, a decimal-number address, string time and pid, CRLF; defaults of mmap', () => {
    const text =
      '{ "size" :\t"0x200000", "kind":"shared" ,"addr": 1048577, "op":"mmap", "pid":"7", "t":"15", "comment":"x y"}\r\n' +
      '\t{"op":"cpu_write","addr":"0X1000"}\r\n';
    let evs: ParsedEvent[] = [];
    // no header: the line reader reads the first line (looking for one), and the end of the file
    expect(slowReads(() => void (evs = parseTrace(text, { file: FILE }).events))).toBe(2);
    expect(evs.map(plainEvent)).toEqual([
      {
        // 1048577 = 0x100001: page 0x100, offset 1; (1 + 2 MiB) spans 513 pages; prot defaults to rw
        core: {
          op: 'mmap',
          t: 15,
          page: 0x100,
          offset: 1,
          npages: 513,
          sizeAligned: true,
          prot: 'rw',
          kind: 'shared',
          pid: 7,
        },
        line: 1,
        addr: 1048577n,
        size: 0x200000n,
      },
      {
        // no size: 1 byte (the page of addr), not page-aligned; t carried over
        core: { op: 'cpu_write', t: 15, page: 1, offset: 0, npages: 1, sizeAligned: false },
        line: 2,
        addr: 0x1000n,
        size: 0n,
      },
    ]);
  });

  test('comment lines after the first event are skipped by the byte path; a trace of only comments is "no events" at its last line', () => {
    const text =
      '{"svmsim":1}\n# a\n{"op":"gpu_read","addr":"0x1000"}\n# b ✓\n#c\n{"op":"gpu_read","addr":"0x2000"}\n# end';
    let fast = { events: [] as Plain[], errors: [] as string[] };
    // the line reader: "# a" (no event yet) and the end of the file
    expect(slowReads(() => void (fast = fromMemory(text, false)))).toBe(2);
    expect(fast).toEqual(schemaStream(text, false));
    expect(fast.events.map((e) => e.line)).toEqual([3, 6]);
    const none = '{"svmsim":1}\n# a\n\n# b\n';
    expect(fromMemory(none, false)).toEqual({ events: [], errors: ['t.jsonl:4: no events'] });
    expect(schemaStream(none, false)).toEqual({ events: [], errors: ['t.jsonl:4: no events'] });
  });

  test('a last line without newline as long as the first line: no stale bytes of the buffer are read after it', () => {
    // At the end of the file the kept tail (the last line) moves to the start of the buffer; what
    // follows it there is the old second line, which must not be read as a phantom event.
    const text =
      '{"op":"gpu_read","addr":"0x1000"}\n{"op":"gpu_read","addr":"0x2000"}\n{"op":"gpu_read","addr":"0x3000"} ';
    const ref = schemaStream(text, false);
    expect(ref.events.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(fromMemory(text, false)).toEqual(ref);
    expect(fromFile(text, false, true)).toEqual(ref);
  });

  test.each([
    ['a unit in t', '{"t":"5us","op":"gpu_read","addr":"0x1000"}'],
    ['a size suffix', '{"op":"gpu_read","addr":"0x1000","size":"4K"}'],
    ['an escape', '{"op":"gpu\\u005fread","addr":"0x1000"}'],
    ['a repeated key', '{"op":"gpu_read","addr":"0x1000","addr":"0x2000"}'],
    ['an unknown key', '{"op":"gpu_read","addr":"0x1000","bogus":1}'],
    ['a JSON fraction', '{"op":"gpu_read","addr":4096.0}'],
    ['a leading zero', '{"op":"gpu_read","addr":"0x1000","size":01}'],
    ['non-ASCII', '{"op":"gpu_read","addr":"0x1000","comment":"✓"}'],
    ['a 17-digit address', '{"op":"gpu_read","addr":"0x00000000000001000"}'],
    ['an enum field of another op', '{"op":"gpu_read","addr":"0x1000","prot":"r"}'],
  ])('a line with %s goes to the line reader, which decides it as the schema path does', (_, line) => {
    const text = `${line}\n{"op":"gpu_read","addr":"0x1000"}\n`;
    let fast = { events: [] as Plain[], errors: [] as string[] };
    // asked twice: for the line itself (read ahead, looking for a header) and at the end of the file
    expect(slowReads(() => void (fast = fromMemory(text, true)))).toBe(2);
    expect(fast).toEqual(schemaPath(text, true));
  });
});

// ---------------------------------------------------------------------------------------------
// Random JSONL text, token by token

const hexDigits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: min, maxLength: max }).map((a) => a.join(''));
const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((a) => a.join(''));
const jsonInt = (max: number) => fc.integer({ min: 0, max }).map(String);
const str = (a: fc.Arbitrary<string>) => a.map((s) => `"${s}"`);
const oddValue = fc.constantFrom('null', 'true', '[]', '{}', '-1', '1e3', '1.5', '"', '""', '" 1"', '"\\u0031"');

/** JSON text of a value for each key: mostly forms the schema accepts, some it refuses or the byte path defers. */
const VALUE: Record<string, fc.Arbitrary<string>> = {
  t: fc.oneof(
    { weight: 30, arbitrary: fc.constant('@T') }, // filled in: a time that does not go backwards
    str(digits(1, 16)),
    jsonInt(2 ** 53 + 10),
    fc.constantFrom('"5us"', '"1.5ms"', '"2 s"', '007', '0', '"0"', '9007199254740993'),
    oddValue,
  ),
  op: fc.oneof(
    { weight: 30, arbitrary: str(fc.constantFrom(...OP_NAMES)) },
    str(fc.constantFrom('GPU_READ', 'gpu_reed', 'gpu_read ', 'constructor', 'xe_prefetchx', '')),
    fc.constantFrom('"gpu\\u005fread"', '1'),
    oddValue,
  ),
  addr: fc.oneof(
    { weight: 30, arbitrary: fc.tuple(fc.constantFrom('0x', '0X'), hexDigits(1, 16)).map(([p, d]) => `"${p}${d}"`) },
    str(hexDigits(1, 18).map((d) => `0x${d}`)),
    jsonInt(2 ** 53 + 10),
    str(fc.constantFrom('7f00000000ab', '7000000000', '0x', ' 0x10', '0x10 ', '0x1g')),
    fc.constantFrom('0x10', '01000', '4096.0', '4096e0'),
    oddValue,
  ),
  size: fc.oneof(
    { weight: 20, arbitrary: jsonInt(2 ** 24) },
    { weight: 10, arbitrary: str(hexDigits(1, 7).map((d) => `0x${d}`)) },
    jsonInt(2 ** 40),
    str(hexDigits(1, 14).map((d) => `0x${d}`)),
    str(digits(1, 17)),
    fc.constantFrom('"4K"', '"1.5M"', '"2MiB"', '0', '"0x0"', '"00"', '01', '99999999999999999999', '"128G"'),
    oddValue,
  ),
  pid: fc.oneof(
    { weight: 10, arbitrary: jsonInt(2 ** 31 + 2) },
    str(digits(1, 11)),
    fc.constantFrom('1', '"007"', '0', '2147483647', '2147483648'),
    oddValue,
  ),
  comment: fc.oneof(
    str(fc.string({ unit: fc.constantFrom(...'abc XYZ09_-:{}[],') })),
    fc.constantFrom('"ünï ✓"', '"tab\\tq"', '"a\\"b"', '"\t"', '"\u007f"', '3'),
  ),
  ...Object.fromEntries(
    ENUM_FIELDS.map((f) => [
      f,
      fc.oneof(
        { weight: 30, arbitrary: str(fc.constantFrom(...(ENUMS[f].values as readonly string[]))) },
        str(fc.constantFrom('RW', 'dontneedx', 'vram0', 'unknown', '')),
        oddValue,
      ),
    ]),
  ),
};

/** The keys of one event line: the op's own (mostly as its rule wants them), sometimes one dropped, extra, repeated or unknown. */
const mostly = (p: number) => fc.integer({ min: 0, max: 99 }).map((r) => r < p);
const eventKeys = fc.constantFrom(...OP_NAMES).chain((op) => {
  const rule = OP_RULES[op];
  const fields = Object.entries(rule.fields);
  const oneOf = rule.oneOf ?? [];
  return fc
    .record({
      t: mostly(70),
      size: mostly(rule.size === 'required' ? 97 : rule.size === 'optional' ? 50 : 3),
      enums: fc.tuple(...fields.map(([, use]) => mostly(use.use === 'required' ? 97 : 50))),
      pick: fc.constantFrom(...oneOf, undefined),
      drop: fc.oneof({ weight: 30, arbitrary: fc.constant(-1) }, fc.nat(6)),
      extra: fc.oneof(
        { weight: 20, arbitrary: fc.constant<string[]>([]) },
        fc.subarray(['pid', 'comment', 'size', ...ENUM_FIELDS], { maxLength: 2 }),
        fc.constantFrom<string[]>(['addr'], ['op'], ['bogus'], ['svmsim'], ['T'], ['o\\u0070']),
      ),
    })
    .map(({ t, size, enums, pick, drop, extra }) => {
      const keys = ['op', 'addr'];
      if (t) keys.push('t');
      if (size) keys.push('size');
      fields.forEach(([f], i) => {
        if (oneOf.includes(f as never) ? f === pick : enums[i]) keys.push(f);
      });
      if (drop >= 0 && drop < keys.length) keys.splice(drop, 1);
      for (const k of extra) if (k !== 'size' || !keys.includes(k)) keys.push(k); // an enum key may repeat
      return { op, keys };
    });
});

const space = fc.constantFrom('', '', '', ' ', '\t', '  ', ' \t');

/** One event line's tokens: keys with values (op first picks the value of `op`), shuffled, spaced. */
const eventLine = eventKeys.chain(({ op, keys }) =>
  fc
    .record({
      values: fc.tuple(...keys.map((k) => (k === 'op' ? fc.constant(`"${op}"`) : (VALUE[k] ?? jsonInt(9))))),
      order: fc.shuffledSubarray([...keys.keys()], { minLength: keys.length, maxLength: keys.length }),
      gaps: fc.array(space, { minLength: 4 * keys.length + 4, maxLength: 4 * keys.length + 4 }),
      opValue: VALUE.op,
      ownOp: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, fc.constant(false)),
    })
    .map(({ values, order, gaps, opValue, ownOp }) => {
      let g = 0;
      const gap = () => gaps[g++];
      const members = order.map((i) => {
        const v = keys[i] === 'op' && !ownOp ? opValue : values[i];
        return `${gap()}"${keys[i]}"${gap()}:${gap()}${v}${gap()}`;
      });
      return `${gap()}{${members.join(',')}}${gap()}`;
    }),
);

const otherLine = fc.constantFrom(
  '',
  '   ',
  '# comment ✓',
  '  # indented comment',
  '// a comment',
  '{"op":',
  '[1]',
  'null',
  '{}',
  '{"svmsim":1,"platform":{}}',
  'gpu_read 0x1000',
  '{"op":"gpu_read","addr":"0x1000"}\u0000',
  '{"op":"gpu_read",\r"addr":"0x1000"}',
  '{"op":"gpu_read","addr":"0x1000"},',
);

const jsonlText = fc
  .record({
    bom: fc.constantFrom(false, false, false, true),
    header: fc.constantFrom(
      '',
      '{"svmsim":1,"platform":{"kernel":"6.18"}}',
      '{"platform":{},"svmsim":1}',
      '{"svmsim":2}',
    ),
    lines: fc.array(
      fc.oneof({ weight: 20, arbitrary: eventLine }, { weight: 1, arbitrary: otherLine }, fc.constant('@BACK')),
      {
        minLength: 1,
        maxLength: 30,
      },
    ),
    ends: fc.array(fc.constantFrom('\n', '\n', '\r\n'), { minLength: 31, maxLength: 31 }),
    lastEnd: fc.boolean(),
    times: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 31, maxLength: 31 }),
  })
  .map(({ bom, header, lines, ends, lastEnd, times }) => {
    let t = 0;
    const body = lines.map((l, i) => {
      if (l === '@BACK') return '{"t":1,"op":"cpu_read","addr":"0x1000"}'; // backwards after any later time
      t += times[i];
      return l.replace('@T', String(t));
    });
    const all = header === '' ? body : [header, ...body];
    const text = all.map((l, i) => l + (i < all.length - 1 || lastEnd ? ends[i] : '')).join('');
    return (bom ? '\ufeff' : '') + text;
  });

describe('JsonlByteReader = schema path (fast-check)', () => {
  test('random JSONL texts: same events and the same errors at the same lines, from memory, a file, the reused event and a dribbling input', () => {
    let events = 0;
    let slow = 0;
    fc.assert(
      fc.property(
        jsonlText,
        fc.constantFrom(true, true, true, false),
        fc.nat(200),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 5 }),
        (text, skip, head, sizes) => {
          const ref = schemaPath(text, skip);
          let mem = ref;
          slow += lineReader(() => void (mem = fromMemory(text, skip))).events;
          events += mem.events.length;
          expect(mem).toEqual(ref);
          const streamed = schemaStream(text, skip);
          if (skip) expect(streamed).toEqual(ref);
          expect(dribbled(text, skip, head, sizes)).toEqual(streamed);
          // (a file with a NUL byte in its first 64 KiB is refused as binary before any line is read)
          if (!text.includes('\u0000')) {
            expect(fromFile(text, skip, false)).toEqual(streamed);
            expect(fromFile(text, skip, true)).toEqual(streamed);
          }
        },
      ),
      { numRuns: 600, seed: 20261201 },
    );
    // Not vacuous: the byte path read most events (the line reader gave the rest: lines with a
    // form the byte path leaves to it, a line read ahead looking for a header, a line after a bad one).
    expect(events).toBeGreaterThan(1000);
    expect(slow).toBeLessThan(events * 0.3);
  });

  test('a JSONL file longer than the 1 MiB read chunk, CRLF, lines cut at the chunk end: the schema path events', () => {
    const lines: string[] = ['{"svmsim":1,"platform":{}}'];
    for (let i = 0; i < 40000; i++) {
      const addr = (0x7f0000000000 + i * 4096 + (i % 4096)).toString(16);
      lines.push(
        i % 3 === 0
          ? `{"t":${i * 10},"op":"gpu_read","addr":"0x${addr}","size":${1 + (i % 9000)}}`
          : `{"op":"cpu_write", "addr":"0x${addr}", "t":"${i * 10}"}`,
      );
      if (i % 997 === 0) lines.push('# ✓ ünïcödé');
    }
    const text = lines.join('\r\n');
    expect(text.length).toBeGreaterThan(2 << 20);
    const ref = schemaStream(text, false);
    expect(ref.events.length).toBe(40000);
    expect(fromFile(text, false, true)).toEqual(ref);
    expect(dribbled(text, false, 100, [65536, 3, 70000])).toEqual(ref);
  });
});
