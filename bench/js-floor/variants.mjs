#!/usr/bin/env node
/**
 * The representation study of jsfault.mjs (a measuring stick, not part of the product): model CPU
 * of cfault.c and of each JSF_VARIANT of the JavaScript port, per pattern, all interleaved in every
 * repeat (C, then each variant, back to back) so that they share the machine's load; the figure is
 * the fastest of the repeats. Checks every variant's counters against cfault's.
 *
 *   node bench/js-floor/variants.mjs [-r REPEAT] [--dir DIR] [--variants base,map,bo,ptpool,smi] [PATTERN...]
 *
 * A variant `file:PATH` runs another copy of the port (e.g. an older revision) with no JSF_VARIANT.
 * Needs gcc and ../shared/perf-floor/cfault.c (or SVMSIM_CFAULT), like scripts/floor.mjs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCfault, counters, takeOption } from '../../scripts/cfault.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => takeOption(args, name, def);
const repeat = Number(opt('-r', '3'));
const dir = opt('--dir', '/tmp/p');
const variants = opt('--variants', 'base,map,bo,ptpool,smi').split(',');
const patterns = args.length > 0 ? args : ['sparse', 'pingpong', 'oversub', 'atomic', 'churn'];
const jsfault = fileURLToPath(new URL('jsfault.mjs', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'jsf-variants-'));
const cfault = compileCfault(work);
if (cfault === undefined) {
  process.stderr.write('variants: needs gcc and ../shared/perf-floor/cfault.c (or SVMSIM_CFAULT)\n');
  process.exit(2);
}

const rows = [];
for (const pat of patterns) {
  const trace = join(dir, `${pat}.csv`);
  const ms = { C: [] };
  for (const v of variants) ms[v] = [];
  for (let i = 0; i < repeat; i++) {
    const cr = JSON.parse(execFileSync(cfault, [trace], { encoding: 'utf8' }));
    ms.C.push(cr.model_cpu_s * 1000);
    for (const v of variants) {
      const file = v.startsWith('file:') ? v.slice(5) : jsfault;
      const env = { ...process.env, JSF_VARIANT: v === 'base' || file !== jsfault ? '' : v };
      const jr = JSON.parse(execFileSync(process.execPath, [file, trace], { encoding: 'utf8', env }));
      if (counters(jr) !== counters(cr)) {
        process.stderr.write(`variants: ${pat} ${v}: counters differ from cfault's\n`);
        process.exit(1);
      }
      ms[v].push(jr.model_cpu_s * 1000);
    }
  }
  const row = { pattern: pat };
  for (const [k, list] of Object.entries(ms)) row[k] = Math.min(...list);
  rows.push(row);
  process.stdout.write(
    `${pat.padEnd(9)} C ${row.C.toFixed(0).padStart(6)} ms` +
      variants.map((v) => `  ${v} ${row[v].toFixed(0).padStart(6)} ms (${(row[v] / row.C).toFixed(2)}x)`).join('') +
      '\n',
  );
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
rmSync(work, { recursive: true, force: true });
