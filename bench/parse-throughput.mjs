// Parse-only throughput of the trace readers (issue 14 §1): bundles src/trace (or the src/ tree
// given with --src) with esbuild, then reads every event of each FILE in a fresh process (the
// encoding from the extension) and prints events/s and peak RSS. Usage:
//   node bench/parse-throughput.mjs [--src DIR] [--runs N] FILE...
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
let src = 'src';
let runs = 3;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--src') src = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else files.push(args[i]);
}
const dir = mkdtempSync(join(tmpdir(), 'svmsim-parse-'));
const entry = join(dir, 'entry.mjs');
writeFileSync(
  entry,
  `import { openTrace } from ${JSON.stringify(resolve(src, 'trace/index.ts'))};
const f = process.argv[2];
const t0 = process.hrtime.bigint();
const h = openTrace(f, f, undefined);
let n = 0;
for (const e of h.events) n++;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ events: n, ms, rssMb: process.resourceUsage().maxRSS / 1024 }));
`,
);
const out = join(dir, 'parse.mjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
for (const f of files) {
  const ms = [];
  let last;
  for (let r = 0; r < runs; r++) {
    last = JSON.parse(execFileSync(process.execPath, [out, f], { encoding: 'utf8' }));
    ms.push(last.ms);
  }
  ms.sort((a, b) => a - b);
  const best = ms[0];
  console.log(`${f}: ${last.events} events, best of ${runs} ${best.toFixed(0)} ms (${((last.events / best) * 1000 / 1e6).toFixed(2)}M events/s), median ${ms[ms.length >> 1].toFixed(0)} ms, peak RSS ${last.rssMb.toFixed(0)} MB`);
}
