/**
 * The trace layer: one schema for three encodings, exact 64-bit values, line-accurate errors.
 */
import { describe, expect, test } from 'vitest';
import {
  parseAddr,
  parsePlatformSettings,
  parseSize,
  parseTime,
  parseTrace,
  TraceInputError,
} from '../../src/trace/index.js';
import { schemas } from '../../src/trace/schemas.js';

const JSON_DOC = `{
  "svmsim": 1,
  "platform": { "kernel": "6.17", "vram": "8G", "need64k": true },
  "events": [
    { "op": "mmap", "addr": "0x7f0000000000", "size": "4M", "prot": "rw", "kind": "anon" },
    { "op": "cpu_write", "t": "1.5ms", "addr": "0x7f0000000000", "size": "64K" },
    { "op": "gpu_atomic", "t": 2000000, "addr": "0x7f0000001000" },
    { "op": "gpu_fault", "addr": "0x7f0000002000", "access": "write" },
    { "op": "mprotect", "addr": "0x7f0000000000", "size": 4096, "prot": "r" },
    { "op": "madvise", "addr": "0x7f0000000000", "size": "4K" },
    { "op": "xe_prefetch", "addr": "0x7f0000200000", "size": "2M", "region": "smem" },
    { "op": "xe_madvise", "addr": "0x7f0000200000", "size": "2M", "atomic": "device" },
    { "op": "munmap", "addr": "0x7f0000000000", "size": "4M" }
  ]
}`;

const JSONL = `{"svmsim":1,"platform":{"kernel":"6.17","vram":"8G","need64k":true}}
{"op":"mmap","addr":"0x7f0000000000","size":"4M","prot":"rw","kind":"anon"}
{"op":"cpu_write","t":"1.5ms","addr":"0x7f0000000000","size":"64K"}
# a comment
{"op":"gpu_atomic","t":2000000,"addr":"0x7f0000001000"}
{"op":"gpu_fault","addr":"0x7f0000002000","access":"write"}
{"op":"mprotect","addr":"0x7f0000000000","size":4096,"prot":"r"}
{"op":"madvise","addr":"0x7f0000000000","size":"4K"}
{"op":"xe_prefetch","addr":"0x7f0000200000","size":"2M","region":"smem"}
{"op":"xe_madvise","addr":"0x7f0000200000","size":"2M","atomic":"device"}
{"op":"munmap","addr":"0x7f0000000000","size":"4M"}`;

const CSV = `#! platform kernel=6.17 vram=8G need64k=true\r
t,op,addr,size,prot,kind,access,region,atomic\r
,mmap,0x7f0000000000,4M,rw,anon,,,\r
1.5ms,cpu_write,0x7f0000000000,64K,,,,,\r
2000000,gpu_atomic,0x7f0000001000,,,,,,\r
,gpu_fault,0x7f0000002000,,,,write,,\r
,mprotect,0x7f0000000000,4096,r,,,,\r
# comment line\r
,madvise,0x7f0000000000,4K,,,,,\r
,xe_prefetch,0x7f0000200000,2M,,,,smem,\r
,xe_madvise,0x7f0000200000,2M,,,,,device\r
,munmap,0x7f0000000000,"4M",,,,,`;

/** Core events as plain objects (the CSV reader's events are objects of their own class). */
const coreOf = (e: { core: unknown; toCore?: () => unknown }) => (e.toCore ? e.toCore() : e.core);
const strip = (t: ReturnType<typeof parseTrace>) => ({
  platform: t.platform,
  events: t.events.map((e) => ({ core: coreOf(e), addr: e.addr, size: e.size })),
});

describe('encodings', () => {
  test('JSON, JSONL and CSV encodings of one trace give identical core events and platform', () => {
    const a = parseTrace(JSON_DOC, { file: 'a.json', format: 'json' });
    const b = parseTrace(JSONL, { file: 'a.jsonl', format: 'jsonl' });
    const c = parseTrace(CSV, { file: 'a.csv', format: 'csv' });
    expect(a.events).toHaveLength(9);
    expect(strip(b)).toEqual(strip(a));
    expect(strip(c)).toEqual(strip(a));
    expect(a.platform).toEqual({ kernel: '6.17', vramBytes: 8n << 30n, need64k: true });
  });

  test('line numbers point at each event in every encoding', () => {
    expect(parseTrace(JSON_DOC, { file: 'a.json', format: 'json' }).events.map((e) => e.line)).toEqual([
      5, 6, 7, 8, 9, 10, 11, 12, 13,
    ]);
    expect(parseTrace(JSONL, { file: 'a.jsonl', format: 'jsonl' }).events.map((e) => e.line)).toEqual([
      2, 3, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(parseTrace(CSV, { file: 'a.csv', format: 'csv' }).events.map((e) => e.line)).toEqual([
      3, 4, 5, 6, 7, 9, 10, 11, 12,
    ]);
  });

  test("platform knobs under the reference model's and the kernel's names", () => {
    const t = parseTrace(
      '{"svmsim":1,"platform":{"version":"6.16","svm_notifier_size":256,"HZ":1000,"vram_capacity":"8G","has_media_gt":false,"pagemap_enabled":true}}\n{"op":"cpu_read","addr":4096}',
      { file: 'a.jsonl', format: 'jsonl' },
    );
    expect(t.platform).toEqual({
      kernel: '6.16',
      notifierBytes: 256n << 20n,
      hz: 1000,
      vramBytes: 8n << 30n,
      mediaGt: false,
      pagemap: true,
    });
    const c = parseTrace('#! platform svm_notifier_size=1024 atomic_svm_timeslice_ms=10\nop,addr\ncpu_read,0x1000\n', {
      file: 'a.csv',
      format: 'csv',
    });
    expect(c.platform).toEqual({ notifierBytes: 1n << 30n, atomicTimesliceMs: 10 });
  });

  test('times: units, default to the previous time', () => {
    const t = parseTrace(JSON_DOC, { file: 'a.json', format: 'json' }).events.map((e) => e.core.t);
    expect(t).toEqual([0, 1_500_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000, 2_000_000]);
  });

  test('format sniffing for stdin', () => {
    expect(parseTrace(JSON_DOC, { file: '-' }).events).toHaveLength(9);
    expect(parseTrace(JSONL, { file: '-' }).events).toHaveLength(9);
    expect(parseTrace(CSV, { file: '-' }).events).toHaveLength(9);
  });

  test('a final line without newline and a BOM are fine', () => {
    expect(parseTrace('\ufeffop,addr\ncpu_read,0x1000', { file: 'x.csv', format: 'csv' }).events).toHaveLength(1);
  });
});

describe('values', () => {
  test('64-bit addresses are exact', () => {
    expect(parseAddr('0xffffffffffff0000')).toBe(0xffffffffffff0000n);
    const t = parseTrace('op,addr\ncpu_read,0xfffffffffffff123', { file: 'x.csv', format: 'csv' });
    expect(t.events[0].core).toMatchObject({ page: Number(0xfffffffffffffn), offset: 0x123 });
    expect(t.events[0].addr).toBe(0xfffffffffffff123n);
  });

  test('sizes with suffixes, and fractions that come to whole bytes', () => {
    expect(parseSize('4K')).toBe(4096n);
    expect(parseSize('1.5M')).toBe(1572864n);
    expect(parseSize('0x1000')).toBe(4096n);
    expect(parseSize(12)).toBe(12n);
    expect(() => parseSize('1.0000001K')).toThrow();
    expect(() => parseSize('-4K')).toThrow();
  });

  test('times with units', () => {
    expect(parseTime('1.5ms')).toBe(1_500_000);
    expect(parseTime('20us')).toBe(20_000);
    expect(parseTime('3s')).toBe(3_000_000_000);
    expect(parseTime(7)).toBe(7);
    expect(() => parseTime('1.5ns')).toThrow();
  });
});

describe('bad input: TraceInputError with file, line and field', () => {
  const bad = (text: string, format: 'json' | 'jsonl' | 'csv', file = `t.${format}`) => {
    try {
      parseTrace(text, { file, format });
    } catch (e) {
      expect(e).toBeInstanceOf(TraceInputError);
      return e as TraceInputError;
    }
    throw new Error('no error');
  };

  test.each([
    ['malformed JSON', '{"svmsim": 1,\n "events": [\n {"op": "mmap",, }]}', 'json', 3, undefined, /malformed JSON/],
    [
      'unknown op',
      '{"op":"mmap","addr":"0x1000","size":"4K"}\n{"op":"gpu_reed","addr":"0x1000"}',
      'jsonl',
      2,
      'op',
      /one of mmap, munmap/,
    ],
    [
      'unknown field',
      '{"op":"munmap","addr":"0x1000","size":"4K","prot":"r"}',
      'jsonl',
      1,
      undefined,
      /unknown field "prot" for op "munmap"/,
    ],
    ['missing field', '{"op":"mmap","addr":"0x1000"}', 'jsonl', 1, 'size', /missing/],
    ['non-hex address', 'op,addr\ncpu_read,0xZZ', 'csv', 2, 'addr', /expected an address/],
    ['negative size', 'op,addr,size\nmmap,0x1000,-4K', 'csv', 2, 'size', /expected a size/],
    ['zero size (CSV)', 'op,addr,size\nmmap,0x1000,0', 'csv', 2, 'size', /greater than 0, found "0"/],
    ['zero size (JSONL, hex)', '{"op":"munmap","addr":"0x1000","size":"0x0"}', 'jsonl', 1, 'size', /greater than 0/],
    [
      'zero size (JSON, suffix)',
      '{"svmsim":1,"events":[{"op":"cpu_write","addr":"0x1000","size":"0K"}]}',
      'json',
      1,
      'size',
      /greater than 0/,
    ],
    ['fractional address', '{"op":"cpu_read","addr":4096.5}', 'jsonl', 1, 'addr', /address/],
    ['address beyond 64 bits', 'op,addr\ncpu_read,0x10000000000000000', 'csv', 2, 'addr', /below 2\^64/],
    ['JSON number above 2^53', '{"op":"cpu_read","addr":18014398509481985}', 'jsonl', 1, 'addr', /hex string/],
    [
      'time backwards',
      't,op,addr\n5ms,cpu_read,0x1000\n3ms,cpu_read,0x1000',
      'csv',
      3,
      't',
      /time goes backwards: 3ms after 5ms/,
    ],
    ['wrong cell count', 'op,addr\ncpu_read,0x1000,7', 'csv', 2, undefined, /expected 2 cells/],
    ['unknown column', 'op,adr\ncpu_read,0x1000', 'csv', 1, undefined, /unknown column "adr"/],
    ['bad enum', '{"op":"mmap","addr":"0x1000","size":"4K","prot":"rwx"}', 'jsonl', 1, 'prot', /one of r, rw, none/],
    ['binary junk', 'op,addr\n\u0000\u0001', 'csv', 2, undefined, /binary/],
    ['empty', '', 'csv', 1, undefined, /empty/],
    ['no events', '{"svmsim":1,"events":[]}', 'json', 1, 'events', /no events/],
    [
      'platform knob given twice (name and alias)',
      '{"svmsim":1,"platform":{"kernel":"6.16","version":"6.17"},"events":[{"op":"cpu_read","addr":1}]}',
      'json',
      1,
      'platform',
      /knob "kernel" is given twice \(also as "version"\)/,
    ],
    [
      'unknown platform knob',
      '{"svmsim":1,"platform":{"vrm":"1G"},"events":[{"op":"cpu_read","addr":1}]}',
      'json',
      1,
      undefined,
      /unknown platform knob "vrm"/,
    ],
    [
      'madvise with both attributes',
      '{"op":"xe_madvise","addr":"0x1000","size":"4K","preferred":"system","atomic":"cpu"}',
      'jsonl',
      1,
      undefined,
      /exactly one/,
    ],
  ] as const)('%s', (_n, text, format, line, field, msg) => {
    const e = bad(text, format);
    expect(e.line).toBe(line);
    if (field !== undefined) expect(e.field).toBe(field);
    expect(e.message).toMatch(msg);
    expect(e.message.startsWith(`t.${format}:${line}`)).toBe(true);
  });
});

describe('platform settings', () => {
  test('no settings: nothing, without the schema (parsePlatformSettings skips it), as the schema itself gives', () => {
    expect(parsePlatformSettings({}, 'command line')).toEqual({});
    const { canonicalKnobs, platformSchema, toPlatform } = schemas();
    const c = canonicalKnobs({});
    expect('knobs' in c).toBe(true);
    const r = platformSchema.safeParse('knobs' in c ? c.knobs : undefined);
    expect(r.success && toPlatform(r.data)).toEqual({});
  });
});
