/**
 * The bpftrace capture as a kernel log for `svmsim validate --kernel-log`: observationsFromBpftrace
 * plugged in at the capture sniffer's BPFTRACE_READER (src/validate/capture.ts), the trace from
 * `svmsim import` of the same capture replayed beside it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { setBpftraceReader } from '../../src/validate/capture.js';
import { observationsFromBpftrace } from '../../src/validate/bpftrace.js';
import { runCli } from '../cli-harness.js';

const FIX = 'test/import/fixtures';
const dir = mkdtempSync(join(tmpdir(), 'svmsim-vbt-'));

describe('validate --kernel-log CAPTURE (bpftrace)', () => {
  // The reader is wired by default; set it again in case another test file replaced it.
  beforeAll(() => setBpftraceReader(observationsFromBpftrace));

  test('the 6.16 capture agrees with the replay of its own import, on the labels a capture can show', async () => {
    const imp = await runCli(['import', `${FIX}/capture-6.16.jsonl`, '-o', join(dir, 't.jsonl')]);
    writeFileSync(join(dir, 't.jsonl'), imp.files.get(join(dir, 't.jsonl'))!);
    const r = await runCli([
      'validate',
      join(dir, 't.jsonl'),
      '--kernel-log',
      `${FIX}/capture-6.16.jsonl`,
      '-f',
      'json',
    ]);
    const doc = JSON.parse(r.stdout);
    const labels = doc.checks[0].labels.map((l: { label: string }) => l.label).sort();
    // Only the bpftrace alphabet is compared (6.16: no PAGE FAULT - VALID line). The capture's first
    // fault allocates VRAM and gets pages; its second finds the range valid, which 6.16 does not
    // print: one line of each label, all three matched.
    expect(labels).toEqual(['ALLOCATE VRAM', 'GET PAGES', 'PAGE FAULT']);
    expect(doc.checks[0].compared).toBe(3);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  test('6.18: every label matches ("Attaching N probes..." first is still a capture); a changed bound diverges at its line', async () => {
    const t = join(dir, 't18.jsonl');
    const imp = await runCli(['import', `${FIX}/capture-6.18.jsonl`, '-o', t]);
    writeFileSync(t, imp.files.get(t)!);
    const ok = await runCli(['validate', t, '--kernel-log', `${FIX}/capture-6.18.jsonl`, '-f', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc.checks[0].compared).toBe(8);
    // Line 20 is the second GET PAGES: end 0x7f0000200000 -> 0x7f0000100000.
    const lines = readFileSync(`${FIX}/capture-6.18.jsonl`, 'utf8').split('\n');
    lines[19] = lines[19].replace('"end":"0x7f0000200000"', '"end":"0x7f0000100000"');
    const bad = join(dir, 'bad18.jsonl');
    writeFileSync(bad, lines.join('\n'));
    const r = await runCli(['validate', t, '--kernel-log', bad, '-f', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).checks[0].divergence.kernel.line).toBe(20);
  });
});
