/**
 * Byte-stable output: every example trace replays to identical bytes twice, and its JSON, JSONL
 * and CSV encodings replay to identical results (event decisions, ranges, VRAM, stats).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { echoFields } from '../../src/cli/replay.js';
import { platformJson } from '../../src/report/reporter.js';
import { parseTrace, type ParsedEvent } from '../../src/trace/index.js';
import { runCli } from '../cli-harness.js';

function traceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? traceFiles(p) : /\.(json|jsonl|csv)$/.test(f) ? [p] : [];
  });
}

const hex = (x: bigint) => '0x' + x.toString(16);

/** The fields of an event as the trace would spell them. */
function fields(e: ParsedEvent): Record<string, string> {
  const o: Record<string, string> = { t: String(e.core.t), op: e.core.op, addr: hex(e.addr) };
  if (e.size !== 0n || ['mmap', 'munmap', 'mprotect', 'madvise', 'xe_prefetch', 'xe_madvise'].includes(e.core.op)) o.size = hex(e.size);
  for (const [k, v] of echoFields(e.core)) o[k] = v;
  return o;
}

function encodings(text: string, file: string) {
  const t = parseTrace(text, { file });
  // The trace's own header knobs, spelled as in traces (platformJson maps fields to knob names).
  const header = Object.fromEntries(Object.entries(platformJson(t.platform as never)).filter(([, v]) => v !== undefined));
  const evs = t.events.map(fields);
  const cols = ['t', 'op', 'addr', 'size', 'prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'];
  const json = JSON.stringify({ svmsim: 1, platform: header, events: evs }, null, 1);
  const jsonl = [JSON.stringify({ svmsim: 1, platform: header }), ...evs.map((e) => JSON.stringify(e))].join('\n') + '\n';
  const csv =
    `#! platform ${Object.entries(header).map(([k, v]) => `${k}=${v}`).join(' ')}\n` +
    cols.join(',') +
    '\n' +
    evs.map((e) => cols.map((c) => e[c] ?? '').join(',')).join('\n') +
    '\n';
  return { json, jsonl, csv };
}

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
