/**
 * The three kinds of failure and the process edges: internal errors exit 3 with the event and
 * the invariant; a closed pipe ends quietly; --output never leaves a half-written file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { describeFailure, EXIT_BAD_INPUT, EXIT_INTERNAL, sourceMappedStack } from '../../src/cli/errors.js';
import { ModelInvariantError } from '../../src/core/invariant.js';
import { TraceInputError } from '../../src/trace/index.js';

describe('exit codes', () => {
  test('a broken model invariant is exit 3, "internal error", with the event index and the invariant', () => {
    const e = new ModelInvariantError('VRAM used 3 pages != sum of live BOs 2');
    e.seq = 41;
    const f = describeFailure(e);
    expect(f.code).toBe(EXIT_INTERNAL);
    expect(f.message).toMatch(/internal error at event #41: model invariant broken: VRAM used 3 pages/);
  });

  test('bad input is exit 2 with file:line; unexpected exceptions are internal errors', () => {
    expect(describeFailure(new TraceInputError('t.csv', 7, 'expected a size', 'size'))).toEqual({
      code: EXIT_BAD_INPUT,
      message: 'svmsim: t.csv:7: field "size": expected a size',
    });
    expect(describeFailure(new TypeError('boom')).code).toBe(EXIT_INTERNAL);
    const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: 'secret.csv' });
    expect(describeFailure(eacces)).toEqual({ code: EXIT_BAD_INPUT, message: 'svmsim: secret.csv: permission denied' });
  });
});

describe('process edges', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-edges-'));
  const big = join(dir, 'big.csv');
  const rows = ['t,op,addr,size', '0,mmap,0x7f0000000000,0x40000000'];
  for (let i = 0; i < 200000; i++) rows.push(`${i},gpu_read,0x${(0x7f0000000000 + (i % 262144) * 4096).toString(16)},`);
  writeFileSync(big, rows.join('\n') + '\n');

  test('a closed pipe (svmsim replay big.csv | head) exits quietly', async () => {
    const child = spawn('node', ['bin/svmsim.js', 'replay', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let got = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 10000) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  }, 60_000);

  test('--output replaces an existing file only with a complete result', () => {
    const out = join(dir, 'result.json');
    writeFileSync(out, 'previous result\n');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 't,op,addr\n0,cpu_read,0x1000\n1,cpu_read,nope\n');
    const r = spawnSync('node', ['bin/svmsim.js', 'replay', bad, '--format', 'json', '-o', out], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('previous result\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // the temporary file is gone too
    const ok = spawnSync(
      'node',
      ['bin/svmsim.js', 'replay', 'traces/01-first-touch-2m.json', '--format', 'json', '-o', out],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).svmsim).toBe(1);
  });

  test('bad input found before 4 MiB of output leaves stdout empty, in every format', () => {
    const bad = join(dir, 'late-bad.csv');
    writeFileSync(
      bad,
      't,op,addr,size\n0,mmap,0x7f0000000000,4M\n1,gpu_read,0x7f0000000000,\n2,cpu_read,0x7f0000000000,0\n',
    );
    for (const format of ['table', 'json', 'debugfs', 'perfetto']) {
      const r = spawnSync('node', ['bin/svmsim.js', 'replay', bad, '--format', format], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/late-bad\.csv:4: field "size": .* greater than 0, found "0"/);
    }
  });

  test('--check-invariants passes on every example trace', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        'for f in traces/*.json* traces/*.csv traces/*/*.jsonl; do node bin/svmsim.js replay "$f" --check-invariants --format debugfs >/dev/null || exit 1; done',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});

describe('source maps: an internal error names the src/ lines', () => {
  test('frames in dist/*.js get their src/*.ts place from the linked map (sourceMappedStack)', () => {
    const file = readdirSync('dist').find(
      (f) => f.endsWith('.js') && readFileSync(join('dist', f), 'utf8').includes('function sourceMappedStack('),
    );
    expect(file).toBeDefined();
    const lines = readFileSync(join('dist', file!), 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('function sourceMappedStack('));
    const col = lines[line]!.indexOf('sourceMappedStack');
    const url = pathToFileURL(join(process.cwd(), 'dist', file!)).href;
    const stack = `TypeError: boom\n    at sourceMappedStack (${url}:${line + 1}:${col + 1})\n    at node:internal/x:1:1`;
    const mapped = sourceMappedStack(stack);
    expect(mapped).toMatch(
      new RegExp(`${file!.replace(/\./g, '\\.')}:${line + 1}:${col + 1} \\[src/cli/errors\\.ts:\\d+:\\d+\\]`),
    );
    expect(mapped).toContain('at node:internal/x:1:1');
    // The exit-3 message carries the mapped stack.
    const e = new TypeError('boom');
    e.stack = stack;
    expect(describeFailure(e).message).toContain('[src/cli/errors.ts:');
  });
});
