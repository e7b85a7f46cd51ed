/**
 * `compare --shard I/N` + `compare --merge`: for random grids (traces × kernels × VRAM sizes ×
 * knob values, any output format, any shard count — also more shards than jobs), the merged
 * parts print exactly the bytes of the unsharded run. Plus the checks on the parts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KERNEL_VERSIONS } from '../../src/core/platform.js';
import { shardRange } from '../../src/cli/compare.js';
import { runCli, runCliFiles } from '../cli-harness.js';

const RUNS = Math.max(10, Number(process.env.SVMSIM_PROPERTY_RUNS ?? 300) / 10);
const TRACES = [
  'traces/02-cpu-gpu-pingpong.json',
  'traces/07-vram-pressure.json',
  'traces/11-igpu.jsonl',
  'traces/12-need64k.csv',
];

const sub = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1 });
const gridArb = fc.record({
  traces: sub(TRACES),
  kernels: fc.option(sub(KERNEL_VERSIONS), { nil: undefined }),
  vram: fc.option(sub(['4M', '64M', '16G']), { nil: undefined }),
  gc: fc.option(sub(['eager', 'lazy']), { nil: undefined }),
  format: fc.constantFrom('table', 'markdown', 'csv', 'json'),
  shards: fc.integer({ min: 1, max: 9 }),
});

function args(g: { kernels?: string[]; vram?: string[]; gc?: string[] }): string[] {
  const a: string[] = [];
  if (g.kernels) a.push('--kernel', g.kernels.join(','));
  if (g.vram) a.push('--vram', g.vram.join(','));
  if (g.gc) a.push('--set', `gc=${g.gc.join(',')}`);
  return a;
}

describe('compare --shard / --merge', () => {
  test('shardRange: shards are contiguous, cover every job once, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 40 }), (total, n) => {
        let at = 0;
        for (let i = 1; i <= n; i++) {
          const [from, to] = shardRange(total, i, n);
          expect(from).toBe(at);
          expect(to).toBeGreaterThanOrEqual(from);
          at = to;
        }
        expect(at).toBe(total);
      }),
    );
  });

  test('merged parts = the unsharded output, byte for byte, for random grids', async () => {
    await fc.assert(
      fc.asyncProperty(gridArb, async (g) => {
        const base = ['compare', ...g.traces, ...args(g)];
        const whole = await runCli([...base, '--format', g.format]);
        expect(whole.code).toBe(0);
        const parts: string[] = [];
        for (let i = 1; i <= g.shards; i++) {
          const part = `part-${i}.json`;
          const r = await runCli([...base, '--shard', `${i}/${g.shards}`, '-o', part]);
          expect(r.code).toBe(0);
          parts.push(r.files.get(part)!);
        }
        const files = new Map(parts.map((p, i) => [`part-${i + 1}.json`, p]));
        // The parts, in any order.
        const merged = await runCliFiles(
          ['compare', '--merge', ...[...files.keys()].reverse(), '--format', g.format],
          files,
        );
        expect(merged.stderr).toBe('');
        expect(merged.stdout).toBe(whole.stdout);
      }),
      { numRuns: RUNS },
    );
  });

  test('merge refuses missing, repeated, foreign and junk parts (exit 2) and takes the parts in any order; --shard 3/2 is exit 2', async () => {
    const base = ['compare', 'traces/07-vram-pressure.json', '--kernel', '6.15,6.18'];
    const p1 = (await runCli([...base, '--shard', '1/2', '-o', 'a'])).files.get('a')!;
    const p2 = (await runCli([...base, '--shard', '2/2', '-o', 'b'])).files.get('b')!;
    const other = (await runCli([...base, '--vram', '4M', '--shard', '2/2', '-o', 'c'])).files.get('c')!;
    const files = new Map([
      ['p1', p1],
      ['p2', p2],
      ['other', other],
      ['junk', '{}'],
    ]);
    const missing = await runCliFiles(['compare', '--merge', 'p1'], files);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing shard 2/2');
    expect((await runCliFiles(['compare', '--merge', 'p1', 'p1'], files)).stderr).toContain('given twice');
    expect((await runCliFiles(['compare', '--merge', 'p1', 'other'], files)).stderr).toContain(
      'from a different compare',
    );
    expect((await runCliFiles(['compare', '--merge', 'junk'], files)).code).toBe(2);
    expect((await runCli([...base, '--shard', '3/2'])).code).toBe(2);
    expect((await runCliFiles(['compare', '--merge', 'p2', 'p1'], files)).code).toBe(0);
  });

  test('the installed command: worker threads, one thread and piped stdin (streamed) print the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-compare-'));
    const trace = join(dir, 'pp.csv');
    expect(
      spawnSync('node', ['bin/svmsim.js', 'gen', 'pingpong', '-n', '8000', '--size', '64M', '-o', trace]).status,
    ).toBe(0);
    const grid = ['--kernel', '6.15,6.18', '--vram', '16M,16G', '--format', 'csv'];
    const workers = spawnSync('node', ['bin/svmsim.js', 'compare', trace, ...grid, '--jobs', '3'], {
      encoding: 'utf8',
    });
    const one = spawnSync('node', ['bin/svmsim.js', 'compare', trace, ...grid, '--jobs', '1'], { encoding: 'utf8' });
    const piped = spawnSync('bash', ['-c', `cat '${trace}' | node bin/svmsim.js compare - ${grid.join(' ')}`], {
      encoding: 'utf8',
    });
    expect(workers.status).toBe(0);
    expect(workers.stdout).toContain('svm_pagefault_count');
    expect(one.stdout).toBe(workers.stdout);
    expect(piped.stdout).toBe(workers.stdout);
    // Bad input found by a worker: exit 2 with file:line, as in-process.
    const bad = join(dir, 'bad.csv');
    spawnSync('bash', ['-c', `(cat '${trace}'; echo '99999999,gpu_reed,0x1000,') > '${bad}'`]);
    const failed = spawnSync('node', ['bin/svmsim.js', 'compare', bad, ...grid], { encoding: 'utf8' });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/bad\.csv:8003: field "op"/);
  });
});
