/**
 * Heavy hostile inputs (scripts/heavy-cases.mjs): a 560 MB line, 20M events, sizes the model
 * cannot hold, 5M levels of JSON nesting. Too slow for every CI run: `npm run test:heavy`
 * (SVMSIM_HEAVY=1). Asserts exit codes and messages only; the timings and peak RSS it prints are
 * recorded in docs/reliability.md (and measured again by `npm run bench`).
 */
import { describe, expect, test } from 'vitest';
// @ts-expect-error -- a plain .mjs script shared with scripts/bench.mjs
import { HEAVY_CASES, runHeavyCase } from '../../scripts/heavy-cases.mjs';

type Case = { name: string; exit: number; stderr: RegExp };

describe.runIf(process.env.SVMSIM_HEAVY)('heavy hostile inputs', () => {
  for (const c of HEAVY_CASES as Case[]) {
    test(c.name, () => {
      const r = runHeavyCase(c) as { exit: number; stderr: string; seconds: number; rssMb?: number };
      console.log(
        `heavy: ${c.name}: exit ${r.exit}, ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb === undefined ? 'n/a' : `${r.rssMb.toFixed(0)} MB`}`,
      );
      expect(r.exit, r.stderr).toBe(c.exit);
      expect(r.stderr).toMatch(c.stderr);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    }, 900_000);
  }
});
