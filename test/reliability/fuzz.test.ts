/**
 * Mutation fuzzer over the example traces, each in all three encodings (JSON document, JSONL,
 * CSV): truncate, flip bytes, drop and duplicate fields, swap CSV columns, junk lines, and the
 * hostile inputs of issue 15 (BOMs, deep nesting, keys given twice, prototype names, long values,
 * control bytes, sizes the model cannot hold, CR-only line ends). Every mutant must either replay
 * (exit 0) or be refused as bad input (exit 2) with a `file:line` location and no stack trace —
 * never crash, hang or exit 3. Mutants go through replay, check and compare, from files (the
 * streaming and byte-level readers) and from stdin.
 *
 * Seeds: a fixed list (the same mutants every run) plus one random seed per run, printed so a
 * failure can be reproduced: `SVMSIM_FUZZ_SEED=<seed> npx vitest run test/reliability/fuzz.test.ts`
 * runs that seed alone. Mutants per seed: SVMSIM_FUZZ_CASES (default 2,000; 5 seeds = 10,000).
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { prng } from '../../src/gen/generate.js';
import { runCli } from '../cli-harness.js';
import { encodings, traceFiles } from '../encodings.js';

const PER_SEED = Number(process.env.SVMSIM_FUZZ_CASES ?? 2000);
// 694560050: a control character inside a key of a json result made diff exit 3 (fixed in JsonResult.nextKey).
const FIXED_SEEDS = [20261124, 15, 4242, 777, 694560050];
const ONLY = process.env.SVMSIM_FUZZ_SEED;
const RANDOM_SEED = ONLY !== undefined ? Number(ONLY) : randomInt(1, 2 ** 31);
const SEEDS = ONLY !== undefined ? [RANDOM_SEED] : [...FIXED_SEEDS, RANDOM_SEED];

type Mutation = (text: string, rnd: () => number) => string;
const pick = <T>(a: readonly T[], rnd: () => number) => a[Math.floor(rnd() * a.length)];
const lineOf = (t: string, rnd: () => number, f: (l: string) => string) => {
  const lines = t.split('\n');
  const i = Math.floor(rnd() * lines.length);
  lines[i] = f(lines[i]);
  return lines.join('\n');
};

const MUTATIONS: Record<string, Mutation> = {
  truncate: (t, r) => t.slice(0, Math.floor(r() * t.length)),
  flipBytes: (t, r) => {
    const a = [...t];
    for (let i = 0; i < 1 + Math.floor(r() * 4); i++)
      a[Math.floor(r() * a.length)] = String.fromCharCode(Math.floor(r() * 256));
    return a.join('');
  },
  dropField: (t, r) => lineOf(t, r, (l) => l.replace(/"[a-z_]+":("[^"]*"|[0-9]+),?/, '').replace(/,[^,]*$/, ',')),
  duplicateField: (t, r) =>
    lineOf(t, r, (l) => l.replace(/\{("[a-z_]+":("[^"]*"|[0-9]+))/, '{$1,$1').replace(/^([^,]*),/, '$1,$1,')),
  swapColumns: (t, r) => {
    const lines = t.split('\n');
    const h = lines.findIndex((l) => /^[a-z_]+(,[a-z_]+)+$/.test(l));
    if (h < 0) return t;
    const cols = lines[h].split(',');
    const a = Math.floor(r() * cols.length);
    const b = Math.floor(r() * cols.length);
    [cols[a], cols[b]] = [cols[b], cols[a]];
    lines[h] = cols.join(',');
    return lines.join('\n');
  },
  junkLine: (t, r) => {
    const lines = t.split('\n');
    const junk = [
      '{',
      '}',
      ',,,',
      '{"op":1}',
      'ÿÿÿ',
      '\u0000\u0001',
      '[]',
      'null',
      '"x"',
      '0x',
      '{"svmsim":2}',
      '#! platform vram=1G',
      '#! platform hz=7',
      '{"svmsim":1,"platform":{"vram":"1G","vram":"2G"}}',
    ];
    lines.splice(Math.floor(r() * lines.length), 0, pick(junk, r));
    return lines.join('\n');
  },
  deleteLine: (t, r) => {
    const lines = t.split('\n');
    lines.splice(Math.floor(r() * lines.length), 1);
    return lines.join('\n');
  },
  bigNumbers: (t, r) =>
    t.replace(
      /0x[0-9a-f]+/,
      pick(
        [
          '0xffffffffffffffffff',
          '-0x10',
          '0x',
          '1e99',
          '18446744073709551616',
          '0.5',
          '0xfffffffffe000000',
          '9'.repeat(5000),
        ],
        r,
      ),
    ),
  // issue 15
  bom: (t) => '\ufeff' + t,
  crOnly: (t) => t.replace(/\n/g, '\r'),
  deepNesting: (t, r) => {
    const d = 1000 + Math.floor(r() * 20000);
    return t.replace(/"0x[0-9a-f]+"|0x[0-9a-f]+/, `${'['.repeat(d)}${']'.repeat(d)}`);
  },
  protoKeys: (t, r) => {
    const k = pick(['__proto__', 'constructor', 'valueOf', 'toString', 'hasOwnProperty'], r);
    return t
      .replace(/"platform"\s*:\s*\{/, `"platform":{"${k}":1,`)
      .replace(/^#! platform/m, `#! platform ${k}=1`)
      .replace(/\{"op"/, `{"${k}":{},"op"`);
  },
  knobTwice: (t, r) =>
    t
      .replace(/"platform"\s*:\s*\{/, `"platform":{"vram":"${pick(['1G', '4097', '1.5K'], r)}","vram_capacity":"2G",`)
      .replace(/^#! platform/m, '#! platform vram=1G\n#! platform vram=2G'),
  hugeSize: (t, r) =>
    t.replace(
      /("size"\s*:\s*"?|,)(0x[0-9a-f]+|[0-9]+[KMG]?)/,
      `$1${pick(['128T', '0x8000000000000000', '64G', '0x1000000001', '1T'], r)}`,
    ),
  controlBytes: (t, r) => lineOf(t, r, (l) => l + '\u0007\u001b[2J'.repeat(1 + Math.floor(r() * 3))),
  longValue: (t, r) =>
    lineOf(t, r, (l) =>
      l.replace(/"op"/, `"comment":"${'x'.repeat(20000)}","op"`).replace(/,([a-z_]+),/, `,$1${'y'.repeat(20000)},`),
    ),
};

const COMMANDS: { weight: number; argv: (path: string, fmt: string) => string[] }[] = [
  { weight: 0.8, argv: (p, f) => ['replay', p, '--input-format', f, '--format', 'debugfs'] },
  { weight: 0.12, argv: (p, f) => ['check', p, '--input-format', f] },
  { weight: 0.08, argv: (p, f) => ['compare', p, '--input-format', f, '-k', '6.17,6.18', '--format', 'csv'] },
];

describe('mutation fuzzer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-fuzz-'));
  // Every example trace in all three encodings.
  const corpus = traceFiles('traces').flatMap((f) =>
    Object.entries(encodings(readFileSync(f, 'utf8'), f)).map(([fmt, text]) => ({ f, fmt, text })),
  );
  const names = Object.keys(MUTATIONS);
  console.log(
    `fuzz: random seed ${RANDOM_SEED} (reproduce: SVMSIM_FUZZ_SEED=${RANDOM_SEED} npx vitest run test/reliability/fuzz.test.ts)`,
  );

  for (const seed of SEEDS) {
    test(`seed ${seed}: ${PER_SEED} mutants over ${corpus.length} traces (3 encodings): exit 0, or exit 2 with file:line and no stack`, async () => {
      const rnd = prng(seed);
      const tally = { ok: 0, bad: 0, json: 0, jsonl: 0, csv: 0 };
      for (let i = 0; i < PER_SEED; i++) {
        // Encodings in turn, so each gets a third of the mutants.
        const fmt = ['json', 'jsonl', 'csv'][i % 3];
        const { text } = pick(
          corpus.filter((c) => c.fmt === fmt),
          rnd,
        );
        const m = pick(names, rnd);
        const mutant = MUTATIONS[m](text, rnd);
        const viaFile = rnd() < 0.5;
        const path = viaFile ? join(dir, `m${i % 16}.${fmt}`) : '-';
        if (viaFile) writeFileSync(path, mutant);
        let x = rnd();
        const cmd = COMMANDS.find((c) => (x -= c.weight) < 0) ?? COMMANDS[0];
        const argv = cmd.argv(path, fmt);
        const r = await runCli(argv, { stdin: mutant });
        const where = `seed ${seed} case ${i} (${m} on ${fmt}${viaFile ? ', file' : ', stdin'}, ${argv[0]})`;
        expect([0, 2], `${where}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr, where).not.toMatch(/\n\s+at |internal error/);
        expect(r.stderr.length, where).toBeLessThan(2000);
        if (r.code === 2) {
          const located = viaFile ? /^(svmsim: )?\/.+:\d+(:\d+)?: /m : /^(svmsim: )?<stdin>:\d+(:\d+)?: /m;
          expect(argv[0] === 'check' ? r.stdout + r.stderr : r.stderr, where).toMatch(located);
          tally.bad++;
        } else tally.ok++;
        tally[fmt as 'json']++;
      }
      console.log(
        `fuzz seed ${seed}: ${PER_SEED} cases (json ${tally.json}, jsonl ${tally.jsonl}, csv ${tally.csv}), ${tally.ok} ran, ${tally.bad} refused with a location`,
      );
    }, 600_000);
  }
});

/**
 * The result readers of `svmsim diff` (JSON document and JSON lines) under the same mutations:
 * every mutant of a result, diffed against the intact result, must give a verdict (exit 0 or 1)
 * or be refused as bad input (exit 2) with a `file:line` location — never a stack trace or exit 3.
 * Mutants per seed: SVMSIM_FUZZ_RESULT_CASES (default 400; 5 seeds = 2,000).
 */
const RESULT_PER_SEED = Number(process.env.SVMSIM_FUZZ_RESULT_CASES ?? 400);
const RESULT_MUTATIONS = [
  'truncate',
  'flipBytes',
  'dropField',
  'duplicateField',
  'junkLine',
  'deleteLine',
  'bigNumbers',
  'bom',
  'crOnly',
  'deepNesting',
  'protoKeys',
  'controlBytes',
  'longValue',
] as const;

describe('mutation fuzzer: diff result readers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-fuzz-res-'));
  const sources = [
    'traces/02-cpu-gpu-pingpong.json',
    'traces/07-vram-pressure.json',
    'traces/15-two-process-vram.jsonl',
    'traces/igt/partial-munmap-cpu-fault.jsonl',
  ];
  const results: { fmt: 'json' | 'jsonl'; path: string; text: string }[] = [];

  test('the intact results to mutate: each source replays to json and jsonl (exit 0)', async () => {
    for (const [i, src] of sources.entries()) {
      for (const fmt of ['json', 'jsonl'] as const) {
        const r = await runCli(['replay', src, '--format', fmt]);
        expect(r.code, r.stderr).toBe(0);
        const path = join(dir, `orig${i}.${fmt}`);
        writeFileSync(path, r.stdout);
        results.push({ fmt, path, text: r.stdout });
      }
    }
  });

  for (const seed of SEEDS) {
    test(`seed ${seed}: ${RESULT_PER_SEED} mutated results (json and jsonl) through diff: exit 0/1, or exit 2 with file:line and no stack`, async () => {
      const rnd = prng(seed ^ 0x5eed);
      const tally = { verdict: 0, bad: 0 };
      for (let i = 0; i < RESULT_PER_SEED; i++) {
        const orig = results[i % results.length];
        const m = pick(RESULT_MUTATIONS, rnd);
        const mutant = MUTATIONS[m](orig.text, rnd);
        const path = join(dir, `m${i % 8}.${orig.fmt}`);
        writeFileSync(path, mutant);
        const argv = rnd() < 0.5 ? ['diff', path, orig.path] : ['diff', orig.path, path];
        const r = await runCli(argv);
        const where = `seed ${seed} case ${i} (${m} on a ${orig.fmt} result)`;
        expect([0, 1, 2], `${where}: ${r.stderr}`).toContain(r.code);
        expect(r.stderr, where).not.toMatch(/\n\s+at |internal error/);
        expect(r.stderr.length, where).toBeLessThan(2000);
        if (r.code === 2) {
          expect(r.stderr, where).toMatch(/^(svmsim[^:]*: )?\/.+:\d+(:\d+)?: /m);
          tally.bad++;
        } else tally.verdict++;
      }
      console.log(
        `fuzz (diff results) seed ${seed}: ${RESULT_PER_SEED} cases, ${tally.verdict} verdicts, ${tally.bad} refused with a location`,
      );
    }, 600_000);
  }
});
