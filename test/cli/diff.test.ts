/**
 * svmsim diff: argument-by-argument comparison of two results, in json and jsonl, as streams;
 * grouped changes; robustness of the result readers (exit 2 naming what is missing).
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-diff-'));
let n = 0;
async function result(trace: string, args: string[], format: 'json' | 'jsonl' = 'jsonl'): Promise<string> {
  const r = await runCli(['replay', trace, '--format', format, '--cost-model', 'zero', ...args]);
  expect(r.stderr).toBe('');
  const p = join(dir, `r${n++}.${format}`);
  writeFileSync(p, r.stdout);
  return p;
}

type Ev = { seq: number; decisions: Record<string, unknown>[]; [k: string]: unknown };
const events = (p: string, text: string): Ev[] =>
  p.endsWith('.jsonl')
    ? text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((o) => 'seq' in o)
    : JSON.parse(text).events;

/** One knob changed per pair: trace and command-line arguments of the changed side. */
const PAIRS: [string, string[]][] = [
  ['traces/07-vram-pressure.json', ['--vram', '16G']],
  ['traces/07-vram-pressure.json', ['--set', 'vram_fail_errno=ENOSPC', '--vram', '2M']],
  ['traces/12-need64k.csv', ['--set', 'need64k=false']],
  ['traces/12-need64k.csv', ['--set', 'need64k_rule=le']],
  ['traces/04-atomic-timeslice.json', ['--atomic-timeslice-ms', '1']],
  ['traces/04-atomic-timeslice.json', ['--hz', '1000']],
  ['traces/03-sparse-4k.json', ['--igpu']],
  ['traces/06-munmap-gc.json', ['--set', 'gc=lazy']],
  ['traces/06-munmap-gc.json', ['--kernel', '6.16']],
  ['traces/02-cpu-gpu-pingpong.json', ['--kernel', '6.15']],
  ['traces/hmm/file_read.jsonl', ['--set', 'mirror_read_only=true']],
  ['traces/igt/madvise-preffered-loc-atomic-vram.jsonl', ['--set', 'device_atomics_on_smem=false']],
  ['traces/igt/partial-remap-no-cpu-fault.jsonl', ['--set', 'vma_merge=true']],
  ['traces/01-first-touch-2m.json', ['--notifier-size', '2M']],
];

describe('svmsim diff: results that differ in one knob', () => {
  for (const [trace, args] of PAIRS) {
    test(`${trace} ${args.join(' ')}: names the knob, the first divergence and every differing argument`, async () => {
      const a = await result(trace, []);
      const b = await result(trace, args);
      const r = await runCli(['diff', a, b, '--format', 'json']);
      expect(r.code).toBe(1);
      const d = JSON.parse(r.stdout);
      expect(d.notes.join('\n')).toMatch(/different (kernels|platforms)/);
      // The first divergence found by a plain comparison of the parsed records.
      const { readFileSync } = await import('node:fs');
      const ea = events(a, readFileSync(a, 'utf8'));
      const eb = events(b, readFileSync(b, 'utf8'));
      const first = ea.findIndex((e, i) => JSON.stringify(e) !== JSON.stringify(eb[i]));
      // every pair is chosen so that the knob changes an event record
      expect(first).toBeGreaterThanOrEqual(0);
      expect(d.events.differing).toBeGreaterThan(0);
      expect(d.events.first.seq).toBe(first);
      const paths: string[] = d.events.first.changes.map(
        (c: { kind: string; path?: string; decision?: { code: string } }) => c.path ?? `${c.kind} ${c.decision!.code}`,
      );
      const x = ea[first];
      const y = eb[first];
      for (const k of ['outcome', 'errno', 't_end']) if (x[k] !== y[k]) expect(paths).toContain(k);
      // Decisions at the same place with the same code: every differing argument is named.
      if (JSON.stringify(x.decisions.map((q) => q.code)) === JSON.stringify(y.decisions.map((q) => q.code))) {
        x.decisions.forEach((dx, i) => {
          const dy = y.decisions[i];
          for (const k of new Set([...Object.keys(dx), ...Object.keys(dy)])) {
            if (JSON.stringify(dx[k]) === JSON.stringify(dy[k])) continue;
            expect(paths.some((p) => p === `${String(dx.code)}.${k}` || p.startsWith(`${String(dx.code)}.${k}.`))).toBe(
              true,
            );
          }
        });
      } else expect(paths.length).toBeGreaterThan(0);
      const text = await runCli(['diff', a, b]);
      expect(text.stdout).toContain(`first divergence: event #${first}`);
      for (const p of paths.filter((q) => !q.includes(' '))) expect(text.stdout).toContain(`${p}:`);
    }, 60_000);
  }

  test('a changed argument is shown as code.field old → new and grouped (migrate_to_vram.reason, 6.18 → 6.17)', async () => {
    const a = await result('traces/07-vram-pressure.json', []);
    const b = await result('traces/07-vram-pressure.json', ['--vram', '6M', '--kernel', '6.17']);
    const d = await runCli(['diff', a, b, '--ignore', 'kernel']);
    expect(d.code).toBe(1);
    // 6.18 takes the preferred location from madvise (preferred_device); 6.17 migrates by its
    // default policy: the five migrating faults differ in that one argument
    expect(d.stdout).toContain('events: 5 events of 7 differ');
    expect(d.stdout).toContain('first divergence: event #2 (trace line 9) gpu_read 0x7f0000000000');
    expect(d.stdout).toContain('\n    migrate_to_vram.reason: preferred_device → default_policy\n');
    expect(d.stdout).toContain(
      '\n  5 events: migrate_to_vram.reason preferred_device → default_policy  (first #2 (trace line 9))\n',
    );
  });
});

describe('svmsim diff: same result', () => {
  test('a result and itself, json and jsonl of one replay: empty, exit 0 (property, random traces)', async () => {
    const ev = fc.oneof(
      fc.record({
        op: fc.constantFrom('cpu_read', 'cpu_write', 'gpu_read', 'gpu_write', 'gpu_atomic'),
        page: fc.integer({ min: 0, max: 1023 }),
        pages: fc.integer({ min: 1, max: 600 }),
      }),
      fc.record({
        op: fc.constant('munmap'),
        page: fc.integer({ min: 0, max: 1023 }),
        pages: fc.integer({ min: 1, max: 64 }),
      }),
      fc.record({ op: fc.constant('xe_prefetch'), page: fc.constantFrom(0, 512), pages: fc.constantFrom(16, 512) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(ev, { minLength: 1, maxLength: 40 }),
        fc.constantFrom('2M', '4M', '16G'),
        async (evs, vram) => {
          const B = 0x7f0000000000;
          const lines = [
            JSON.stringify({ svmsim: 1, platform: { vram } }),
            JSON.stringify({ op: 'mmap', addr: '0x' + B.toString(16), size: '4M' }),
          ];
          for (const e of evs)
            lines.push(
              JSON.stringify({ op: e.op, addr: '0x' + (B + e.page * 4096).toString(16), size: String(e.pages * 4096) }),
            );
          const t = join(dir, `p${n++}.jsonl`);
          writeFileSync(t, lines.join('\n') + '\n');
          const a = await result(t, [], 'jsonl');
          const j = await result(t, [], 'json');
          for (const [x, y] of [
            [a, a],
            [j, j],
            [a, j],
          ]) {
            const r = await runCli(['diff', x, y, '--format', 'json']);
            expect(r.stderr).toBe('');
            expect(r.code).toBe(0);
            const d = JSON.parse(r.stdout);
            expect(d.equal).toBe(true);
            expect(d.events.differing + d.stats.length + d.vram.length + d.ranges.changed.count).toBe(0);
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);
});

describe('svmsim diff: options and formats', () => {
  test('--ignore-us, --ignore FIELD, --max-shown, markdown and github', async () => {
    const a = await result('traces/07-vram-pressure.json', ['--cost-model', 'bmg']);
    const b = await result('traces/07-vram-pressure.json', ['--cost-model', 'zero']);
    // Only the cost model differs: with --ignore-us and the knob ignored the results agree.
    expect((await runCli(['diff', a, b])).code).toBe(1);
    expect((await runCli(['diff', a, b, '--ignore-us', '--ignore', 'cost_model'])).code).toBe(0);
    const c = await result('traces/07-vram-pressure.json', ['--vram', '16G']);
    const md = await runCli(['diff', b, c, '--format', 'markdown']);
    expect(md.stdout).toMatch(/^### svmsim diff/);
    expect(md.stdout).toContain('| events | what changed | first |');
    const gh = await runCli(['diff', b, c, '--format', 'github']);
    expect(gh.stdout).toMatch(/^::warning file=traces\/07-vram-pressure\.json::svmsim diff: different platforms/m);
    expect(gh.stdout).toMatch(
      /^::error file=traces\/07-vram-pressure\.json,line=12,title=svmsim diff%3A 1 event changed::event #5: - bo_evict/m,
    );
    const one = JSON.parse((await runCli(['diff', b, c, '--format', 'json', '--max-shown', '1'])).stdout);
    expect(one.events.groups).toHaveLength(1);
    expect(one.events.moreGroups).toBe(1);
    // Ignoring the decisions that differ leaves the outcome change of event #6 only.
    const ig = JSON.parse(
      (
        await runCli([
          'diff',
          b,
          c,
          '--format',
          'json',
          '--ignore',
          'bo_evict',
          'invalidate',
          'migrate_to_ram',
          'bo_free',
        ])
      ).stdout,
    );
    expect(ig.events.differing).toBe(1);
    expect(ig.events.first.seq).toBe(6);
  }, 60_000);

  test('different traces are stated up front (sha256)', async () => {
    const a = await result('traces/01-first-touch-2m.json', []);
    const b = await result('traces/02-cpu-gpu-pingpong.json', []);
    const r = await runCli(['diff', a, b]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[1]).toMatch(
      /^note: different traces: traces\/01-first-touch-2m\.json \(sha256 [0-9a-f]{12}\) → traces\/02-cpu-gpu-pingpong\.json/,
    );
  }, 30_000);
});

describe('svmsim diff: bad results are exit 2 naming what is wrong, never a stack trace', () => {
  const cases: [string, string, RegExp][] = [
    [
      'missing-parts.json',
      '{"svmsim":1,"platform":{},"ranges":[],"stats":{}}',
      /missing-parts\.json:1: not a valid result: "kernel" is missing; "vram", "metrics" missing/,
    ],
    [
      'null-platform.json',
      '{"svmsim":1,"kernel":"6.18","platform":null,"ranges":[],"vram":{"capacity":0,"used":0},"stats":{},"metrics":{}}',
      /"platform": expected an object, found null/,
    ],
    [
      'empty-event.json',
      '{"svmsim":1,"kernel":"6.18","platform":{},"events":[{}],"ranges":[],"vram":{"capacity":0,"used":0},"stats":{},"metrics":{}}',
      /"events\[\]\.seq" is missing; "events\[\]\.op" is missing; "events\[\]\.outcome" is missing; "events\[\]\.decisions" is missing/,
    ],
    [
      'empty-event.jsonl',
      '{"svmsim":1,"kernel":"6.18","platform":{}}\n{}\n',
      /empty-event\.jsonl:2: not a valid event record: "event\.seq" is missing/,
    ],
    ['no-end.jsonl', '{"svmsim":1,"kernel":"6.18","platform":{}}\n{"vram":{"capacity":0,"used":0}}\n', /no "end" line/],
    [
      'deep.json',
      '{"svmsim":1,"kernel":"6.18","platform":{"x":' + '['.repeat(100000) + ']'.repeat(100000) + '}}',
      /nested more than 64 levels deep/,
    ],
    // Identical event records are compared as bytes, not parsed: A against itself fails on the missing end line.
    [
      'deep.jsonl',
      '{"svmsim":1,"kernel":"6.18","platform":{}}\n{"seq":0,"x":' + '['.repeat(100000) + ']'.repeat(100000) + '}\n',
      /deep\.jsonl:2: nested more than 64 levels deep|no "end" line/,
    ],
    ['not-json.json', 'hello', /expected a result of `svmsim replay --format json` or `--format jsonl`/],
    ['empty.json', '', /empty file/],
    ['truncated.json', '{"svmsim":1,"kernel":"6.18","platform":{},"events":[', /the document ends early: truncated/],
  ];
  for (const [name, text, msg] of cases) {
    test(`${name} as A, as B and as both: exit 2 with its own message`, async () => {
      const good = await result('traces/01-first-touch-2m.json', []);
      const p = join(dir, name);
      writeFileSync(p, text);
      for (const args of [
        [p, good],
        [good, p],
        [p, p],
      ]) {
        const r = await runCli(['diff', ...args]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }, 30_000);
  }

  test('a result line longer than 64 MiB: exit 2, "a record longer than 64 MiB"', async () => {
    const p = join(dir, 'huge.jsonl');
    writeFileSync(p, '{"svmsim":1,"kernel":"' + 'x'.repeat(65 << 20) + '"}\n');
    const r = await runCli(['diff', p, p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a record longer than 64 MiB/);
  }, 60_000);
});
