/**
 * The optional `pid` field through every encoding: the zod schema path and each fast reader
 * (fastEvent for JSON/JSONL objects, the fused reader of CsvByteReader for CSV) give the same
 * event, or all defer to the same error (fast-check).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  csvRowObject,
  fastEvent,
  newCursor,
  openTrace,
  parseCsvRecord,
  parseEventObject,
  parseTrace,
} from '../../src/trace/index.js';
import { plain, readCsvBothWays } from './csv-both.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-pid-'));

const pidCell = fc.constantFrom(
  '',
  '1',
  '2',
  '100',
  '4194304',
  '2147483647',
  '2147483648',
  '0',
  '-1',
  '007',
  ' 2',
  '2 ',
  '1.5',
  'x',
  '99999999999',
  '1e3',
);

describe('pid field', () => {
  test('absent pid leaves the event without it (pid 1); present pid is carried in every encoding', () => {
    const csv = 't,pid,op,addr,size\n0,,mmap,0x7f0000000000,0x200000\n1,200,gpu_read,0x7f0000001000,\n';
    const p = join(dir, 'two.csv');
    writeFileSync(p, csv);
    const bytes = plain(openTrace(p, p, 'csv').events) as { core: { pid?: number } }[];
    expect(bytes.map((e) => e.core.pid)).toEqual([undefined, 200]);
    expect(bytes).toEqual(plain(parseTrace(csv, { file: p, format: 'csv', fast: false }).events));
    const jsonl =
      '{"op":"mmap","addr":"0x7f0000000000","size":"2M","pid":3}\n{"op":"gpu_read","addr":"0x7f0000001000","pid":"4"}\n';
    expect(parseTrace(jsonl, { file: 'x.jsonl', format: 'jsonl' }).events.map((e) => e.core.pid)).toEqual([3, 4]);
    expect(() =>
      parseTrace('{"op":"gpu_read","addr":"0x1000","pid":0}\n', { file: 'x.jsonl', format: 'jsonl' }),
    ).toThrow(/x\.jsonl:1: field "pid": expected a process id/);
  });

  test('random JSON objects with a pid: fastEvent answers on a share of them (counted), each equal to the schema path', () => {
    const pidVal = fc.oneof(pidCell, fc.integer({ min: -3, max: 2 ** 32 }), fc.constant(1.5), fc.constant(2 ** 31 - 1));
    const ops = fc.constantFrom('mmap', 'cpu_read', 'gpu_read', 'gpu_fault', 'munmap', 'xe_prefetch');
    let answered = 0;
    fc.assert(
      fc.property(ops, pidVal, fc.constantFrom('0x7f0000001000', '0x2000', 'zz'), (op, pid, addr) => {
        const obj: Record<string, unknown> = { op, addr, pid };
        if (op === 'mmap' || op === 'munmap' || op === 'xe_prefetch') obj.size = '0x2000';
        if (op === 'gpu_fault') obj.access = 'read';
        let schema: unknown = 'error';
        try {
          const e = parseEventObject(obj, 'x', 1, newCursor());
          schema = { core: e.core, addr: e.addr, size: e.size };
        } catch {
          /* error */
        }
        const fast = fastEvent(obj, Object.keys(obj), 1, newCursor());
        if (fast === undefined) return;
        answered++;
        expect({ core: fast.core, addr: fast.addr, size: fast.size }).toEqual(schema);
      }),
      { numRuns: 2000, seed: 20261130 },
    );
    // Not vacuous: fastEvent must have answered (and been compared) on a share of the objects.
    expect(answered).toBeGreaterThan(200);
  });

  test('random CSV rows with a pid column: byte reader (fused path) = schema path, same errors', () => {
    const row = fc.tuple(
      fc.constantFrom('', '5', '9'),
      pidCell,
      fc.constantFrom('cpu_read', 'gpu_read', 'gpu_fault', 'mmap', 'nope'),
      fc.constantFrom('0x7f0000001000', '0x7f0000200000', 'zz'),
      fc.constantFrom('', '0x2000', '2M'),
      fc.constantFrom('', 'read', 'rw'),
      fc.constantFrom('\n', '\r\n', '\n#c\n'),
    );
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), fc.boolean(), (rows, pidFirst) => {
        const head = pidFirst ? 'pid,t,op,addr,size,access' : 't,op,addr,size,access,pid';
        let text = head + '\n';
        for (const [t, pid, op, addr, size, acc, end] of rows)
          text += (pidFirst ? [pid, t, op, addr, size, acc] : [t, op, addr, size, acc, pid]).join(',') + end;
        const { bytes, whole, e1, e2 } = readCsvBothWays(dir, text);
        expect(e1).toEqual(e2);
        expect(bytes).toEqual(whole);
        // The plain schema path, row by row.
        const cols = head.split(',');
        const cur = newCursor();
        const schema: unknown[] = [];
        text.split('\n').forEach((raw, i) => {
          const line = raw.replace(/\r$/, '');
          if (i === 0 || line === '' || line.startsWith('#')) return;
          try {
            const e = parseEventObject(
              csvRowObject(cols, parseCsvRecord(line, 'prop.csv', i + 1), 'prop.csv', i + 1),
              'prop.csv',
              i + 1,
              cur,
            );
            schema.push({ core: e.core, line: e.line, addr: e.addr, size: e.size });
          } catch {
            /* the readers report it */
          }
        });
        expect(bytes).toEqual(schema);
      }),
      { numRuns: 150, seed: 20261130 },
    );
  }, 60_000);
});
