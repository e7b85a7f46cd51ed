/**
 * `replay --implicit-mmap` and the warning that points to it: a faults-only recording (KFD SMI,
 * nsys) maps nothing, so every GPU fault finds no CPU VMA in drm_gpusvm_range_find_or_insert
 * (-ENOENT). The transform maps the 2 MiB block around each first touch (anonymous rw).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-implicit-'));
const faultsOnly = join(dir, 'faults.jsonl');
writeFileSync(
  faultsOnly,
  [
    '{"op":"gpu_write","t":0,"addr":"0x7f0000000000"}',
    '{"op":"gpu_read","t":1000,"addr":"0x7f0000010000"}',
    '{"op":"gpu_read","t":2000,"addr":"0x7f00001ff000","size":"0x2000"}',
    '{"op":"cpu_read","t":3000,"addr":"0x7f0000800000"}',
    '',
  ].join('\n'),
);

describe('faults-only recordings', () => {
  test('without --implicit-mmap: the faults fail with -ENOENT and stderr names the first one', async () => {
    const r = await runCli(['replay', faultsOnly, '--format', 'json']);
    expect(r.code).toBe(0);
    const ev = JSON.parse(r.stdout).events;
    expect(ev[0]).toMatchObject({ op: 'gpu_write', outcome: 'error', errno: 'ENOENT' });
    expect(r.stderr).toContain('svmsim: warning: #0 gpu_write at 0x7f0000000000 (line 1) failed with -ENOENT');
    expect(r.stderr).toContain('--implicit-mmap');
  });

  test('with --implicit-mmap: one rw anonymous 2M mmap before the first touch of each block', async () => {
    const r = await runCli(['replay', faultsOnly, '--format', 'json', '--implicit-mmap']);
    expect(r.code).toBe(0);
    const ev = JSON.parse(r.stdout).events as {
      op: string;
      addr: string;
      outcome: string;
      fields?: Record<string, string>;
      line: number;
    }[];
    // Blocks touched: 0x7f0000000000 (lines 1-3), 0x7f0000200000 (line 3's 8K span crosses into
    // it), 0x7f0000800000 (line 4): three mmaps, each right before the event that needs it.
    expect(ev.map((e) => `${e.op} ${e.addr}`)).toEqual([
      'mmap 0x7f0000000000',
      'gpu_write 0x7f0000000000',
      'gpu_read 0x7f0000010000',
      'mmap 0x7f0000200000',
      'gpu_read 0x7f00001ff000',
      'mmap 0x7f0000800000',
      'cpu_read 0x7f0000800000',
    ]);
    expect(ev.every((e) => e.outcome !== 'error')).toBe(true);
    expect(r.stdout).toContain('"implicit": "yes"');
    expect(r.stderr).toContain(
      '--implicit-mmap: added 3 anonymous rw 2M mappings (the first, [0x7f0000000000, 0x7f0000200000), before line 1)',
    );
    const table = await runCli(['replay', faultsOnly, '--implicit-mmap']);
    expect(table.stdout).toContain('mmap 0x7f0000000000 +2M prot=rw kind=anon implicit=yes');
  });

  test('blocks the trace maps itself get nothing; a trace with an mmap gets no warning', async () => {
    const t = join(dir, 'mixed.jsonl');
    writeFileSync(
      t,
      '{"op":"mmap","addr":"0x7f0000000000","size":"4K","prot":"r"}\n{"op":"gpu_read","addr":"0x7f0000000000"}\n{"op":"gpu_read","addr":"0x7f0000400000"}\n',
    );
    const r = await runCli(['replay', t, '--format', 'json', '--implicit-mmap']);
    const ev = JSON.parse(r.stdout).events as { op: string; addr: string }[];
    expect(ev.map((e) => `${e.op} ${e.addr}`)).toEqual([
      'mmap 0x7f0000000000',
      'gpu_read 0x7f0000000000',
      'mmap 0x7f0000400000',
      'gpu_read 0x7f0000400000',
    ]);
    const plain = await runCli(['replay', t]);
    expect(plain.stderr).toBe('');
  });
});

describe('--implicit-mmap property', () => {
  const op = fc.constantFrom('gpu_read', 'gpu_write', 'gpu_atomic', 'cpu_read', 'cpu_write');
  // Pages in 8 blocks of 2 MiB from 0x7f0000000000.
  const access = fc.record({ op, page: fc.integer({ min: 0, max: 8 * 512 - 1 }) });
  fcTest.prop([fc.array(access, { minLength: 1, maxLength: 40 })], { numRuns: 25 })(
    'a faults-only trace: one mmap per distinct touched 2M block, right before its first touch; no -ENOENT',
    async (accesses) => {
      const base = 0x7f0000000000n;
      const trace =
        accesses
          .map((a, i) => `{"op":"${a.op}","t":${i},"addr":"0x${(base + BigInt(a.page) * 4096n).toString(16)}"}`)
          .join('\n') + '\n';
      const r = await runCli(['replay', '-', '--input-format', 'jsonl', '--format', 'json', '--implicit-mmap'], {
        stdin: trace,
      });
      expect(r.code).toBe(0);
      const ev = JSON.parse(r.stdout).events as { op: string; addr: string; errno?: string }[];
      const blocks = new Set<number>();
      const expected: string[] = [];
      for (const a of accesses) {
        const b = Math.floor(a.page / 512);
        if (!blocks.has(b)) {
          blocks.add(b);
          expected.push(`mmap 0x${(base + BigInt(b) * 0x200000n).toString(16)}`);
        }
        expected.push(`${a.op} 0x${(base + BigInt(a.page) * 4096n).toString(16)}`);
      }
      expect(ev.map((e) => `${e.op} ${e.addr}`)).toEqual(expected);
      expect(ev.filter((e) => e.errno === 'ENOENT')).toEqual([]);
    },
  );
});
