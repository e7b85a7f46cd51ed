/**
 * What the C-floor scripts share (scripts/floor.mjs, bench/js-floor/variants.mjs,
 * scripts/bench-second-pass.mjs): their option parsing, where ../shared/perf-floor/cfault.c is,
 * compiling it, and the counters of its JSON line (which jsfault.mjs must match exactly).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `name VALUE` taken out of `args` (the value, or `def` when absent). */
export function takeOption(args, name, def) {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

/**
 * cfault.c: SVMSIM_CFAULT, or ../shared/perf-floor/cfault.c next to the clone (or next to a parent
 * of it: worktrees), or `extra` places; undefined when none exists.
 */
export function cfaultSource(extra = []) {
  return [
    process.env.SVMSIM_CFAULT,
    '../shared/perf-floor/cfault.c',
    '../../shared/perf-floor/cfault.c',
    ...extra,
  ].find((p) => p !== undefined && p !== '' && existsSync(p));
}

/** cfault.c compiled with gcc -O2 into `dir`: the binary's path, or undefined (no source or no gcc). */
export function compileCfault(dir) {
  const source = cfaultSource();
  if (source === undefined) return undefined;
  const bin = join(dir, 'cfault');
  return spawnSync('gcc', ['-O2', '-o', bin, source]).status === 0 ? bin : undefined;
}

/** cfault's / jsfault's JSON line without its timings: the counters, which must be identical. */
export const counters = (r) =>
  JSON.stringify({ ...r, model_wall_s: 0, model_cpu_s: 0, ns_per_event: 0, ns_per_fault: 0 });
