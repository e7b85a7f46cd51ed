// npm run bench: generate mixed traces of 1M and 10M events and measure, in separate processes,
// a raw scan of the file, parse-only and full replay. Prints the figures and writes
// bench/results.md with the machine's description. A script, not a test: nothing here asserts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { HEAVY_CASES, heavyTable, runHeavyCase } from './heavy-cases.mjs';
import { bundleWorker, secondPass } from './bench-second-pass.mjs';

const sizes = (process.env.SVMSIM_BENCH_SIZES ?? '1000000,10000000').split(',').filter(Boolean).map(Number);
/** `npm run bench -- --validate`: only the validate / import figures (section "Kernel-log validation"). */
const onlyValidate = process.argv.includes('--validate');
/** SVMSIM_BENCH_ONLY=report: only the HTML report figures (bench/report.md); =second-pass: only the issue-12 figures (bench/results.md, scripts/bench-second-pass.mjs). */
const only = process.env.SVMSIM_BENCH_ONLY;
mkdirSync('bench', { recursive: true });
// The report page script and styles (dist/report-page.*) come from the normal build.
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const page = { script: readFileSync('dist/report-page.js', 'utf8'), css: readFileSync('dist/report-page.css', 'utf8') };
await bundleWorker('src/bench/worker.ts', 'bench/worker.mjs', page);

const run1 = (phase, file, n) =>
  JSON.parse(
    execFileSync(process.execPath, ['bench/worker.mjs', phase, file, String(n ?? '')], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    }),
  );
const REPEAT = Number(process.env.SVMSIM_BENCH_REPEAT ?? 3);
/** Median of REPEAT runs (each in a fresh process): a 2-core machine is noisy. Peak RSS is the largest. */
const run = (phase, file, n) => {
  if (phase === 'gen') return run1(phase, file, n);
  const rs = Array.from({ length: REPEAT }, () => run1(phase, file, n)).sort((a, b) => a.ms - b.ms);
  return { ...rs[Math.floor(rs.length / 2)], rssMb: Math.max(...rs.map((r) => r.rssMb)) };
};
/**
 * validate --kernel-log on a ~1M-line DEBUG_VM log: `gen pingpong` (6 log lines per event), its
 * `replay --format dmesg`, then validate against it and import it, each in a fresh process.
 */
function benchValidate() {
  const n = Number(process.env.SVMSIM_BENCH_LOG_EVENTS ?? 170000);
  const trace = `bench/pingpong-${n}.csv`;
  const log = `bench/pingpong-${n}.dmesg.log`;
  const cli = (args) =>
    execFileSync(process.execPath, ['bin/svmsim.js', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (!existsSync(trace)) cli(['gen', 'pingpong', '-n', String(n), '--seed', '42', '-o', trace]);
  if (!existsSync(log)) cli(['replay', trace, '-f', 'dmesg', '-o', log]);
  const v = run('validate', trace, log);
  const i = run('import', log);
  if (v.code !== 0) throw new Error(`validate exit ${v.code}`);
  const mb = statSync(log).size / 2 ** 20;
  console.log(
    `validate: ${fmt(v.events)} log lines (${mb.toFixed(0)} MiB): ${v.ms.toFixed(0)} ms wall, ${v.cpuMs.toFixed(0)} ms CPU, peak RSS ${v.rssMb.toFixed(0)} MB`,
  );
  console.log(
    `import --from dmesg: ${i.ms.toFixed(0)} ms wall, ${i.cpuMs.toFixed(0)} ms CPU, peak RSS ${i.rssMb.toFixed(0)} MB`,
  );
  return [
    '## Kernel-log validation',
    '',
    `\`svmsim gen pingpong -n ${n} --seed 42\` and its \`replay --format dmesg\` (${fmt(v.events)} lines, ${mb.toFixed(0)} MiB); each command in its own process, ${REPEAT} times, median time, largest peak RSS. Measured ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Wall time depends on the machine's load (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores when measured); CPU time (user + system) does not.`,
    '',
    '| command | log lines | wall time | CPU time | lines per CPU second | peak RSS |',
    '|---|---:|---:|---:|---:|---:|',
    `| \`validate TRACE --kernel-log LOG\` (replays the trace too) | ${fmt(v.events)} | ${v.ms.toFixed(0)} ms | ${v.cpuMs.toFixed(0)} ms | ${fmt((v.events / v.cpuMs) * 1000)} | ${v.rssMb.toFixed(0)} MB |`,
    `| \`import LOG --from dmesg\` (JSON lines to stdout) | ${fmt(i.events)} | ${i.ms.toFixed(0)} ms | ${i.cpuMs.toFixed(0)} ms | ${fmt((i.events / i.cpuMs) * 1000)} | ${i.rssMb.toFixed(0)} MB |`,
    '',
  ];
}

/** Replace (or append) the section starting with `## Kernel-log validation` in bench/results.md. */
function writeValidateSection(section) {
  const old = existsSync('bench/results.md')
    ? readFileSync('bench/results.md', 'utf8')
    : '# svmsim benchmark results\n';
  const at = old.indexOf('## Kernel-log validation');
  const rest = at < 0 ? '' : old.slice(at).replace(/^## Kernel-log validation[\s\S]*?(?=\n## |$)/, '');
  const head = (at < 0 ? old : old.slice(0, at)).replace(/\n*$/, '\n\n');
  writeFileSync('bench/results.md', head + section.join('\n') + rest);
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(0)}K`);
if (onlyValidate) {
  writeValidateSection(benchValidate());
  console.log('wrote bench/results.md');
  process.exit(0);
}
// Second pass (issue 12): every item against the baseline (SVMSIM_BENCH_BEFORE, default 9ee19e8)
// in the same run; scripts/bench-second-pass.mjs says what and which switches.
/** Replace the "# Second pass (issue 12)" part of bench/results.md (everything from its heading on). */
function writeSecondPass(section) {
  const old = existsSync('bench/results.md')
    ? readFileSync('bench/results.md', 'utf8')
    : '# svmsim benchmark results\n';
  const first = old.split('\n# Second pass (issue 12)')[0].replace(/\n*$/, '\n\n');
  writeFileSync('bench/results.md', first + section.join('\n'));
}
if (only === 'second-pass') {
  writeSecondPass(await secondPass({ NEW: 'bin/svmsim.js', NEW_WORKER: 'bench/worker.mjs', page }));
  console.log('wrote bench/results.md');
  process.exit(0);
}
const rows = [];
for (const n of only === 'report' ? [] : sizes) {
  const file = `bench/mixed-${n}.csv`;
  // The traces come from `svmsim gen` (the bundled CLI), like a user would make them.
  if (!existsSync(file))
    execFileSync(process.execPath, [
      'bin/svmsim.js',
      'gen',
      'mixed',
      '-n',
      String(n),
      '--size',
      '4G',
      '--seed',
      '42',
      '--step',
      '1us',
      '-o',
      file,
    ]);
  const mb = statSync(file).size / 2 ** 20;
  const scan = run('scan', file);
  const parse = run('parse', file);
  const replay = run('replay', file);
  const row = {
    events: n,
    fileMb: mb,
    scan,
    parse,
    replay,
    evps: (n / replay.ms) * 1000,
    ratio: replay.ms / scan.ms,
  };
  rows.push(row);
  console.log(
    `${fmt(n)} events (${mb.toFixed(0)} MiB): scan ${scan.ms.toFixed(0)} ms, parse ${parse.ms.toFixed(0)} ms (${fmt((n / parse.ms) * 1000)}/s), ` +
      `replay ${replay.ms.toFixed(0)} ms = ${fmt(row.evps)} events/s, replay/scan ${row.ratio.toFixed(1)}x, ` +
      `peak RSS scan ${scan.rssMb.toFixed(0)} / parse ${parse.rssMb.toFixed(0)} / replay ${replay.rssMb.toFixed(0)} MB, faults ${replay.faults}`,
  );
}

// svmsim import of a bpftrace capture (src/import/bpftrace.ts): lines read, events written.
const captureLines = Number(process.env.SVMSIM_BENCH_CAPTURE_LINES ?? 1000000);
const capture = `bench/capture-${captureLines}.jsonl`;
if (!existsSync(capture)) run('gen-capture', capture, captureLines);
const captureMb = statSync(capture).size / 2 ** 20;
const imp = run('import-bpftrace', capture);
console.log(
  `import ${fmt(captureLines)}-line bpftrace capture (${captureMb.toFixed(0)} MiB): ${imp.ms.toFixed(0)} ms (CPU ${imp.cpuMs.toFixed(0)} ms) = ${fmt((captureLines / imp.ms) * 1000)} lines/s, ` +
    `${fmt(imp.events)} trace events, peak RSS ${imp.rssMb.toFixed(0)} MB`,
);
// Results: replay --format jsonl of the largest trace twice (16G VRAM, and 4G: one knob changed),
// then diff of the two results. One run each (they are long); peak RSS of each process.
const big = sizes[sizes.length - 1];
const bigFile = `bench/mixed-${big}.csv`;
const ra = `bench/result-${big}-16G.jsonl`;
const rb = `bench/result-${big}-4G.jsonl`;
const jsonlA = run1('replay-jsonl', bigFile, ra);
const jsonlB = JSON.parse(
  execFileSync(process.execPath, ['bench/worker.mjs', 'replay-jsonl', bigFile, rb, '4096'], { encoding: 'utf8' }),
);
const diff = run1('diff', ra, rb);
const resMb = (statSync(ra).size + statSync(rb).size) / 2 / 2 ** 20;
console.log(
  `replay --format jsonl ${fmt(big)} events: ${jsonlA.ms.toFixed(0)} ms = ${fmt((big / jsonlA.ms) * 1000)} events/s, peak RSS ${jsonlA.rssMb.toFixed(0)} MB (result ${resMb.toFixed(0)} MiB); ` +
    `diff of two ${fmt(big)}-event results: ${diff.ms.toFixed(0)} ms = ${fmt((diff.events / diff.ms) * 1000)} events/s, peak RSS ${diff.rssMb.toFixed(0)} MB, ${diff.differing} events differ`,
);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}.`;

// HTML report: write it (svmsim report, one process: time and peak RSS), then open it in headless
// Chromium (Debian's, through playwright-core) and time the render: from navigation start to the
// first painted frame with every view (window.__svmsim.readyMs), median of REPEAT page loads.
const reportRows = [];
const load = os.loadavg()[0];
if ((only === undefined && sizes.length > 0) || only === 'report') {
  const { launch } = await import('./chromium.mjs');
  for (const n of sizes) {
    const file = `bench/mixed-${n}.csv`;
    if (!existsSync(file)) run('gen', file, n);
    const out = `bench/report-${n}.html`;
    const write = run('report', file, out);
    const kb = statSync(out).size / 1024;
    const { ctx, close } = await launch();
    const loads = [];
    for (let i = 0; i < REPEAT; i++) {
      const p = await ctx.newPage();
      await p.goto('file://' + path.resolve(out));
      await p.waitForFunction(() => window.__svmsim?.ready === true, null, { timeout: 60000 });
      loads.push(await p.evaluate(() => ({ ready: window.__svmsim.readyMs, script: window.__svmsim.renderMs })));
      await p.close();
    }
    await close();
    loads.sort((a, b) => a.ready - b.ready);
    const med = loads[Math.floor(loads.length / 2)];
    const row = { events: n, write, kb, ready: med.ready, script: med.script };
    reportRows.push(row);
    console.log(
      `report ${fmt(n)} events: written in ${write.ms.toFixed(0)} ms (CPU ${write.cpuMs.toFixed(0)} ms, peak RSS ${write.rssMb.toFixed(0)} MB), ${kb.toFixed(0)} KiB, rendered in ${med.ready.toFixed(0)} ms (script ${med.script.toFixed(0)} ms)`,
    );
  }
  writeFileSync(
    'bench/report.md',
    [
      '# svmsim report: size and render time',
      '',
      machine,
      `Date: ${new Date().toISOString().slice(0, 10)}. Load average when the run started: ${load.toFixed(1)} (the machine is shared). Workload: \`svmsim gen mixed\` (seed 42, 4 GiB working set), CSV; \`svmsim report\` with the defaults (50 lanes).`,
      '',
      '"write" is `svmsim report` in its own process (replay, binning, page), wall and CPU time; "render" is headless Chromium 1280x800 from navigation',
      `start to the first painted frame with every view, median of ${REPEAT} loads ("script" is the part after the page script starts).`,
      '',
      '| events | write | write CPU | peak RSS | report size | render | script |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...reportRows.map(
        (r) =>
          `| ${fmt(r.events)} | ${r.write.ms.toFixed(0)} ms | ${r.write.cpuMs.toFixed(0)} ms | ${r.write.rssMb.toFixed(0)} MB | ${r.kb.toFixed(0)} KiB | ${r.ready.toFixed(0)} ms | ${r.script.toFixed(0)} ms |`,
      ),
      '',
      'Targets (issue #13): a 10M-event trace gives a report under 5 MB that renders in under 2 s; the replay keeps bounded memory.',
      '',
    ].join('\n'),
  );
  console.log('wrote bench/report.md');
}
if (only === 'report') process.exit(0);
const lines = [
  '# svmsim benchmark results',
  '',
  machine,
  `Date: ${new Date().toISOString().slice(0, 10)}. Workload: \`svmsim gen mixed\` (seed 42, 4 GiB working set), CSV.`,
  '',
  `Each phase runs in its own process, ${REPEAT} times; times are the median, peak RSS the largest maxRSS. "scan" reads the file, decodes`,
  'UTF-8 and counts lines; "parse" reads and parses every event; "replay" parses, runs the model and',
  'prints `--format debugfs`.',
  '',
  '| events | file | scan | parse | replay | replay events/s | replay / scan | peak RSS scan / parse / replay |',
  '|---:|---:|---:|---:|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${fmt(r.events)} | ${r.fileMb.toFixed(0)} MiB | ${r.scan.ms.toFixed(0)} ms | ${r.parse.ms.toFixed(0)} ms | ${r.replay.ms.toFixed(0)} ms | ${fmt(r.evps)} | ${r.ratio.toFixed(1)}x | ${r.scan.rssMb.toFixed(0)} / ${r.parse.rssMb.toFixed(0)} / ${r.replay.rssMb.toFixed(0)} MB |`,
  ),
  '',
  'Targets (issue "Scale"): >= 3M events/s on the 10M trace, within 5x of the scan, peak RSS < 256 MB, flat in trace length.',
  '',
  '## Import',
  '',
  '`svmsim import` of a synthetic 6.18 bpftrace capture (per 2 MiB block: mmap, 8 GPU faults with range / get_pages /',
  'fault_ret, a migration on the first, CPU faults on device pages; munmap + range_remove every 64 blocks; one line in',
  '16 arrives 50 us late), written to a JSONL trace file with the kernel decisions as comments.',
  '',
  '| capture lines | file | import (wall) | CPU time | lines/s (wall) | trace events | peak RSS |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  `| ${fmt(captureLines)} | ${captureMb.toFixed(0)} MiB | ${imp.ms.toFixed(0)} ms | ${imp.cpuMs.toFixed(0)} ms | ${fmt((captureLines / imp.ms) * 1000)} | ${fmt(imp.events)} | ${imp.rssMb.toFixed(0)} MB |`,
  '## Results and diff (issue #11)',
  '',
  `\`replay --format jsonl\` of the ${fmt(big)}-event trace (one run; the second result with \`--vram 4G\`, one knob changed), then`,
  '`svmsim diff` of the two results (one run). Target: two 10M-event results diffed at >= 1M events/s in <= 256 MB peak RSS.',
  '',
  '| step | events | time | events/s | peak RSS | notes |',
  '|---|---:|---:|---:|---:|---|',
  `| replay --format jsonl (16G) | ${fmt(big)} | ${jsonlA.ms.toFixed(0)} ms | ${fmt((big / jsonlA.ms) * 1000)} | ${jsonlA.rssMb.toFixed(0)} MB | result ${(statSync(ra).size / 2 ** 20).toFixed(0)} MiB |`,
  `| replay --format jsonl (4G) | ${fmt(big)} | ${jsonlB.ms.toFixed(0)} ms | ${fmt((big / jsonlB.ms) * 1000)} | ${jsonlB.rssMb.toFixed(0)} MB | result ${(statSync(rb).size / 2 ** 20).toFixed(0)} MiB |`,
  `| diff A B | ${fmt(diff.events)} | ${diff.ms.toFixed(0)} ms | ${fmt((diff.events / diff.ms) * 1000)} | ${diff.rssMb.toFixed(0)} MB | ${diff.differing} events differ |`,
  '',
  '## History (10M mixed CSV, measured on the Intel Xeon machine above, 2026-11-25)',
  '',
  '| version | parse | replay | replay events/s | replay / scan | peak RSS | what changed |',
  '|---|---:|---:|---:|---:|---:|---|',
  '| 68f9aa5 (first streaming reader) | 4925 ms | 7193 ms | 1.39M | ~19x | 149 MB | string lines, a regex fast path per row |',
  '| 9fa348c | 1250 ms | 1922 ms | 5.20M | 5.1x | 83 MB | byte-level CSV reader, no decision records without a reader, GC list walked by index, last-hit range cache, monomorphic events |',
  '| fused row reader | ~1020 ms | ~1690 ms | ~5.9M | ~4.4x | 83 MB | cells located and numbers parsed in one pass over the row bytes |',
  '',
];
// Hostile inputs (issue 15): the heavy cases of `npm run test:heavy`, timed. SVMSIM_BENCH_HEAVY=0 skips them.
if (process.env.SVMSIM_BENCH_HEAVY !== '0' && only !== 'second-pass') {
  const heavy = HEAVY_CASES.map((c) => {
    const r = runHeavyCase(c);
    console.log(
      `heavy: ${c.name}: exit ${r.exit} (expected ${c.exit}), ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb === undefined ? 'n/a' : `${r.rssMb.toFixed(0)} MB`}`,
    );
    return { c, r };
  });
  lines.push('## Hostile inputs (scripts/heavy-cases.mjs, also `npm run test:heavy`)', '', heavyTable(heavy), '');
}
// Without mixed sizes this run measured only the second pass: keep the first part as it was.
const first =
  rows.length > 0 || !existsSync('bench/results.md')
    ? lines.join('\n')
    : readFileSync('bench/results.md', 'utf8').split('\n# Second pass (issue 12)')[0];
writeFileSync('bench/results.md', first);
if (only === undefined)
  writeSecondPass(await secondPass({ NEW: 'bin/svmsim.js', NEW_WORKER: 'bench/worker.mjs', page }));
if (only !== 'second-pass') writeValidateSection(benchValidate());
console.log('wrote bench/results.md');
