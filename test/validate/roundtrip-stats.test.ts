/**
 * Round trip for `--stats`: snapshots whose deltas are the model's counters (replay --format
 * debugfs) agree for every trace and kernel profile, on both GTs; one count changed is reported
 * by name (exit 1); a `_us` counter off never fails without --us-tolerance.
 */
import { describe, expect, test } from 'vitest';
import { KERNEL_VERSIONS } from '../../src/core/platform.js';
import { runCli } from '../cli-harness.js';
import { scratch, traceFiles, validate } from './harness.js';

const traces = traceFiles('traces');
const tmp = scratch('svmsim-validate-stats-').write;

/** How often the conditional checks below ran (a kernel without `_us` counters skips them). */
const ran = { usShown: 0, usTolerance: 0 };

describe('validate --stats round trip', () => {
  for (const file of traces) {
    for (const k of KERNEL_VERSIONS) {
      test(`${file} ${k}: snapshots that differ by the model's counters agree (gt0, gt1); one count off by one fails naming it; a _us counter off fails only beyond --us-tolerance`, async () => {
        for (const gt of ['0', '1']) {
          const model = await runCli(['replay', file, '-k', k, '-f', 'debugfs', '--gt', gt]);
          expect(model.code).toBe(0);
          const rows = model.stdout
            .trim()
            .split('\n')
            .map((l) => l.split(': '));
          // BEFORE: arbitrary earlier values; AFTER: BEFORE + what the model counted.
          const before = rows.map(([name], i) => `${name}: ${1000 + 37 * i}`).join('\n') + '\n';
          const afterSnapshot = (bump?: string) =>
            rows.map(([name, v], i) => `${name}: ${1000 + 37 * i + Number(v) + (name === bump ? 1 : 0)}`).join('\n') +
            '\n';
          const bf = tmp(before);
          const same = await validate([file, '-k', k, '--gt', gt, '--stats', bf, tmp(afterSnapshot())]);
          expect(same.code).toBe(0);
          if (gt === '1') continue; // the media GT: agreement only (its counters are the TLB ones of gt0)

          const count = rows.find(([name]) => !name.endsWith('_us'))![0];
          const r = await validate([file, '-k', k, '--gt', gt, '--stats', bf, tmp(afterSnapshot(count))]);
          expect(r.code).toBe(1);
          const failing = r.doc.checks[0].counters
            .filter((c: { verdict: string }) => c.verdict === 'differs')
            .map((c: { name: string }) => c.name);
          expect(failing).toEqual([count]);

          const us = rows.find(([name]) => name.endsWith('_us'));
          if (us !== undefined) {
            // _us: shown, never failing without a tolerance; failing beyond it.
            const shifted = tmp(afterSnapshot(us[0]));
            expect((await validate([file, '-k', k, '--gt', gt, '--stats', bf, shifted])).code).toBe(0);
            ran.usShown++;
            if (Number(us[1]) === 0) {
              expect(
                (await validate([file, '-k', k, '--gt', gt, '--stats', bf, shifted, '--us-tolerance', '10'])).code,
              ).toBe(1);
              ran.usTolerance++;
            }
          }
        }
      });
    }
  }
});

test('the _us checks above ran (on the kernels with _us counters)', () => {
  expect(ran.usShown).toBeGreaterThan(traces.length);
  expect(ran.usTolerance).toBeGreaterThan(0);
});

describe('validate --stats: bad snapshots', () => {
  const trace = 'traces/02-cpu-gpu-pingpong.json';

  test("a snapshot of another kernel's counter list: exit 2 naming the counters and the kernel it looks like", async () => {
    const old = (await runCli(['replay', trace, '-k', '6.16', '-f', 'debugfs'])).stdout;
    const p = tmp(old);
    const r = await runCli(['validate', trace, '-k', '6.18', '--stats', p, p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${p}: counter list is not kernel 6.18's: missing svm_tlb_inval_count, svm_tlb_inval_us,`,
    );
    expect(r.stderr).toContain('it looks like kernel 6.16 / 6.17 (use --kernel 6.17)');
  });

  test('a line that is not "name: value": exit 2 with file:line', async () => {
    const p = tmp('svm_pagefault_count: 1\ntlb_inval_count = 2\n');
    const r = await runCli(['validate', trace, '--stats', p, p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${p}:2: expected a debugfs gtN/stats line "name: value"`);
  });
});
