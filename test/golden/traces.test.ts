/**
 * Golden outputs: every trace in traces/ replayed through the CLI in-process, as the table
 * (with --by-range too) and as JSON. Replayed with the zero cost model, so that a change to the
 * cost model (the `_us` counters) touches no golden file. Snapshots live next to this file in __golden__/ and are
 * updated deliberately with `npx vitest run -u`, then reviewed in the diff.
 */
import { relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../cli-harness.js';
import { traceFiles } from '../helpers.js';

const traces = traceFiles('traces');
const ZERO = ['--cost-model', 'zero'];

describe('golden outputs of traces/', () => {
  test('there are at least ten example traces', () => {
    expect(traces.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of traces) {
    const name = relative('traces', file).replace(/[\\/]/g, '__');
    test(`${file}: table`, async () => {
      const r = await runCli(['replay', file, ...ZERO]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await expect(r.stdout).toMatchFileSnapshot(`__golden__/${name}.table.txt`);
    });
    test(`${file}: by-range`, async () => {
      const r = await runCli(['replay', file, '--by-range', ...ZERO]);
      expect(r.code).toBe(0);
      await expect(r.stdout).toMatchFileSnapshot(`__golden__/${name}.by-range.txt`);
    });
    test(`${file}: json`, async () => {
      const r = await runCli(['replay', file, '--format', 'json', ...ZERO]);
      expect(r.code).toBe(0);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      await expect(r.stdout).toMatchFileSnapshot(`__golden__/${name}.json`);
    });
  }
});
