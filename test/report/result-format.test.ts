/**
 * docs/result-format.md is generated from the code's registries; this test fails when it is
 * stale (regenerate with SVMSIM_UPDATE_DOCS=1). It also checks the registry against real output:
 * every decision a replay of traces/ emits has exactly the registry's fields.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DECISIONS, type FieldSpec } from '../../src/core/decisions.js';
import { resultFormatDoc, JSONL_LINES } from '../../src/report/result-format.js';
import { runCli } from '../cli-harness.js';

const DOC = 'docs/result-format.md';

function traceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) =>
      statSync(join(dir, f)).isDirectory()
        ? traceFiles(join(dir, f))
        : /\.(json|jsonl|csv)$/.test(f)
          ? [join(dir, f)]
          : [],
    );
}

describe('docs/result-format.md', () => {
  test('is up to date with the registries', () => {
    const want = resultFormatDoc();
    if (process.env.SVMSIM_UPDATE_DOCS) writeFileSync(DOC, want);
    expect(
      readFileSync(DOC, 'utf8'),
      `${DOC} is stale: run SVMSIM_UPDATE_DOCS=1 npx vitest run test/report/result-format.test.ts`,
    ).toBe(want);
  });

  test('every decision in the replays of traces/ has the registry fields; every JSONL line type is documented', async () => {
    const seen = new Set<string>();
    for (const file of traceFiles('traces')) {
      const r = await runCli(['replay', file, '--format', 'jsonl']);
      expect(r.code).toBe(0);
      for (const line of r.stdout.trim().split('\n')) {
        const o = JSON.parse(line) as Record<string, unknown>;
        expect(JSONL_LINES.map((l) => l.key)).toContain(Object.keys(o)[0]);
        for (const d of (o.decisions as { code: string }[] | undefined) ?? []) {
          const spec = DECISIONS[d.code as keyof typeof DECISIONS];
          expect(spec, d.code).toBeDefined();
          const fields = spec.fields as Record<string, FieldSpec>;
          const required = Object.keys(fields).filter((k) => !fields[k].optional);
          for (const k of required) expect(Object.keys(d), `${d.code}.${k}`).toContain(k);
          for (const k of Object.keys(d)) if (k !== 'code') expect(Object.keys(fields), `${d.code}.${k}`).toContain(k);
          seen.add(d.code);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(25);
  }, 120_000);
});
