/**
 * Analysis commands: compare (one table for many kernels/platforms), diff (the CI gate),
 * thrashing detection, and the Perfetto timeline checked against the Trace Event format.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-analysis-'));

describe('svmsim compare', () => {
  test('kernels side by side; counters a version lacks are blank (golden)', async () => {
    const r = await runCli([
      'compare',
      'traces/igt/madvise-preffered-loc-atomic-gl.jsonl',
      '--kernel',
      '6.15,6.16,6.17,6.18',
    ]);
    expect(r.code).toBe(0);
    await expect(r.stdout).toMatchFileSnapshot('__golden__/compare-kernels.table.txt');
    const row = r.stdout.split('\n').find((l) => l.includes('svm_pagefault_count'))!;
    expect(
      row
        .split('│')
        .map((c) => c.trim())
        .slice(2, 6),
    ).toEqual(['', '2', '2', '3']);
  });

  test('VRAM sizes and knobs as a cartesian product, in markdown, csv and json', async () => {
    const md = await runCli([
      'compare',
      'traces/07-vram-pressure.json',
      '--vram',
      '4M,16G',
      '--set',
      'need64k=true,false',
      '--format',
      'markdown',
    ]);
    await expect(md.stdout).toMatchFileSnapshot('__golden__/compare-vram.md');
    expect(md.stdout.split('\n')[0]).toBe(
      '| metric | vram=4M need64k=true | vram=4M need64k=false | vram=16G need64k=true | vram=16G need64k=false |',
    );
    const csv = await runCli(['compare', 'traces/07-vram-pressure.json', '--vram', '4M,16G', '--format', 'csv']);
    expect(csv.stdout.split('\n')[0]).toBe('metric,vram=4M,vram=16G');
    expect(csv.stdout).toMatch(/^evictions,3,0$/m);
    const json = JSON.parse(
      (await runCli(['compare', 'traces/07-vram-pressure.json', '--kernel', '6.15,6.18', '--format', 'json'])).stdout,
    );
    expect(json.columns.map((c: { label: string }) => c.label)).toEqual(['6.15', '6.18']);
    expect(json.columns[0].counters.svm_pagefault_count).toBeNull();
    expect(json.columns[1].counters.svm_pagefault_count).toBe(5);
  });

  test('an unknown kernel (5.4) or platform knob (bogus) is a usage error (exit 2)', async () => {
    expect((await runCli(['compare', 'traces/07-vram-pressure.json', '--kernel', '5.4'])).code).toBe(2);
    expect((await runCli(['compare', 'traces/07-vram-pressure.json', '--set', 'bogus=1,2'])).code).toBe(2);
  });
});

describe('svmsim diff', () => {
  test('equal → exit 0; different → exit 1 with the changed decisions, their trace lines and the counters; bad input → 2', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(
      a,
      (await runCli(['replay', 'traces/07-vram-pressure.json', '--format', 'json', '--cost-model', 'zero'])).stdout,
    );
    writeFileSync(
      b,
      (
        await runCli([
          'replay',
          'traces/07-vram-pressure.json',
          '--format',
          'json',
          '--cost-model',
          'zero',
          '--vram',
          '16G',
        ])
      ).stdout,
    );
    expect((await runCli(['diff', a, a])).code).toBe(0);
    const d = await runCli(['diff', a, b]);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain('gt0 svm_cpu_copy_kb: 4,096 → 0 (-4,096)');
    expect(d.stdout).toContain('first divergence: event #5 (trace line 12) gpu_read');
    await expect(d.stdout.replaceAll(dir, '<tmp>')).toMatchFileSnapshot('__golden__/diff-vram.txt');
    const j = JSON.parse((await runCli(['diff', a, b, '--format', 'json'])).stdout);
    expect(j.equal).toBe(false);
    expect(j.events.first.seq).toBe(5);
    expect(j.events.groups.map((g: { firstSeq: number }) => g.firstSeq)).toEqual([5, 6]);
    writeFileSync(join(dir, 'junk.json'), '{"svmsim": 2}');
    const bad = await runCli(['diff', a, join(dir, 'junk.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/junk\.json:1: not a valid result: "svmsim"/);
  });
});

describe('thrashing detection', () => {
  test('a range that ping-pongs 3 round trips within the window is reported with its events', async () => {
    const lines = ['t,op,addr,size', '0,mmap,0x7f0000000000,2M'];
    let t = 0;
    for (let i = 0; i < 4; i++) {
      lines.push(`${(t += 10_000)},gpu_write,0x7f0000000000,`);
      lines.push(`${(t += 10_000)},cpu_read,0x7f0000000000,`);
    }
    const p = join(dir, 'pingpong.csv');
    writeFileSync(p, lines.join('\n') + '\n');
    const doc = JSON.parse((await runCli(['replay', p, '--format', 'json', '--no-events'])).stdout);
    expect(doc.thrashing).toEqual([
      {
        start: '0x7f0000000000',
        end: '0x7f0000200000',
        cycles: 3,
        bytes: 8 * 2 * 1024 * 1024,
        events: [1, 2, 3, 4, 5, 6, 7, 8],
      },
    ]);
    const slow = JSON.parse(
      (await runCli(['replay', p, '--format', 'json', '--no-events', '--thrash-window', '5us'])).stdout,
    );
    expect(slow.thrashing).toEqual([]);
    const table = await runCli(['replay', p, '--summary']);
    expect(table.stdout).toMatch(/Thrashing \(1 range\)\n {2}\[0x7f0000000000, 0x7f0000200000\) 2M: 3 round trips/);
    const cmp = await runCli(['compare', p, '--thrash-threshold', '4']);
    expect(cmp.stdout).toMatch(/thrashing ranges\s+│\s+0/);
  });
});

describe('Perfetto timeline (Chrome Trace Event format)', () => {
  const traces = readdirSync('traces', { recursive: true })
    .map(String)
    .filter((f) => /\.(json|jsonl|csv)$/.test(f) && statSync(join('traces', f)).isFile())
    .map((f) => join('traces', f));

  let nested = 0;
  test.each(traces)(
    '%s: every event has ph, ts, pid, tid; slices nest; time never goes back within a track',
    async (f) => {
      const r = await runCli(['replay', f, '--format', 'perfetto']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(Array.isArray(doc.traceEvents)).toBe(true);
      const lastTs = new Map<number, number>();
      const stacks = new Map<number, number[]>();
      for (const e of doc.traceEvents) {
        expect(typeof e.ph).toBe('string');
        expect(typeof e.ts).toBe('number');
        expect(typeof e.pid).toBe('number');
        expect(typeof e.tid).toBe('number');
        if (e.ph === 'M') continue;
        expect(e.ts).toBeGreaterThanOrEqual(lastTs.get(e.tid) ?? Number.NEGATIVE_INFINITY);
        lastTs.set(e.tid, e.ts);
        if (e.ph === 'X') {
          expect(e.dur).toBeGreaterThanOrEqual(0);
          const stack = stacks.get(e.tid) ?? [];
          // Parents that ended by this slice's start are closed; the slice must end inside the
          // innermost one still open.
          while (stack.length && stack[stack.length - 1] <= e.ts) stack.pop();
          if (stack.length) {
            expect(e.ts + e.dur).toBeLessThanOrEqual(stack[stack.length - 1]);
            nested++;
          }
          stack.push(e.ts + e.dur);
          stacks.set(e.tid, stack);
        }
      }
    },
  );

  test('the nesting check above ran: slices inside other slices were found', () => {
    expect(nested).toBeGreaterThan(0);
  });

  test('golden timeline of the atomic-timeslice trace', async () => {
    const r = await runCli(['replay', 'traces/04-atomic-timeslice.json', '--format', 'perfetto']);
    await expect(JSON.stringify(JSON.parse(r.stdout), null, 1)).toMatchFileSnapshot(
      '__golden__/04-atomic-timeslice.perfetto.json',
    );
  });
});
