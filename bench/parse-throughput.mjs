// Parse-only throughput of the trace readers (issue 14 §1): bundles src/trace (or the src/ tree
// given with --src) with esbuild, then reads every event of each FILE in a fresh process (the
// encoding from the extension) and prints events/s by CPU time (user + system: steadier than wall
// time on a shared machine), wall time and peak RSS. Usage:
//   node bench/parse-throughput.mjs [--src DIR] [--runs N] [--schema-only] FILE...
// --schema-only reads the file whole and takes every event through the schema path (parseTrace
// with `fast: false`): what the fast paths save.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
let src = 'src';
let runs = 3;
let schemaOnly = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--src') src = args[++i];
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--schema-only') schemaOnly = true;
  else files.push(args[i]);
}
const dir = mkdtempSync(join(tmpdir(), 'svmsim-parse-'));
const entry = join(dir, 'entry.mjs');
writeFileSync(
  entry,
  `import { openTrace, parseTrace } from ${JSON.stringify(resolve(src, 'trace/index.ts'))};
import { readFileSync } from 'node:fs';
const f = process.argv[2];
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const h = ${schemaOnly} ? parseTrace(readFileSync(f, 'utf8'), { file: f, format: f.endsWith('.csv') ? 'csv' : 'jsonl', fast: false }) : openTrace(f, f, undefined);
let n = 0;
for (const e of h.events) n++;
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ events: n, ms, cpuMs: (c.user + c.system) / 1000, rssMb: process.resourceUsage().maxRSS / 1024 }));
`,
);
const out = join(dir, 'parse.mjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
for (const f of files) {
  const cpu = [];
  const wall = [];
  let last;
  for (let r = 0; r < runs; r++) {
    last = JSON.parse(execFileSync(process.execPath, [out, f], { encoding: 'utf8' }));
    cpu.push(last.cpuMs);
    wall.push(last.ms);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const best = cpu[0];
  console.log(
    `${f}: ${last.events} events, CPU best of ${runs} ${best.toFixed(0)} ms (${(((last.events / best) * 1000) / 1e6).toFixed(2)}M events/s), ` +
      `median ${cpu[cpu.length >> 1].toFixed(0)} ms; wall best ${wall[0].toFixed(0)} ms; peak RSS ${last.rssMb.toFixed(0)} MB`,
  );
}
