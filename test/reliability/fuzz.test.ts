/**
 * Mutation fuzzer over the example traces: truncate, flip bytes, drop and duplicate fields, swap
 * CSV columns, insert junk lines. Every mutant must either replay (exit 0) or be refused as bad
 * input (exit 2) with a `file:line` location and no stack trace — never crash or hang.
 *
 * Case count: SVMSIM_FUZZ_CASES (default 2000).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { prng } from '../../src/gen/generate.js';
import { runCli } from '../cli-harness.js';

const CASES = Number(process.env.SVMSIM_FUZZ_CASES ?? 2000);

function traceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? traceFiles(p) : /\.(json|jsonl|csv)$/.test(f) ? [p] : [];
  });
}

type Mutation = (text: string, rnd: () => number) => string;
const pick = <T>(a: T[], rnd: () => number) => a[Math.floor(rnd() * a.length)];

const MUTATIONS: Record<string, Mutation> = {
  truncate: (t, r) => t.slice(0, Math.floor(r() * t.length)),
  flipBytes: (t, r) => {
    const a = [...t];
    for (let i = 0; i < 1 + Math.floor(r() * 4); i++) a[Math.floor(r() * a.length)] = String.fromCharCode(Math.floor(r() * 256));
    return a.join('');
  },
  dropField: (t, r) => {
    const lines = t.split('\n');
    const i = Math.floor(r() * lines.length);
    lines[i] = lines[i].replace(/"[a-z_]+":("[^"]*"|[0-9]+),?/, '').replace(/,[^,]*$/, ',');
    return lines.join('\n');
  },
  duplicateField: (t, r) => {
    const lines = t.split('\n');
    const i = Math.floor(r() * lines.length);
    lines[i] = lines[i].replace(/\{("[a-z_]+":("[^"]*"|[0-9]+))/, '{$1,$1').replace(/^([^,]*),/, '$1,$1,');
    return lines.join('\n');
  },
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
    lines.splice(Math.floor(r() * lines.length), 0, pick(['{', '}', ',,,', '{"op":1}', 'ÿÿÿ', '\u0000\u0001', '[]', 'null', '"x"', '0x', '{"svmsim":2}'], r));
    return lines.join('\n');
  },
  deleteLine: (t, r) => {
    const lines = t.split('\n');
    lines.splice(Math.floor(r() * lines.length), 1);
    return lines.join('\n');
  },
  bigNumbers: (t, r) => t.replace(/0x[0-9a-f]+/, pick(['0xffffffffffffffffff', '-0x10', '0x', '1e99', '18446744073709551616', '0.5'], r)),
};

describe('mutation fuzzer', () => {
  const files = traceFiles('traces');
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-fuzz-'));
  test(`${CASES} mutants of ${files.length} example traces: exit 0, or exit 2 with file:line and no stack`, async () => {
    const rnd = prng(20261124);
    const texts = files.map((f) => ({ f, text: readFileSync(f, 'utf8'), fmt: f.endsWith('.csv') ? 'csv' : f.endsWith('.jsonl') ? 'jsonl' : 'json' }));
    const names = Object.keys(MUTATIONS);
    const tally = { ok: 0, bad: 0 };
    for (let i = 0; i < CASES; i++) {
      const { text, fmt } = pick(texts, rnd);
      const m = pick(names, rnd);
      const mutant = MUTATIONS[m](text, rnd);
      // Half of the mutants go through a file, so the streaming (and byte-level CSV) readers are fuzzed too.
      const viaFile = rnd() < 0.5;
      const path = viaFile ? join(dir, `m${i % 16}.${fmt}`) : '-';
      if (viaFile) writeFileSync(path, mutant);
      const r = await runCli(['replay', path, '--input-format', fmt, '--format', 'debugfs'], { stdin: mutant });
      const where = `case ${i} (${m} on ${fmt}${viaFile ? ', file' : ''})`;
      expect([0, 2], where).toContain(r.code);
      expect(r.stderr, where).not.toMatch(/\n\s+at |internal error/);
      if (r.code === 2) {
        expect(r.stderr, where).toMatch(viaFile ? /^svmsim: \/.+:\d+(:\d+)?: / : /^svmsim: <stdin>:\d+(:\d+)?: /);
        tally.bad++;
      } else tally.ok++;
    }
    console.log(`fuzz: ${CASES} cases, ${tally.ok} replayed, ${tally.bad} refused with a location`);
  }, 300_000);
});
