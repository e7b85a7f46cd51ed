/**
 * Byte-stable output: every example trace replays to identical bytes twice, and its JSON, JSONL
 * and CSV encodings replay to identical results (event decisions, ranges, VRAM, stats).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';
import { encodings, traceFiles } from '../encodings.js';

describe('determinism', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svmsim-det-'));
  for (const f of traceFiles('traces')) {
    test(`${f}: twice identical, and identical through JSON, JSONL and CSV`, async () => {
      const a = await runCli(['replay', f, '--format', 'json']);
      const b = await runCli(['replay', f, '--format', 'json']);
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      const enc = encodings(readFileSync(f, 'utf8'), f);
      const outs: unknown[] = [];
      for (const [fmt, text] of Object.entries(enc)) {
        const p = join(dir, `x.${fmt}`);
        writeFileSync(p, text);
        const r = await runCli(['replay', p, '--format', 'json']);
        expect(r.stderr, fmt).toBe('');
        const doc = JSON.parse(r.stdout);
        // Line numbers differ between encodings; everything else must not.
        for (const e of doc.events) delete e.line;
        delete doc.trace; // the name and sha256 of each encoding
        outs.push(doc);
      }
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
      const orig = JSON.parse(a.stdout);
      for (const e of orig.events) delete e.line;
      expect(orig.stats).toEqual((outs[0] as { stats: unknown }).stats);
      expect(orig.ranges).toEqual((outs[0] as { ranges: unknown }).ranges);
    });
  }
});
