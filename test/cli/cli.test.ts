/**
 * The command line: formats, options, exit codes (0 ok, 2 bad input, 3 internal), determinism.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { statNames } from '../../src/core/xe-gt-stats.js';
import { runCli } from '../cli-harness.js';

const T1 = 'traces/01-first-touch-2m.json';

/** A JSON result without its "trace" part (name and sha256 of the input). */
const noTrace = (json: string) => json.replace(/\n {2}"trace": \{[^}]*\},/, '');

describe('svmsim replay', () => {
  test('stdin streams (read past the 64 KiB sniffing head) and gives the same result as the file, in every encoding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-stdin-'));
    const csv = join(dir, 'big.csv');
    const rows = ['# piped trace', 't,op,addr,size', '0,mmap,0x7f0000000000,0x40000000'];
    for (let i = 0; i < 6000; i++)
      rows.push(
        `${i + 1},${i % 3 === 0 ? 'cpu_write' : 'gpu_read'},0x${(0x7f0000000000 + ((i * 7919) % 262144) * 4096).toString(16)},`,
      );
    writeFileSync(csv, rows.join('\r\n') + '\r\n');
    const jsonl = join(dir, 'big.jsonl');
    writeFileSync(
      jsonl,
      rows
        .slice(2)
        .map((r) => {
          const [t, op, addr, size] = r.split(',');
          return JSON.stringify(size ? { t: Number(t), op, addr, size } : { t: Number(t), op, addr });
        })
        .join('\n'),
    );
    for (const f of [csv, jsonl, 'traces/01-first-touch-2m.json']) {
      const fromFile = spawnSync('node', ['bin/svmsim.js', 'replay', f, '--format', 'json', '--no-events'], {
        encoding: 'utf8',
      });
      const fromPipe = spawnSync('bash', ['-c', `cat '${f}' | node bin/svmsim.js replay - --format json --no-events`], {
        encoding: 'utf8',
      });
      expect(fromPipe.status).toBe(0);
      // The trace's name and sha256 differ (a pipe is not hashed before the header goes out).
      expect(noTrace(fromPipe.stdout)).toBe(noTrace(fromFile.stdout));
    }
    expect(readFileSync(csv).length).toBeGreaterThan(65536);
    const bad = spawnSync(
      'bash',
      ['-c', `(cat '${csv}'; printf '9999999,gpu_reed,0x1000,\\n') | node bin/svmsim.js replay - --format debugfs`],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/<stdin>:6004: field "op"/);
  }, 60_000);

  test('a trace with more ranges than the table shows: first 1000 rows, the rest counted, composition line (was a cli-table3 stack overflow at ~1M)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-many-'));
    const trace = join(dir, 'many.csv');
    const rows = ['t,op,addr,size', '0,mmap,0x7f0000000000,0x100000000'];
    for (let i = 0; i < 1200; i++) rows.push(`${i + 1},gpu_read,0x${(0x7f0000000000 + i * 0x200000).toString(16)},`);
    writeFileSync(trace, rows.join('\n') + '\n');
    const r = await runCli(['replay', trace, '--summary']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Ranges (1200)');
    expect(r.stdout.match(/^│ \[0x/gm)?.length).toBe(1000);
    expect(r.stdout).toContain('... 200 more ranges (the table shows the first 1000; --format json lists all)');
    expect(r.stdout).toContain('Ranges by size: 1200 x 2M; by location: 1200 vram; valid: 1200');
    const j = await runCli(['replay', trace, '--format', 'json', '--no-events']);
    expect(JSON.parse(j.stdout).ranges).toHaveLength(1200);
  });

  test('debugfs prints exactly the name: value lines of gt0/stats in kernel order', async () => {
    const r = await runCli(['replay', T1, '--format', 'debugfs']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(': ')[0])).toEqual([...statNames('6.18')]);
    expect(lines).toContain('svm_pagefault_count: 2');
    expect(lines).toContain('svm_device_copy_kb: 2048');
    for (const l of lines) expect(l).toMatch(/^[a-zA-Z0-9_]+: \d+$/);
  });

  test('--gt 1 prints the media GT (all 0 here: no fault counters, nothing invalidated); --kernel 6.16 prints its 4 counters; --gt 1 without a media GT is exit 2', async () => {
    const g1 = await runCli(['replay', T1, '--format', 'debugfs', '--gt', '1']);
    expect(g1.stdout).toBe(
      statNames('6.18')
        .map((n) => `${n}: 0\n`)
        .join(''),
    );
    const k = await runCli(['replay', T1, '--format', 'debugfs', '--kernel', '6.16']);
    expect(k.stdout).toBe('svm_pagefault_count: 2\ntlb_inval_count: 0\nvma_pagefault_count: 0\nvma_pagefault_kb: 0\n');
    const no = await runCli(['replay', T1, '--format', 'debugfs', '--gt', '1', '--no-media-gt']);
    expect(no.code).toBe(2);
    expect(no.stderr).toBe('svmsim: --gt 1: this platform has gt0 only\n');
  });

  test('json has the documented top-level keys in a stable order and is byte-identical across runs', async () => {
    const a = await runCli(['replay', T1, '--format', 'json']);
    const b = await runCli(['replay', T1, '--format', 'json']);
    expect(a.stdout).toBe(b.stdout);
    const doc = JSON.parse(a.stdout);
    expect(Object.keys(doc)).toEqual([
      'svmsim',
      'kernel',
      'trace',
      'platform',
      'events',
      'ranges',
      'vram',
      'stats',
      'metrics',
      'thrashing',
    ]);
    expect(Object.keys(doc.events[1]).slice(0, 5)).toEqual(['seq', 'line', 't', 'op', 'addr']);
    expect(doc.ranges[0]).toEqual({
      start: '0x7f0000000000',
      end: '0x7f0000200000',
      size: '0x200000',
      location: 'vram',
      valid: true,
    });
    expect(doc.vram).toEqual({ capacity: 17179869184, used: 4194304 });
    expect(Object.keys(doc.stats)).toEqual(['gt0', 'gt1']);
    expect(Object.keys(doc.stats.gt0)).toEqual([...statNames('6.18')]);
    const ne = await runCli(['replay', T1, '--format', 'json', '--no-events']);
    expect(Object.keys(JSON.parse(ne.stdout))).toEqual([
      'svmsim',
      'kernel',
      'trace',
      'platform',
      'ranges',
      'vram',
      'stats',
      'metrics',
      'thrashing',
    ]);
  });

  test('the same trace in JSON, JSONL and CSV replays to identical results', async () => {
    const csv =
      't,op,addr,size\n0,mmap,0x7f0000000000,4M\n1us,cpu_write,0x7f0000000000,2M\n2us,gpu_read,0x7f0000000000,\n3us,cpu_read,0x7f0000000000,\n';
    const jsonl =
      '{"t":0,"op":"mmap","addr":"0x7f0000000000","size":"4M"}\n{"t":"1us","op":"cpu_write","addr":"0x7f0000000000","size":"2M"}\n{"t":"2us","op":"gpu_read","addr":"0x7f0000000000"}\n{"t":"3us","op":"cpu_read","addr":"0x7f0000000000"}\n';
    const json = JSON.stringify(
      {
        svmsim: 1,
        events: jsonl
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      },
      null,
      1,
    );
    const out = await Promise.all(
      [
        [csv, 'csv'],
        [jsonl, 'jsonl'],
        [json, 'json'],
      ].map(([text, f]) =>
        runCli(['replay', '-', '--input-format', f, '--format', 'json', '--no-events'], { stdin: text }),
      ),
    );
    expect(out[0].code).toBe(0);
    expect(noTrace(out[1].stdout)).toBe(noTrace(out[0].stdout));
    expect(noTrace(out[2].stdout)).toBe(noTrace(out[0].stdout));
  });

  test('colour only when asked for by the terminal, never in files', async () => {
    const plain = await runCli(['replay', T1]);
    expect(plain.stdout).not.toContain('\x1b[');
    const tty = await runCli(['replay', T1], { color: 1 });
    expect(tty.stdout).toContain('\x1b[');
    const off = await runCli(['replay', T1, '--no-color'], { color: 1 });
    expect(off.stdout).not.toContain('\x1b[');
    const file = await runCli(['replay', T1, '-o', 'out.txt'], { color: 1 });
    expect(file.stdout).toBe('');
    expect(file.files.get('out.txt')).toBe(plain.stdout);
  });

  test('--set and dedicated flags override the trace header', async () => {
    const r = await runCli([
      'replay',
      'traces/07-vram-pressure.json',
      '--format',
      'json',
      '--no-events',
      '--vram',
      '16G',
      '--set',
      'gc=lazy',
      '--set',
      'cost_model=zero',
    ]);
    const doc = JSON.parse(r.stdout);
    expect(doc.platform.vram).toBe(17179869184);
    expect(doc.platform.gc).toBe('lazy');
    expect(doc.stats.gt0.svm_2M_migrate_us).toBe(0);
  });

  test('modelled kernel errors are outcomes: exit 0', async () => {
    const r = await runCli(['replay', 'traces/14-errors.json', '--format', 'json']);
    expect(r.code).toBe(0);
    const errs = JSON.parse(r.stdout)
      .events.filter((e: { outcome: string }) => e.outcome === 'error')
      .map((e: { errno: string }) => e.errno);
    expect(errs).toEqual(['ENOENT', 'EINVAL', 'SIGSEGV', 'EINVAL', 'EINVAL', 'EINVAL']);
  });
});

describe('exit codes for bad input (2), never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-'));
  const cases: [string, string[], RegExp][] = [
    [
      'a bad event',
      ['replay', write('bad.csv', 'op,addr\ncpu_read,0x1000\ngpu_read,nope\n')],
      /bad\.csv:3: field "addr": expected an address/,
    ],
    ['a missing file', ['replay', join(dir, 'nope.json')], /nope\.json: no such file/],
    ['a directory', ['replay', dir], /is a directory/],
    ['an unknown option', ['replay', T1, '--frobnicate'], /unknown option/],
    ['a bad knob', ['replay', T1, '--set', 'vram=lots'], /--set vram=lots: field "vram": expected a size/],
    ['an unknown knob', ['replay', T1, '--set', 'colour=blue'], /unknown platform knob "colour"/],
    ['a bad kernel', ['replay', T1, '--kernel', '5.4'], /invalid/],
  ];
  function write(name: string, text: string): string {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  }
  test.each(cases)('%s', async (_n, argv, msg) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the installed command', () => {
  test('bin/svmsim.js runs the bundle; exit codes reach the shell', () => {
    execFileSync('node', ['scripts/build.mjs']);
    const ok = spawnSync('node', ['bin/svmsim.js', 'replay', T1, '--format', 'debugfs'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout.split('\n')[0]).toBe('svm_pagefault_count: 2');
    const bad = spawnSync('node', ['bin/svmsim.js', 'replay', 'no-such.csv'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no-such\.csv: no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-out-'));
    const out = join(dir, 'r.json');
    const w = spawnSync('node', ['bin/svmsim.js', 'replay', T1, '--format', 'json', '-o', out], { encoding: 'utf8' });
    expect(w.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).svmsim).toBe(1);
  });

  test('the bundle loads the zod schemas and the decompressors (dist/schema.cjs, dist/decompress.cjs) at their first use (scripts/build.mjs LAZY): rows, headers, flags and compressed input that need them get them', () => {
    // (the bundle built by the test above)
    const dir = mkdtempSync(join(tmpdir(), 'svmsim-lazy-'));
    const run = (args: string[]) => spawnSync('node', ['bin/svmsim.js', ...args], { encoding: 'utf8' });
    const clean = join(dir, 'clean.csv');
    writeFileSync(clean, 't,op,addr,size\n0,mmap,0x7f0000000000,0x200000\n5,gpu_read,0x7f0000000000,\n');
    const base = run(['replay', clean, '--format', 'debugfs']);
    expect(base.status).toBe(0);
    expect(base.stdout).toMatch(/^svm_pagefault_count: 1$/m);
    // a row the fast path leaves to the schema path (a size with a unit): the same result
    const slow = join(dir, 'slow.csv');
    writeFileSync(slow, 't,op,addr,size\n0,mmap,0x7f0000000000,2M\n5,gpu_read,0x7f0000000000,\n');
    expect(run(['replay', slow, '--format', 'debugfs'])).toMatchObject({ status: 0, stdout: base.stdout });
    // a bad row: exit 2 with file:line, worded by the schema
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 't,op,addr,size\n0,mmap,0x7f0000000000,0x200000\n5,gpu_reed,0x7f0000000000,\n');
    const b = run(['replay', bad, '--format', 'debugfs']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/bad\.csv:3: field "op": expected "op" to be one of .*found "gpu_reed"/);
    // a platform header line, and platform flags (--set, --kernel): parsed by the schema
    const header = join(dir, 'header.csv');
    writeFileSync(header, `#! platform vram=1G\n${readFileSync(clean, 'utf8')}`);
    const h = run(['replay', header, '--format', 'json', '--no-events']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/"vram": 1073741824,/);
    const flags = run(['replay', clean, '--format', 'json', '--no-events', '--set', 'vram=1G', '--kernel', '6.16']);
    expect(flags.status).toBe(0);
    expect(flags.stdout).toMatch(/"vram": 1073741824,/);
    expect(run(['replay', clean, '--set', 'vram=1.5Q']).status).toBe(2);
    // compressed input (gzip): decompressed on the fly
    const gz = join(dir, 'clean.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(clean)));
    expect(run(['replay', gz, '--format', 'debugfs'])).toMatchObject({ status: 0, stdout: base.stdout });
    const damaged = join(dir, 'damaged.csv.gz');
    writeFileSync(damaged, gzipSync(readFileSync(clean)).subarray(0, 30));
    const d = run(['replay', damaged, '--format', 'debugfs']);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/damaged\.csv\.gz: gzip data is damaged or truncated/);
    expect(run(['replay', 'test/fixtures/migrate.jsonl.zst', '--format', 'debugfs']).status).toBe(0);
    // the commands that load nothing of the trace layer still answer
    expect(run(['--version']).status).toBe(0);
    expect(run(['replay', '--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/--format/) });
  });
});

describe('svmsim check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-check-'));
  test('lists every error and the lint warnings with their lines; exit 2 with errors, 0 without', async () => {
    const p = join(dir, 'c.csv');
    writeFileSync(
      p,
      't,op,addr,size\n0,mmap,0x7f0000000000,2M\n1,gpu_read,0x7f0010000000,\n2,munmap,0x7e0000000000,4K\nx,cpu_read,0x1000,\n3,cpu_read,0x7f00001ff000,8K\n2,gpu_read,0x7f0000000000,\n4,xe_madvise,0x7f0000000000,2M\n',
    );
    const r = await runCli(['check', p, '-k', '6.17']);
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.replace(p, 'F'))).toEqual([
      'F:3: warning: gpu_read at 0x7f0010000000: no CPU mapping (the fault will fail with -ENOENT)',
      'F:4: warning: munmap of 0x7e0000000000: nothing is mapped there',
      'F:5: error: field "t": expected a time (integer ns, or a number with unit ns/us/ms/s such as 1.5ms), found "x"',
      'F:6: warning: cpu_read at 0x7f00001ff000: the access spans more than one mapping or runs past its end',
      'F:7: error: field "t": time goes backwards: 2ns after 3ns',
      'F:8: error: field "preferred": xe_madvise takes exactly one of "preferred" or "atomic"',
      'check: 4 events, 3 errors, 3 warnings (kernel 6.17)',
    ]);
    const one = await runCli(['check', p, '--max-errors', '1']);
    expect(one.stdout).toMatch(/check: \d+ events, 1 error,/);
    const ok = await runCli(['check', 'traces/14-errors.json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/warning: xe_prefetch: kernel lacks it \(added in 6.17\)/);
    const bad = join(dir, 'only-bad.csv');
    writeFileSync(bad, 't,op,addr\n0,cpu_read,zz\n');
    const b = await runCli(['check', bad]);
    expect(b.code).toBe(2);
    expect(b.stdout).toMatch(/only-bad\.csv:2: error: field "addr"/);
  });

  test('replay --max-errors 10 lists every bad line (3 here) with its place, then the count; exit 2', async () => {
    const p = join(dir, 'm.csv');
    writeFileSync(p, 't,op,addr\n0,cpu_read,zz\n1,cpu_read,0x1000\n2,cpu_read,yy\n3,gpu_reed,0x1000\n');
    const r = await runCli(['replay', p, '--max-errors', '10', '--format', 'debugfs']);
    expect(r.code).toBe(2);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .map((l) => l.replace(p, 'F')),
    ).toEqual([
      'svmsim: F:2: field "addr": expected an address (hex 0x..., or a JSON integer) below 2^64, found "zz"',
      'svmsim: F:4: field "addr": expected an address (hex 0x..., or a JSON integer) below 2^64, found "yy"',
      'svmsim: F:5: field "op": expected "op" to be one of mmap, munmap, mprotect, madvise, cpu_read, cpu_write, gpu_read, gpu_write, gpu_atomic, gpu_fault, xe_prefetch, xe_madvise, found "gpu_reed": did you mean gpu_read?',
      'svmsim: 3 problems in the trace',
    ]);
  });
});
