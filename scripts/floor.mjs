#!/usr/bin/env node
/**
 * The fault path against its C floor, per fault-heavy pattern: model CPU of
 * ../shared/perf-floor/cfault.c (gcc -O2) and of svmsim's model alone (src/bench/worker.ts phase
 * `model`: the trace parsed first, only the Simulator.step loop timed, record:false), and the ratio.
 * Runs alternate C / svmsim per repeat so both see the same load; the figure is the fastest run of
 * each (on a shared machine the load only ever adds CPU time: cache and core sharing).
 *
 *   node scripts/floor.mjs [-n EVENTS] [-r REPEAT] [--dir DIR] [--js] [PATTERN...]
 *
 * Traces are DIR/PATTERN.csv (default /tmp/p), made with `svmsim gen PATTERN -n EVENTS --seed 42`
 * when missing. Without a C compiler only svmsim's figures are printed.
 * --js also runs bench/js-floor/jsfault.mjs (cfault.c ported to JavaScript: what V8 does with the C
 * floor's own algorithm) right after C in each repeat, prints its column and the JS/C and svmsim/JS
 * ratios, and fails when its counters differ from cfault's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compileCfault, counters, takeOption } from './cfault.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => takeOption(args, name, def);
const events = Number(opt('-n', '1000000'));
const repeat = Number(opt('-r', '3'));
const dir = opt('--dir', '/tmp/p');
const jsAt = args.indexOf('--js');
const withJs = jsAt >= 0;
if (withJs) args.splice(jsAt, 1);
const jsfault = fileURLToPath(new URL('../bench/js-floor/jsfault.mjs', import.meta.url));
const patterns = args.length > 0 ? args : ['sparse', 'pingpong', 'oversub', 'atomic', 'churn'];

mkdirSync(dir, { recursive: true });
const work = join(tmpdir(), `svmsim-floor-${process.pid}`);
mkdirSync(work, { recursive: true });
const worker = join(work, 'worker.mjs');
const page = existsSync('dist/report-page.js')
  ? { script: readFileSync('dist/report-page.js', 'utf8'), css: readFileSync('dist/report-page.css', 'utf8') }
  : { script: '', css: '' };
await build({
  define: { __SVMSIM_REPORT_PAGE__: JSON.stringify(page) },
  entryPoints: ['src/bench/worker.ts'],
  outfile: worker,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

const cfault = compileCfault(work);
const hasCc = cfault !== undefined;
if (!hasCc)
  process.stderr.write('floor: no C compiler (gcc) or no ../shared/perf-floor/cfault.c: svmsim figures only\n');

const rows = [];
for (const pat of patterns) {
  const trace = join(dir, `${pat}.csv`);
  if (!existsSync(trace))
    execFileSync(process.execPath, ['bin/svmsim.js', 'gen', pat, '-n', String(events), '--seed', '42', '-o', trace], {
      stdio: 'inherit',
    });
  const c = [];
  const js = [];
  const s = [];
  let last;
  for (let i = 0; i < repeat; i++) {
    const cr = hasCc ? JSON.parse(execFileSync(cfault, [trace], { encoding: 'utf8' })) : undefined;
    if (cr) c.push(cr.model_cpu_s * 1000);
    if (withJs) {
      const jr = JSON.parse(execFileSync(process.execPath, [jsfault, trace], { encoding: 'utf8' }));
      if (cr && counters(jr) !== counters(cr)) {
        process.stderr.write(
          `floor: ${pat}: jsfault's counters differ from cfault's\n  C  ${counters(cr)}\n  JS ${counters(jr)}\n`,
        );
        process.exit(1);
      }
      js.push(jr.model_cpu_s * 1000);
    }
    last = JSON.parse(
      execFileSync(process.execPath, [worker, 'model', trace], { encoding: 'utf8', maxBuffer: 1 << 20 }),
    );
    s.push(last.modelCpuMs);
  }
  const cMs = hasCc ? Math.min(...c) : Number.NaN;
  const sMs = Math.min(...s);
  const row = { pattern: pat, events: last.events, faults: last.svm_pagefault_count, cMs, sMs, ratio: sMs / cMs };
  const f = (x) => (Number.isNaN(x) ? '-' : x.toFixed(0));
  const x = (a, b) => (Number.isNaN(a / b) ? '-' : `${(a / b).toFixed(2)}x`);
  let jsCols = '';
  if (withJs) {
    const jsMs = Math.min(...js);
    Object.assign(row, { jsMs, jsRatio: jsMs / cMs, sjsRatio: sMs / jsMs });
    jsCols = `  JS ${f(jsMs).padStart(6)} ms (${x(jsMs, cMs)} C)`;
  }
  rows.push(row);
  process.stdout.write(
    `${pat.padEnd(9)} ${String(last.events).padStart(9)} events  C ${f(cMs).padStart(6)} ms${jsCols}  svmsim ${f(sMs).padStart(6)} ms  ratio ${Number.isNaN(cMs) ? '-' : (sMs / cMs).toFixed(2)}x${withJs ? ` (${x(sMs, row.jsMs)} JS)` : ''}  (${((sMs * 1e6) / last.svm_pagefault_count).toFixed(0)} ns/fault)\n`,
  );
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
rmSync(work, { recursive: true, force: true });
