/**
 * The JSON Schemas in schemas/ (issue 14 §3): current (regenerated in memory from the zod schemas
 * and compared with the committed files), and a standard validator (ajv, draft 2020-12) accepts
 * every bundled trace — each JSON document, each line of each JSONL trace, each CSV row as an
 * event object — and replay results; it refuses the mistakes the readers refuse by shape.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, test } from 'vitest';
import { schemaFiles } from '../../src/trace/json-schema.js';
import { csvRowObject, parseCsvHeader, parseCsvRecord } from '../../src/trace/index.js';
import { runCli } from '../cli-harness.js';
import { traceFiles } from '../helpers.js';

const files = schemaFiles();
const traceSchema = JSON.parse(readFileSync('schemas/trace.schema.json', 'utf8')) as Record<string, unknown>;
const resultSchema = JSON.parse(readFileSync('schemas/result.schema.json', 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: false, strict: false });
const part = (name: string) => ajv.compile({ ...traceSchema, anyOf: undefined, $ref: `#/$defs/${name}` });
const validDocument = part('document');
const validLine = part('jsonlLine');
const validEvent = part('event');
const validTrace = ajv.compile(traceSchema);
const validResult = ajv.compile(resultSchema);

const why = (v: { errors?: unknown }) => JSON.stringify(v.errors)?.slice(0, 400);

describe('schemas/*.json', () => {
  test('are current: `npm run schemas` would write the committed files', () => {
    for (const [file, text] of Object.entries(files))
      expect(readFileSync(file, 'utf8'), `${file} is stale: run npm run schemas`).toBe(text);
  });

  test('every bundled trace validates against schemas/trace.schema.json (json documents, each jsonl line, each csv row)', () => {
    const all = traceFiles('traces');
    let lines = 0;
    for (const f of all) {
      const text = readFileSync(f, 'utf8');
      if (f.endsWith('.json')) {
        const doc = JSON.parse(text);
        expect(validDocument(doc), `${f}: ${why(validDocument)}`).toBe(true);
        expect(validTrace(doc), f).toBe(true);
      } else if (f.endsWith('.jsonl')) {
        text.split('\n').forEach((l, i) => {
          const t = l.trim();
          if (t === '' || t.startsWith('#') || t.startsWith('//')) return;
          lines++;
          const obj = JSON.parse(t);
          expect(validLine(obj), `${f}:${i + 1}: ${why(validLine)}`).toBe(true);
          expect(validTrace(obj), `${f}:${i + 1}`).toBe(true);
        });
      } else {
        let cols: string[] | undefined;
        text.split(/\r?\n/).forEach((l, i) => {
          if (l.trim() === '' || l.startsWith('#')) return;
          if (cols === undefined) {
            cols = parseCsvHeader(l, f, i + 1);
            return;
          }
          lines++;
          const row = csvRowObject(cols, parseCsvRecord(l, f, i + 1), f, i + 1);
          expect(validEvent(row), `${f}:${i + 1}: ${why(validEvent)}`).toBe(true);
        });
      }
    }
    expect(all.length).toBeGreaterThan(30);
    expect(lines).toBeGreaterThan(500);
  });

  test('the trace schema refuses by shape what the readers refuse: unknown op, field or enum value, address without 0x, missing size', () => {
    for (const bad of [
      { op: 'gpu_reed', addr: '0x1000' },
      { op: 'gpu_read', addr: '7f00000000ab' },
      { op: 'gpu_read', addr: '7000000000' },
      { op: 'munmap', addr: '0x1000' },
      { op: 'munmap', addr: '0x1000', size: '4K', prot: 'r' },
      { op: 'mmap', addr: '0x1000', size: '4K', prot: 'rwx' },
      { op: 'gpu_fault', addr: '0x1000', size: '4K', access: 'read' },
      { op: 'gpu_read', addr: '0x1000', size: 0 },
      { op: 'gpu_read', addr: '0x1000', pid: 0 },
    ]) {
      expect(validEvent(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(validDocument({ svmsim: 1, events: [] })).toBe(false);
    expect(validLine({ svmsim: 1, platform: { vram: '4G', is_dgfx: 'yes', svm_notifier_size: 512 } })).toBe(true);
    expect(validLine({ svmsim: 1, platform: { vrm: '4G' } })).toBe(false);
  });

  test('replay results (json) validate against schemas/result.schema.json', async () => {
    for (const t of [
      'traces/01-first-touch-2m.json',
      'traces/14-errors.json',
      'traces/15-two-process-vram.jsonl',
      'traces/13-recorded-faults.csv',
      'traces/07-vram-pressure.json',
    ]) {
      for (const extra of [[], ['--no-events']]) {
        const r = await runCli(['replay', t, '--format', 'json', ...extra]);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout);
        expect(validResult(doc), `${t} ${extra.join(' ')}: ${why(validResult)}`).toBe(true);
      }
    }
    expect(validResult({ svmsim: 2 })).toBe(false);
  });
});
