/**
 * Streaming readers (issue: scale): chunk boundaries, CRLF, a line split across chunks, a final
 * line without newline, and the fast path agreeing with the schema path.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  fastEvent,
  newCursor,
  openTrace,
  parseEventObject,
  parseTrace,
  TraceInputError,
} from '../../src/trace/index.js';
import { readCsvBothWays } from './csv-both.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-stream-'));
type Ev = { core: unknown; line: number; addr: bigint; size: bigint; toCore?: () => unknown };
const plain = (evs: Iterable<Ev>) =>
  [...evs].map((e) => ({ core: e.toCore ? e.toCore() : e.core, line: e.line, addr: e.addr, size: e.size }));

describe('FileLines / CsvByteReader / TraceReader', () => {
  test('a 3 MiB CSV with CRLF, lines split across 1 MiB chunks, multibyte comments and no final newline', () => {
    const rows = ['#! platform kernel=6.17', '# комментарий ✓ crossing chunks', 't,op,addr,size'];
    for (let i = 0; i < 90000; i++) {
      rows.push(
        `${i},${i % 3 ? 'gpu_read' : 'cpu_write'},0x${(0x7f0000000000 + i * 4096).toString(16)},${i % 5 ? '' : '0x2000'}`,
      );
      if (i % 997 === 0) rows.push('# ✓✓✓ ünïcödé');
    }
    const text = rows.join('\r\n');
    expect(text.length).toBeGreaterThan(2 << 20);
    const p = join(dir, 'big.csv');
    writeFileSync(p, text);
    const h = openTrace(p, p, 'csv');
    const streamed = plain(h.events);
    expect(h.platform).toEqual({ kernel: '6.17' });
    expect(streamed.length).toBe(90000);
    expect(streamed).toEqual(plain(parseTrace(text, { file: p, format: 'csv', fast: false }).events));
    expect(streamed.at(-1)!.core).toMatchObject({ op: 'gpu_read', t: 89999 });
    expect(h.bytesRead).toBe(Buffer.byteLength(text));
  });

  test('JSONL streamed from a file: 30,000 events, then the bad last line is a TraceInputError at its line (30002) and field', () => {
    const lines = ['{"svmsim":1,"platform":{"dgfx":false}}'];
    for (let i = 0; i < 30000; i++)
      lines.push(`{"t":${i},"op":"gpu_write","addr":"0x${(0x7f0000000000 + i * 4096).toString(16)}"}`);
    lines.push('{"op":"gpu_write","addr":"0xZZ"}');
    const p = join(dir, 'bad.jsonl');
    writeFileSync(p, lines.join('\n') + '\n');
    const h = openTrace(p, p, 'jsonl');
    expect(h.platform).toEqual({ dgfx: false });
    let n = 0;
    try {
      for (const _ of h.events) n++;
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(TraceInputError);
      expect((e as TraceInputError).line).toBe(30002);
      expect((e as TraceInputError).field).toBe('addr');
    }
    expect(n).toBe(30000);
  });

  test('a JSON document over the size limit is refused with a hint to use JSONL', () => {
    const p = join(dir, 'huge.json');
    writeFileSync(p, '{"svmsim":1,"events":[' + ' '.repeat((64 << 20) + 1) + ']}');
    expect(() => openTrace(p, p, 'json')).toThrow(/use JSONL or CSV|convert it to JSONL or CSV/);
  });
});

describe('fast path = schema path', () => {
  const viaSchema = (obj: Record<string, unknown>) => {
    try {
      return parseEventObject(obj, 'x', 1, newCursor());
    } catch {
      return 'error';
    }
  };
  const viaFast = (obj: Record<string, unknown>) => fastEvent(obj, Object.keys(obj), 1, newCursor());

  test('every event line of the example traces', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d, { withFileTypes: true })) {
        if (f.isDirectory()) walk(join(d, f.name));
        else if (f.name.endsWith('.jsonl')) files.push(join(d, f.name));
      }
    };
    walk('traces');
    let fast = 0;
    for (const f of files) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        if (!line.startsWith('{') || line.includes('"svmsim"')) continue;
        const obj = JSON.parse(line);
        const a = viaFast(obj);
        if (a === undefined) continue;
        fast++;
        const b = viaSchema(obj);
        expect(b).not.toBe('error');
        expect({ core: a.core, addr: a.addr, size: a.size }).toEqual({
          core: (b as typeof a).core,
          addr: (b as typeof a).addr,
          size: (b as typeof a).size,
        });
      }
    }
    expect(fast).toBeGreaterThan(500);
  });

  test('random event objects: the fast path answers on a share of them (counted), each equal to the schema path', () => {
    const str = fc.oneof(
      fc.constantFrom(
        '0x7f0000001000',
        '0xffffffffffff0fff',
        '0x0',
        '0x1fff',
        '4096',
        '0x',
        'zz',
        '1.5ms',
        '10',
        '2M',
        '0x2000',
        ' 0x10',
        '-1',
      ),
      fc.string({ maxLength: 4 }),
    );
    const val = fc.oneof(str, fc.integer({ min: -5, max: 2 ** 40 }), fc.constant(1.5));
    const field = fc.constantFrom(
      't',
      'addr',
      'size',
      'prot',
      'kind',
      'advice',
      'access',
      'region',
      'preferred',
      'atomic',
      'comment',
      'bogus',
    );
    const ops = fc.constantFrom(
      'mmap',
      'munmap',
      'mprotect',
      'madvise',
      'cpu_read',
      'cpu_write',
      'gpu_read',
      'gpu_write',
      'gpu_atomic',
      'gpu_fault',
      'xe_prefetch',
      'xe_madvise',
      'nope',
    );
    const enumVal = fc.constantFrom(
      'r',
      'rw',
      'none',
      'anon',
      'shared',
      'file',
      'hugetlb',
      'dontneed',
      'read',
      'write',
      'atomic',
      'smem',
      'vram',
      'advised',
      'device',
      'system',
      'undefined',
      'global',
      'cpu',
      'x',
    );
    let answered = 0;
    fc.assert(
      fc.property(ops, fc.dictionary(field, fc.oneof(val, enumVal), { maxKeys: 5 }), str, (op, rest, addr) => {
        const obj: Record<string, unknown> = { op, addr, ...rest };
        const a = viaFast(obj);
        if (a === undefined) return;
        answered++;
        const b = viaSchema(obj);
        expect(b).not.toBe('error');
        const bb = b as typeof a;
        expect({ core: a.core, addr: a.addr, size: a.size }).toEqual({ core: bb.core, addr: bb.addr, size: bb.size });
      }),
      { numRuns: 3000, seed: 20261130 },
    );
    // Not vacuous: the fast path must have answered (and been compared) on a share of the objects.
    expect(answered).toBeGreaterThan(30);
  });
});

describe('byte-level CSV reader = schema path', () => {
  test('every CSV trace in traces/ and a generated trace with odd rows give identical events', () => {
    const rows = ['#! platform kernel=6.16', 't,op,addr,size,prot,kind,access,region,preferred,atomic'];
    const ops = [
      'cpu_read',
      'gpu_write',
      'gpu_fault',
      'mmap',
      'munmap',
      'xe_prefetch',
      'xe_madvise',
      'mprotect',
      'madvise',
    ];
    for (let i = 0; i < 5000; i++) {
      const op = ops[i % ops.length];
      const addr = `0x${(0x7f0000000000 + i * 4096 + (i % 7)).toString(16)}`;
      const size =
        i % 11 === 0 ? '2M' : i % 3 === 0 ? '0x2000' : op.startsWith('cpu') || op.startsWith('gpu') ? '' : '4096';
      const extra =
        op === 'gpu_fault'
          ? ',,,read,,,'
          : op === 'mmap'
            ? ',rw,anon,,,,'
            : op === 'mprotect'
              ? ',r,,,,,'
              : op === 'xe_prefetch'
                ? ',,,,smem,,'
                : op === 'xe_madvise'
                  ? ',,,,,system,'
                  : ',,,,,,';
      const t = i % 13 === 0 ? `${i}us` : i % 5 === 0 ? '' : String(i * 1000);
      rows.push(`${t},${op},${op === 'gpu_fault' ? addr : addr},${op === 'gpu_fault' ? '' : size}${extra}`);
      if (i % 500 === 0) rows.push('# comment ✓');
      if (i % 777 === 0) rows.push(`"${i * 1000 + 1}",cpu_write,"${addr}",,,,,,,`);
      if (i % 611 === 0)
        rows.push(
          ` ${i * 1000 + 2},cpu_write, ${addr} ,,,,,,,`,
          `${i * 1000 + 3},mmap,${addr.replace(/.{3}$/, '000')},4K, rw ,	anon,,,,`,
        );
    }
    const text = rows.join('\n');
    const p = join(dir, 'odd.csv');
    writeFileSync(p, text);
    const files = [
      p,
      ...readdirSync('traces')
        .filter((f) => f.endsWith('.csv'))
        .map((f) => join('traces', f)),
    ];
    for (const f of files) {
      const bytes = openTrace(f, f, 'csv');
      const whole = parseTrace(readFileSync(f, 'utf8'), { file: f, format: 'csv', fast: false });
      expect(bytes.platform).toEqual(whole.platform);
      expect(plain(bytes.events)).toEqual(plain(whole.events));
    }
  });
});

describe('fused byte reader = schema path on random rows (fast-check)', () => {
  test('random CSV rows, odd cells included: same events and the same errors at the same lines', () => {
    const cellT = fc.constantFrom(
      '',
      '0',
      '7',
      '1000',
      '999999999999999',
      '1234567890123456',
      '5us',
      ' 9',
      '00',
      '-1',
      '1e3',
    );
    const cellOp = fc.constantFrom(
      'cpu_read',
      'cpu_write',
      'gpu_read',
      'gpu_write',
      'gpu_atomic',
      'gpu_fault',
      'mmap',
      'munmap',
      'mprotect',
      'madvise',
      'xe_prefetch',
      'xe_madvise',
      'CPU_READ',
      'nope',
      '',
    );
    const cellAddr = fc.oneof(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => '0x' + v.toString(16)),
      fc.bigInt({ min: 0n, max: 1n << 48n }).map((v) => '0X' + v.toString(16).toUpperCase()),
      fc.constantFrom('0x', '0x7f0000001000', '4096', '0x00000000000000001', 'zz', '', '0x7f000000100g'),
    );
    const cellSize = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 40 }).map(String),
      fc.integer({ min: 0, max: 2 ** 40 }).map((v) => '0x' + v.toString(16)),
      fc.constantFrom('', '2M', '0x', '0x0', '0', '00', '0x20000000000000', '99999999999999999'),
    );
    const cellWord = fc.constantFrom(
      '',
      'r',
      'rw',
      'anon',
      'shared',
      'read',
      'atomic',
      'smem',
      'vram',
      'system',
      'device',
      'cpu',
      'dontneed',
      'x',
      'Rw',
      'r w',
    );
    const row = fc.tuple(
      cellT,
      cellOp,
      cellAddr,
      cellSize,
      cellWord,
      cellWord,
      cellWord,
      fc.constantFrom('\n', '\r\n', '\n', ',\n', '\n#c\n', '\n\n'),
    );
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.boolean(), (rows, finalNewline) => {
        let text = 't,op,addr,size,prot,access,region\n';
        for (const [t, op, addr, size, a, b, c, end] of rows) text += `${t},${op},${addr},${size},${a},${b},${c}${end}`;
        if (!finalNewline) text = text.replace(/[\r\n]+$/, '');
        const { bytes, whole, e1, e2 } = readCsvBothWays(dir, text);
        expect(e1).toEqual(e2);
        expect(bytes).toEqual(whole);
      }),
      { numRuns: 300, seed: 20261125 },
    );
  });
});
