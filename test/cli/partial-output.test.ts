/**
 * A replay that fails with exit 2 deep into a trace (a bad line after many events) leaves on
 * stdout only whole records: jsonl, table and dmesg end at a whole line, json after a whole event.
 * Output is written in chunks cut at a writer's buffer size; heldSink (src/cli/output.ts) holds the
 * part of each chunk after its last record end until the next chunk or the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { heldSink, jsonRecordEnd, lineEnd } from '../../src/cli/output.js';

describe('heldSink writes only whole records until the end', () => {
  test('lines: each chunk up to its last newline, the rest with the next chunk; flush() writes the rest', () => {
    const out: string[] = [];
    const reused = Buffer.alloc(8);
    const { sink, bytes, flush } = heldSink(
      (s) => out.push(s),
      (b) => out.push(Buffer.from(b).toString('utf8')),
      lineEnd,
    );
    const head = `${'h'.repeat(4 << 20)}\n`;
    sink(`${head}ab`); // past HOLD_BYTES: written up to its newline
    expect(out.join('') === head).toBe(true);
    reused.write('c\nde\nfgh');
    bytes!(reused); // "ab" + "c\nde\n" out; "fgh" (copied: the buffer is reused) held
    reused.fill(0x7a);
    expect(out.join('').slice(head.length)).toBe('abc\nde\n');
    bytes!(Buffer.from('ij')); // no line end: held with the rest
    sink('kl\nm');
    flush(); // the end: everything, in order
    expect(out.join('').slice(head.length)).toBe('abc\nde\nfghijkl\nm');
  });

  test('json: a chunk goes out up to its last event closed at depth 2 ("    },\\n"), not a deeper "}"', () => {
    const out: string[] = [];
    const { sink, flush } = heldSink((s) => out.push(s), undefined, jsonRecordEnd);
    const head = `{\n  "events": [${' '.repeat(4 << 20)}\n`;
    sink(`${head}    {\n      "seq": 0\n    },\n    {\n      "decisions": [\n        {\n        },\n`);
    expect(out.join('').slice(head.length)).toBe('    {\n      "seq": 0\n    },\n');
    sink('      ]\n    }\n  ]\n}\n');
    flush();
    expect(out.join('').slice(head.length)).toBe(
      '    {\n      "seq": 0\n    },\n    {\n      "decisions": [\n        {\n        },\n      ]\n    }\n  ]\n}\n',
    );
  });

  test('a chunk with no record end is held, and written anyway once 4 MiB are held (not a record format)', () => {
    const out: string[] = [];
    const { sink } = heldSink((s) => out.push(s), undefined, lineEnd);
    sink(`a\n${'x'.repeat(4 << 20)}`); // past HOLD_BYTES: "a\n" out, the rest held
    expect(out).toEqual(['a\n']);
    sink('y'.repeat(64 << 10)); // still no newline: 4 MiB held, written
    expect(out.map((s) => s.length)).toEqual([2, (4 << 20) + (64 << 10)]);
  });
});

describe('heldSink holding strings as bytes (an output that takes bytes) = holding them as strings (fast-check)', () => {
  test('the same text written after every chunk and at the end', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('\n', 'é\n', '€'),
      fc.tuple(fc.integer({ min: 1, max: 1_500_000 }), fc.boolean()).map(([n, nl]) => 'x'.repeat(n) + (nl ? '\n' : '')),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const plain: string[] = [];
        const viaBytes: string[] = [];
        const a = heldSink((s) => plain.push(s), undefined, lineEnd);
        const b = heldSink(
          (s) => viaBytes.push(s),
          (u) => viaBytes.push(Buffer.from(u).toString('utf8')),
          lineEnd,
        );
        for (const p of pieces) {
          a.sink(p);
          b.sink(p);
          expect(viaBytes.join('') === plain.join('')).toBe(true);
        }
        a.flush();
        b.flush();
        expect(viaBytes.join('') === pieces.join('')).toBe(true);
        expect(plain.join('') === pieces.join('')).toBe(true);
      }),
      { numRuns: 60, seed: 12 },
    );
  });
});

describe('replay failing with exit 2 after many events: stdout ends at a whole record', () => {
  let trace = '';
  beforeAll(() => {
    // 30,000 atomic events: 15 MB of jsonl, written in chunks well before the bad line at the end.
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-partial-'));
    const gen = spawnSync('node', ['bin/svmsim.js', 'gen', 'atomic', '-n', '30000', '--size', '64M', '--seed', '7'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(gen.status).toBe(0);
    trace = join(dir, 'bad-at-end.csv');
    writeFileSync(trace, `${gen.stdout}12345678,gpu_reed,0x1000,\n`);
  }, 60_000);

  const replay = (format: string) => {
    const r = spawnSync('node', ['bin/svmsim.js', 'replay', trace, '--format', format], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad-at-end\.csv:30003: field "op"/);
    expect(r.stdout.length).toBeGreaterThan(4 << 20); // past the part held back until the end
    return r.stdout;
  };

  test('jsonl: whole lines, each one JSON (the last event written before the bad line)', () => {
    const out = replay('jsonl');
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    for (const l of lines) JSON.parse(l);
    const last = JSON.parse(lines.at(-1)!);
    expect(last.seq).toBeLessThan(30000);
    expect(last.seq).toBe(lines.length - 2); // the header line, then events 0 .. seq
  }, 60_000);

  test('json: ends after a whole event of "events"', () => {
    const out = replay('json');
    expect(out.endsWith('\n    },\n')).toBe(true);
    const start = out.lastIndexOf('\n    {\n');
    const event = JSON.parse(out.slice(start, -2));
    expect(event.seq).toBeLessThan(30000);
  }, 60_000);

  test('table and dmesg: whole lines', () => {
    for (const f of ['table', 'dmesg']) expect(replay(f).endsWith('\n')).toBe(true);
  }, 120_000);
});
