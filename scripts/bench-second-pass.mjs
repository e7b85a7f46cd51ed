// Issue 12 ("second pass") figures for `npm run bench`: every item measured for the baseline
// (SVMSIM_BENCH_BEFORE, default 9ee19e8, built into a temporary directory) and for this tree, in
// the same run, on the same machine. A script, not a test: nothing here asserts.
//
// Parts (SVMSIM_BENCH_PARTS, comma-separated; default all, in this order):
//   floor    model CPU of ../shared/perf-floor/cfault.c (gcc -O2) vs svmsim's model-only phase
//            (src/bench/worker.ts `model`), per fault-heavy pattern, at SVMSIM_BENCH_FLOOR_SIZES
//   mixed    replay --format debugfs of `gen mixed --seed 42` traces of SVMSIM_BENCH_MIXED_EVENTS events
//            (2000000,10000000) in SVMSIM_BENCH_MIXED_FORMATS (csv,jsonl), SVMSIM_BENCH_MIXED_RUNS (5)
//            runs of each version interleaved: median CPU and wall, events/s, peak RSS
//   formats  CPU time and peak RSS of every output format (summary, table, by-range, json, jsonl,
//            perfetto, dmesg, report) per pattern at SVMSIM_BENCH_FORMAT_SIZES; json/jsonl vs summary
//   ranges   bytes per live range (scripts/range-memory.mjs, when present)
//   gen      gen vs replay of what it writes, SVMSIM_BENCH_GEN_RUNS (5) rounds of each version
//            interleaved: median CPU (user + system), per pattern (SVMSIM_BENCH_GEN_PATTERNS)
//   startup  --version vs node -e 0
//   compare  compare (8 configurations) vs the separate replays
// Every figure is a whole process (CLI or worker); CPU time (user + system, threads included) and
// peak RSS come from bench/rusage-hook.mjs. Runs are sequential unless SVMSIM_BENCH_JOBS=2 (the
// format runs then go two at a time: CPU time and peak RSS are per process, wall time is not used).
//
// Other switches: SVMSIM_BENCH_BEFORE=REF|none, SVMSIM_BENCH_PATTERNS, SVMSIM_BENCH_FORMATS,
// SVMSIM_BENCH_FORMAT_SIZES (default 2000000,10000000), SVMSIM_BENCH_FLOOR_SIZES (1000000,10000000),
// SVMSIM_BENCH_FLOOR_PATTERNS, SVMSIM_BENCH_MIXED_EVENTS, SVMSIM_BENCH_RANGES, SVMSIM_BENCH_GEN_EVENTS,
// SVMSIM_BENCH_GEN_PATTERNS, SVMSIM_BENCH_STARTS, SVMSIM_BENCH_COMPARE_EVENTS (0 skips a part too),
// SVMSIM_BENCH_BEFORE_MAX_S (120: a baseline run predicted from its smaller size to take longer is
// skipped and said so), SVMSIM_BENCH_TIMEOUT (1200 s wall per run), SVMSIM_BENCH_BEFORE_TIMEOUT (the
// same for a baseline run; a stopped run's cell has its CPU time and peak RSS so far, read from /proc), SVMSIM_BENCH_DIR (traces, bench/),
// SVMSIM_BENCH_KEEP=1 (keep the traces), SVMSIM_BENCH_LARGE_PATTERNS (formats: the patterns also run at
// the largest of SVMSIM_BENCH_FORMAT_SIZES; default all), SVMSIM_BENCH_RESUME=FILE (formats: every
// finished run is appended to FILE as a JSON line and not run again by a later bench with the same
// FILE; the table is made from FILE and this run's rows; SVMSIM_BENCH_TABLE_ONLY=1 runs nothing and
// prints the table of what FILE has).
// The formats part prints its plan first (runs, CPU minutes from per-format µs per event, wall
// minutes at the current load) and every run as it finishes, with the time left at the rate so far.
//
// Cost: the 10M-event runs of the fault-heavy patterns dominate (every format, at the model's
// speed of the day: about 1-3 min CPU each at 9ee19e8's speed). For a quick pass:
//   SVMSIM_BENCH_ONLY=second-pass SVMSIM_BENCH_FORMAT_SIZES=2000000 SVMSIM_BENCH_FLOOR_SIZES=1000000 npm run bench
import { build } from 'esbuild';
import { cfaultSource } from './cfault.mjs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = process.env;
const list = (name, dflt) =>
  (env[name] ?? dflt)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(x % 1e6 === 0 ? 0 : 2)}M` : `${(x / 1e3).toFixed(0)}K`);
const secs = (ms) => (ms >= 10000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(1)} s`);

const FAULT_HEAVY = ['sparse', 'pingpong', 'oversub', 'atomic', 'churn'];
const PATTERNS_ALL = ['streaming', 'random', 'hotcold', 'pingpong', 'atomic', 'oversub', 'churn', 'sparse', 'mixed'];
const FORMATS = [
  ['summary', ['--summary']],
  ['table', []],
  ['by-range', ['--by-range']],
  ['json', ['--format', 'json']],
  ['jsonl', ['--format', 'jsonl']],
  ['perfetto', ['--format', 'perfetto']],
  ['dmesg', ['--format', 'dmesg']],
  ['report', null], // svmsim report TRACE -o FILE
];

/** Build `ref` into a temporary directory (cached by commit): its CLI and its bench worker. */
async function buildBefore(ref, page) {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { encoding: 'utf8' }).trim();
  const dir = path.join(os.tmpdir(), `svmsim-bench-before-${sha}`);
  if (!existsSync(path.join(dir, '.built'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('bash', ['-c', `git archive ${sha} | tar -x -C '${dir}'`]);
    execFileSync('ln', ['-s', path.resolve('node_modules'), path.join(dir, 'node_modules')]);
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(path.join(dir, '.built'), sha + '\n');
  }
  // A cached build whose node_modules link points at a tree that is gone: link this tree's.
  const modules = path.join(dir, 'node_modules');
  if (!existsSync(modules)) {
    rmSync(modules, { force: true });
    execFileSync('ln', ['-s', path.resolve('node_modules'), modules]);
  }
  // The baseline's model behind this tree's worker (the `model` phase did not exist then).
  mkdirSync(path.join(dir, 'src/bench'), { recursive: true });
  writeFileSync(path.join(dir, 'src/bench/worker-now.ts'), readFileSync('src/bench/worker.ts'));
  // The replay driver moved from src/cli/replay.ts to src/replay/replay.ts (issue 14): a shim for older trees.
  if (!existsSync(path.join(dir, 'src/replay/replay.ts'))) {
    mkdirSync(path.join(dir, 'src/replay'), { recursive: true });
    writeFileSync(path.join(dir, 'src/replay/replay.ts'), "export * from '../cli/replay.js';\n");
  }
  const worker = path.join(dir, 'bench-worker.mjs');
  await bundleWorker(path.join(dir, 'src/bench/worker-now.ts'), worker, page);
  return { sha, dir, cli: path.join(dir, 'bin/svmsim.js'), worker };
}

export async function bundleWorker(entry, outfile, page) {
  await build({
    define: { __SVMSIM_REPORT_PAGE__: JSON.stringify(page) },
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'error',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

/** CPU time (user + system) and peak RSS of a live process from /proc (Linux), or NaNs. */
function procUsage(pid) {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 per s on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { cpuMs: ((Number(f[11]) + Number(f[12])) / 100) * 1000, rssMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN };
  } catch {
    return { cpuMs: Number.NaN, rssMb: Number.NaN };
  }
}

let rusageSeq = 0;
/** One process: node [hook] SCRIPT ARGS > /dev/null. Resolves wall ms, CPU ms, peak RSS MB, exit code. */
function proc(script, args, { timeoutS = 0, nodeArgs = [], stdout = false } = {}) {
  const file = path.join(os.tmpdir(), `svmsim-bench-rusage-${process.pid}-${rusageSeq++}`);
  rmSync(file, { force: true });
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', path.resolve('bench/rusage-hook.mjs'), script, ...args],
      {
        env: { ...env, SVMSIM_BENCH_RUSAGE: file },
        stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err = (err + b).slice(-2000)));
    // Stopped by the timeout: the exit hook never runs, so read the peak RSS (VmHWM) and the CPU time
    // so far from /proc just before the kill: the cell then says what the run had reached.
    let atStop;
    const timer =
      timeoutS > 0
        ? setTimeout(() => {
            atStop = procUsage(child.pid);
            child.kill('SIGKILL');
          }, timeoutS * 1000)
        : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const u = existsSync(file)
        ? JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop())
        : (atStop ?? { cpuMs: Number.NaN, rssMb: Number.NaN });
      rmSync(file, { force: true });
      resolve({
        ms,
        cpuMs: u.cpuMs,
        userMs: u.userMs ?? Number.NaN,
        sysMs: u.sysMs ?? Number.NaN,
        rssMb: u.rssMb,
        code: code ?? 128,
        signal,
        timedOut: signal === 'SIGKILL' && timer !== undefined,
        out,
        err,
      });
    });
  });
}

/** The median of some numbers (the mean of the middle two for an even count). */
const median = (xs) => {
  const v = [...xs].sort((x, y) => x - y);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** Run async jobs `jobs` at a time, in order of start. */
async function pool(tasks, jobs) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, jobs) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

export async function secondPass({ NEW, NEW_WORKER, page }) {
  const PARTS = list('SVMSIM_BENCH_PARTS', 'floor,mixed,formats,ranges,gen,startup,compare');
  const BEFORE = env.SVMSIM_BENCH_BEFORE ?? '9ee19e8';
  const JOBS = Number(env.SVMSIM_BENCH_JOBS ?? 1);
  const DIR = env.SVMSIM_BENCH_DIR ?? 'bench';
  const KEEP = env.SVMSIM_BENCH_KEEP === '1';
  mkdirSync(DIR, { recursive: true });
  let old;
  let noBefore = '';
  if (BEFORE && BEFORE !== 'none') {
    try {
      old = await buildBefore(BEFORE, page);
    } catch (e) {
      noBefore = `The baseline ${BEFORE} could not be built (${String(e.message ?? e).split('\n')[0]}): after only.`;
      console.log(`bench: ${noBefore}`);
    }
  }
  const tag = old ? ` Before = ${old.sha} (built into ${old.dir}), after = this tree, in the same run.` : '';
  const out = [];
  const started = Date.now();
  const loadAtStart = os.loadavg()[0];

  const traceFile = (pattern, n) => path.join(DIR, `${pattern}-${n}.csv`);
  const made = new Set();
  function genTrace(pattern, n) {
    const f = traceFile(pattern, n);
    if (!existsSync(f))
      execFileSync(process.execPath, [
        NEW,
        'gen',
        pattern,
        '-n',
        String(n),
        '--size',
        '4G',
        '--seed',
        '7',
        ...(pattern === 'oversub' ? ['--vram', '1G'] : []),
        '-o',
        f,
      ]);
    made.add(f);
    return f;
  }
  const drop = (f) => {
    if (!KEEP) rmSync(f, { force: true });
    made.delete(f);
  };
  const failed = (r) =>
    r.timedOut
      ? `stopped at ${secs(r.ms)} wall${Number.isNaN(r.cpuMs) ? '' : ` (${secs(r.cpuMs)} CPU)`}`
      : `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`;
  const cell = (r) =>
    r === undefined
      ? 'not run'
      : typeof r === 'string'
        ? r
        : r.code === 0
          ? `${secs(r.cpuMs)}, ${r.rssMb.toFixed(0)} MB`
          : `${failed(r)}${Number.isNaN(r.rssMb) ? '' : `, ${r.timedOut ? '≥ ' : ''}${r.rssMb.toFixed(0)} MB`}`;
  const log = (s) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`);

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('floor')) {
    const sizes = list('SVMSIM_BENCH_FLOOR_SIZES', '1000000,10000000').map(Number);
    const patterns = list('SVMSIM_BENCH_FLOOR_PATTERNS', FAULT_HEAVY.join(','));
    const cSource = cfaultSource(['/work/shared/perf-floor/cfault.c']);
    const gcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0;
    out.push('## Fault path against the C floor (model CPU only)', '');
    let cfault;
    if (!cSource || !gcc) {
      out.push(
        `C floor skipped: ${!cSource ? 'cfault.c not found (../shared/perf-floor/, or SVMSIM_CFAULT)' : 'no gcc on this machine'}; svmsim's model CPU only.`,
        '',
      );
      console.log('bench: C floor skipped (no cfault.c or no gcc)');
    } else {
      cfault = path.join(os.tmpdir(), `svmsim-cfault-${process.pid}`);
      execFileSync('gcc', ['-O2', '-o', cfault, cSource, '-lm']);
    }
    out.push(
      `Traces: \`svmsim gen PATTERN -n N --size 4G --seed 7\` (oversub with \`--vram 1G\`). Each side parses the whole trace first and times only the model loop (CPU time): ${cfault ? `\`${cSource}\` compiled with \`gcc -O2\` (model_cpu_s), ` : ''}svmsim's worker phase \`model\` (src/bench/worker.ts: Simulator.step with record:false) on each version.${tag} Target: svmsim ≤ 2× the C floor.`,
      '',
      `| pattern | events | GPU faults | ${cfault ? 'C model CPU | ' : ''}svmsim${old ? ' before | svmsim after' : ''} | ns/fault after | ${cfault ? `${old ? 'ratio before | ' : ''}ratio after | counters |` : ''}`,
      `|---|---:|---:|${cfault ? '---:|' : ''}---:|${old ? '---:|' : ''}---:|${cfault ? `${old ? '---:|' : ''}---:|---|` : ''}`,
    );
    for (const n of sizes) {
      for (const pattern of patterns) {
        const f = genTrace(pattern, n);
        const c = cfault ? JSON.parse(execFileSync(cfault, [f], { encoding: 'utf8' })) : undefined;
        const model = async (worker) => {
          const r = await proc(worker, ['model', f], { stdout: true, nodeArgs: ['--max-old-space-size=8192'] });
          return r.code === 0 ? JSON.parse(r.out.trim().split('\n').pop()) : { error: failed(r) };
        };
        const before = old ? await model(old.worker) : undefined;
        const after = await model(NEW_WORKER);
        const cMs = c ? c.model_cpu_s * 1000 : undefined;
        const same =
          c &&
          after.svm_pagefault_count === c.svm_pagefault_count &&
          after.svm_device_copy_kb === c.svm_device_copy_kb &&
          after.svm_cpu_copy_kb === c.svm_cpu_copy_kb
            ? 'same'
            : 'DIFFER';
        const ms = (m) => (m === undefined ? 'n/a' : (m.error ?? `${m.modelCpuMs.toFixed(0)} ms`));
        const ratio = (m) => (m?.modelCpuMs !== undefined && cMs ? `${(m.modelCpuMs / cMs).toFixed(1)}x` : 'n/a');
        out.push(
          `| ${pattern} | ${fmt(n)} | ${after.svm_pagefault_count ?? c?.svm_pagefault_count ?? '?'} | ${c ? `${cMs.toFixed(0)} ms | ` : ''}${old ? `${ms(before)} | ` : ''}${ms(after)} | ${after.nsPerFault?.toFixed(0) ?? 'n/a'} | ${c ? `${old ? `${ratio(before)} | ` : ''}**${ratio(after)}** | ${same} |` : ''}`,
        );
        drop(f);
        log(
          `floor ${pattern} ${fmt(n)}: C ${cMs?.toFixed(0) ?? '-'} ms, before ${ms(before)}, after ${ms(after)} (${ratio(after)})`,
        );
      }
    }
    out.push('');
    if (cfault) rmSync(cfault, { force: true });
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('mixed') && list('SVMSIM_BENCH_MIXED_EVENTS', '1').some((x) => Number(x) > 0)) {
    // Whole-CLI replay of `svmsim gen mixed -n N --seed 42` (CSV and JSONL), before and after
    // interleaved (before, after, before, after, ...: a load change on the shared machine hits
    // both alike), RUNS runs each; medians of CPU and wall, the largest peak RSS; the two
    // outputs compared byte for byte.
    const sizes = list('SVMSIM_BENCH_MIXED_EVENTS', '2000000,10000000').map(Number);
    const encodings = list('SVMSIM_BENCH_MIXED_FORMATS', 'csv,jsonl');
    const RUNS = Number(env.SVMSIM_BENCH_MIXED_RUNS ?? 5);
    const rows = [];
    for (const n of sizes) {
      for (const enc of encodings) {
        const f = path.join(DIR, `mixed-seed42-${n}.${enc}`);
        if (!existsSync(f))
          execFileSync(process.execPath, [NEW, 'gen', 'mixed', '-n', String(n), '--seed', '42', '-o', f]);
        made.add(f);
        const args = ['replay', f, '--format', 'debugfs'];
        const runs = { before: [], after: [] };
        for (let i = 0; i < RUNS; i++) {
          if (old) runs.before.push(await proc(old.cli, args, { stdout: true }));
          runs.after.push(await proc(NEW, args, { stdout: true }));
        }
        const sum = (rs) =>
          rs.every((r) => r.code === 0)
            ? {
                cpuMs: median(rs.map((r) => r.cpuMs)),
                ms: median(rs.map((r) => r.ms)),
                rssMb: Math.max(...rs.map((r) => r.rssMb)),
                cpus: rs.map((r) => (r.cpuMs / 1000).toFixed(2)).sort(),
              }
            : { error: failed(rs.find((r) => r.code !== 0)) };
        const b = old ? sum(runs.before) : undefined;
        const a = sum(runs.after);
        const same = old ? runs.before.every((r) => r.out === runs.after[0].out) : undefined;
        rows.push({ n, enc, b, a, same });
        drop(f);
        log(
          `mixed ${fmt(n)} ${enc}: before ${b?.cpuMs ?? '-'} ms CPU, after ${a.cpuMs ?? a.error} ms CPU (medians of ${RUNS})`,
        );
      }
    }
    const evps = (n, m) => fmt((n / m.cpuMs) * 1000);
    const cell = (n, m) =>
      m.error
        ? `${m.error} | | |`
        : `${(m.cpuMs / 1000).toFixed(2)} s (${m.cpus.join(' ')}) | ${(m.ms / 1000).toFixed(2)} s | ${evps(n, m)} | ${m.rssMb.toFixed(0)} MB`;
    out.push(
      '## Mixed replay throughput (issue 14 §1, issue 12 "mixed 10M >= 2x")',
      '',
      `Whole CLI \`replay TRACE --format debugfs\` of \`svmsim gen mixed -n N --seed 42\` traces; ${RUNS} runs of each version, interleaved; median CPU time (user + system; each run's CPU in brackets), median wall time, events per CPU second, largest peak RSS.${tag}`,
      '',
      '| trace | version | CPU (runs) | wall | events/s (CPU) | peak RSS | output |',
      '|---|---|---:|---:|---:|---:|---|',
    );
    for (const { n, enc, b, a, same } of rows) {
      if (b) out.push(`| ${fmt(n)} ${enc} | before (${old.sha}) | ${cell(n, b)} | |`);
      out.push(
        `| ${fmt(n)} ${enc} | after | ${cell(n, a)} | ${same === undefined ? '' : same ? 'same' : '**differs**'} |`,
      );
      if (b && !b.error && !a.error) out.push(`| | speed-up | **${(b.cpuMs / a.cpuMs).toFixed(2)}x** | | | | |`);
    }
    out.push('');
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('formats')) {
    const sizes = list('SVMSIM_BENCH_FORMAT_SIZES', '2000000,10000000').map(Number);
    const patterns = list('SVMSIM_BENCH_PATTERNS', PATTERNS_ALL.join(','));
    /** Patterns run at the largest size too (default: all); the others only at the smaller sizes. */
    const largePatterns = list('SVMSIM_BENCH_LARGE_PATTERNS', patterns.join(','));
    const sizesOf = (pattern) => (sizes.length > 1 && !largePatterns.includes(pattern) ? sizes.slice(0, -1) : sizes);
    const formats = FORMATS.filter(([name]) =>
      list('SVMSIM_BENCH_FORMATS', FORMATS.map(([x]) => x).join(',')).includes(name),
    );
    /** A baseline run whose smaller size took longer than this (scaled to the larger) is skipped. */
    const BEFORE_MAX_S = Number(env.SVMSIM_BENCH_BEFORE_MAX_S ?? 120);
    const TIMEOUT_S = Number(env.SVMSIM_BENCH_TIMEOUT ?? 1200);
    /** Wall limit of a baseline run (default: the same); a stopped run still reports its peak RSS so far. */
    const BEFORE_TIMEOUT_S = Number(env.SVMSIM_BENCH_BEFORE_TIMEOUT ?? TIMEOUT_S);
    const reportOut = path.join(os.tmpdir(), `svmsim-bench-report-${process.pid}.html`);
    const argsOf = (fmtArgs, f, side) =>
      fmtArgs === null ? ['report', f, '-o', `${reportOut}.${side}`] : ['replay', f, ...fmtArgs];
    const res = new Map(); // `${pattern} ${n} ${format} ${side}` -> result | string
    // Resumable: every finished run is appended to SVMSIM_BENCH_RESUME (JSON lines) and a run
    // already there is not run again (delete the file, or a line, to measure again).
    const RESUME = env.SVMSIM_BENCH_RESUME;
    if (RESUME && existsSync(RESUME))
      for (const line of readFileSync(RESUME, 'utf8').split('\n'))
        if (line.trim()) {
          const { key, r } = JSON.parse(line);
          // A run stopped by the timeout has no rusage: NaN was written as null.
          if (typeof r === 'object') for (const k of ['cpuMs', 'rssMb']) r[k] ??= Number.NaN;
          res.set(key, r);
        }
    const record = (key, r) => {
      res.set(key, r);
      if (RESUME)
        appendFileSync(
          RESUME,
          JSON.stringify({ key, r: typeof r === 'string' ? r : { ...r, out: '', err: '' } }) + '\n',
        );
    };
    // Run-time estimate: CPU µs per event of this tree, per format, measured on this 2-core machine
    // (fault-heavy patterns at 2M, 22:00 on 2026-11-30; mixed-like patterns ~5x cheaper); gen ~0.7 µs.
    const US_PER_EVENT = {
      summary: 3.5,
      table: 9.5,
      'by-range': 17,
      json: 12.5,
      jsonl: 10.5,
      perfetto: 23,
      dmesg: 10,
      report: 6,
    };
    const light = (pattern) => !FAULT_HEAVY.includes(pattern);
    const predictS = (pattern, n, name) => (n * (US_PER_EVENT[name] ?? 10)) / 1e6 / (light(pattern) ? 5 : 1);
    const plan = [];
    for (const pattern of patterns)
      for (const n of sizesOf(pattern))
        for (const [name] of formats)
          for (const side of old ? ['before', 'after'] : ['after'])
            if (!res.has(`${pattern} ${n} ${name} ${side}`))
              plan.push(predictS(pattern, n, name) * (side === 'before' ? 1.5 : 1));
    const planS = plan.reduce((a, b) => a + b, 0);
    const share = Math.min(1, os.cpus().length / Math.max(1, os.loadavg()[0] + JOBS));
    log(
      `formats: ${plan.length} runs to do (${res.size} already in ${RESUME ?? 'no resume file'}), about ${(planS / 60).toFixed(0)} min of CPU; ` +
        `at load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores with ${JOBS} job(s): about ${(planS / 60 / JOBS / share).toFixed(0)} min wall (plus trace generation)`,
    );
    let doneS = 0;
    const t0 = Date.now();
    const skipped = [];
    for (const pattern of patterns) {
      const psizes = sizesOf(pattern);
      for (let si = 0; si < psizes.length; si++) {
        const n = psizes[si];
        const want = formats.flatMap(([name]) =>
          (old ? ['before', 'after'] : ['after']).map((side) => `${pattern} ${n} ${name} ${side}`),
        );
        if (want.every((k) => res.has(k)) || env.SVMSIM_BENCH_TABLE_ONLY === '1') continue;
        const f = genTrace(pattern, n);
        const tasks = [];
        const run = (name, side, cli, fa) => async () => {
          const key = `${pattern} ${n} ${name} ${side}`;
          const r = await proc(cli, argsOf(fa, f, side), {
            timeoutS: side === 'before' ? BEFORE_TIMEOUT_S : TIMEOUT_S,
          });
          record(key, r);
          doneS += predictS(pattern, n, name) * (side === 'before' ? 1.5 : 1);
          const el = (Date.now() - t0) / 1000;
          log(
            `formats ${pattern} ${fmt(n)} ${name} ${side}: ${cell(r)}  [${((doneS / planS) * 100).toFixed(0)} % of the estimate; about ${Math.max(0, ((el / doneS) * (planS - doneS)) / 60).toFixed(0)} min to go]`,
          );
        };
        for (const [name, fa] of formats) {
          if (old && !res.has(`${pattern} ${n} ${name} before`)) {
            const prev = si > 0 ? res.get(`${pattern} ${psizes[si - 1]} ${name} before`) : undefined;
            const predicted =
              prev && typeof prev !== 'string'
                ? prev.code === 0
                  ? (prev.cpuMs / 1000) * (n / psizes[si - 1])
                  : Number.POSITIVE_INFINITY
                : 0;
            if (predicted > BEFORE_MAX_S) {
              record(
                `${pattern} ${n} ${name} before`,
                prev.code === 0 ? `skipped (≈ ${predicted.toFixed(0)} s)` : 'skipped (failed smaller)',
              );
              skipped.push(`${pattern} ${fmt(n)} ${name}`);
            } else tasks.push(run(name, 'before', old.cli, fa));
          }
          if (!res.has(`${pattern} ${n} ${name} after`)) tasks.push(run(name, 'after', NEW, fa));
        }
        await pool(tasks, JOBS);
        drop(f);
      }
    }
    rmSync(`${reportOut}.before`, { force: true });
    rmSync(`${reportOut}.after`, { force: true });
    const big = sizes[sizes.length - 1];
    const small = sizes[0];
    out.push(
      '## Output formats: CPU time and peak RSS (`replay` to /dev/null; `report` to a file)',
      '',
      `Traces: \`svmsim gen PATTERN -n N --size 4G --seed 7\` (oversub with \`--vram 1G\`). Each cell: CPU time (user + system), peak RSS. "summary" is \`--summary\` (the reference for the json/jsonl ratios); "table" prints every event's decisions.${tag} A baseline run predicted (from its smaller size) to take more than ${BEFORE_MAX_S} s CPU is skipped; any run over ${TIMEOUT_S} s wall${BEFORE_TIMEOUT_S !== TIMEOUT_S ? ` (a baseline run: ${BEFORE_TIMEOUT_S} s)` : ''} is stopped, and its cell gives the wall and CPU time and the peak RSS it had reached ("≥"). Target: peak RSS flat in trace length for every format.`,
      '',
      `| pattern | format | ${sizes.map((n) => (old ? `${fmt(n)} before | ${fmt(n)} after` : fmt(n))).join(' | ')} |${sizes.length > 1 ? ` RSS ${fmt(big)} / ${fmt(small)} after |` : ''}`,
      `|---|---|${sizes.map(() => (old ? '---|---|' : '---|')).join('')}${sizes.length > 1 ? '---:|' : ''}`,
    );
    for (const pattern of patterns) {
      for (const [name] of formats) {
        const cells = sizes.flatMap((n) => [
          ...(old ? [cell(res.get(`${pattern} ${n} ${name} before`))] : []),
          cell(res.get(`${pattern} ${n} ${name} after`)),
        ]);
        const a = res.get(`${pattern} ${small} ${name} after`);
        const b = res.get(`${pattern} ${big} ${name} after`);
        const flat = sizes.length > 1 && a?.code === 0 && b?.code === 0 ? `${(b.rssMb / a.rssMb).toFixed(2)}` : '';
        out.push(`| ${pattern} | ${name} | ${cells.join(' | ')} |${sizes.length > 1 ? ` ${flat} |` : ''}`);
      }
    }
    if (skipped.length) out.push('', `Baseline runs skipped (too long): ${skipped.join('; ')}.`);
    // json / jsonl against the summary replay (CPU).
    out.push(
      '',
      '### `--format json` / `jsonl` (with events) vs a summary replay (CPU time)',
      '',
      'Target: ≤ 2× the summary replay of the same version.',
      '',
    );
    out.push(
      `| pattern | events | ${old ? 'json / summary before | ' : ''}json / summary after | ${old ? 'jsonl / summary before | ' : ''}jsonl / summary after |`,
      `|---|---:|${old ? '---:|---:|---:|---:|' : '---:|---:|'}`,
    );
    const ratio = (pattern, n, name, side) => {
      const s = res.get(`${pattern} ${n} summary ${side}`);
      const j = res.get(`${pattern} ${n} ${name} ${side}`);
      return s?.code === 0 && j?.code === 0 ? `${(j.cpuMs / s.cpuMs).toFixed(2)}x` : 'n/a';
    };
    for (const pattern of patterns) {
      for (const n of sizes) {
        out.push(
          `| ${pattern} | ${fmt(n)} | ${old ? `${ratio(pattern, n, 'json', 'before')} | ` : ''}**${ratio(pattern, n, 'json', 'after')}** | ${old ? `${ratio(pattern, n, 'jsonl', 'before')} | ` : ''}**${ratio(pattern, n, 'jsonl', 'after')}** |`,
        );
      }
    }
    out.push('');
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('ranges') && Number(env.SVMSIM_BENCH_RANGES ?? 1) > 0) {
    const n = Number(env.SVMSIM_BENCH_RANGES ?? 1000000);
    out.push(`## Bytes per live range (scripts/range-memory.mjs, ${fmt(n)} ranges)`, '');
    if (!existsSync('scripts/range-memory.mjs')) {
      out.push('scripts/range-memory.mjs is not in this tree: not measured.', '');
    } else {
      const runOne = async (root) => {
        const r = await proc(path.join(root, 'scripts/range-memory.mjs'), ['--ranges', String(n)], { stdout: true });
        return r.code === 0 ? JSON.parse(r.out.trim().split('\n').pop()) : { error: failed(r) };
      };
      let before;
      if (old) {
        writeFileSync(path.join(old.dir, 'scripts/range-memory.mjs'), readFileSync('scripts/range-memory.mjs'));
        before = await runOne(old.dir);
      }
      const after = await runOne('.');
      const row = (what, m) =>
        m.error
          ? `| ${what} | ${m.error} | | | |`
          : `| ${what} | ${m.ranges} | ${m.bytesPerRange} B | ${m.usPerEventFirst10} µs | ${m.usPerEventLast10} µs |`;
      out.push(
        `The model driven directly (no parsing): N one-chunk ranges created by faults, heap after a forced GC per live range, and CPU per event over the first and last 10 % of the events (p2's script, run on both versions).${tag} Target: ≤ 250 B per live range.`,
        '',
        '| version | live ranges | bytes per range | µs/event first 10 % | µs/event last 10 % |',
        '|---|---:|---:|---:|---:|',
        ...(before ? [row(`before (${old.sha})`, before)] : []),
        row('after', after),
        '',
      );
      log(`ranges: before ${before?.bytesPerRange ?? '-'} B, after ${after.bytesPerRange ?? after.error} B per range`);
    }
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('gen') && Number(env.SVMSIM_BENCH_GEN_EVENTS ?? 1) > 0) {
    // Per pattern, RUNS rounds of (gen, then replay of what it wrote) for each version, interleaved
    // (before, after, before, after, ...); medians of CPU, user and system time. Every gen writes a
    // new file (the previous one is removed first, by this script): a gen over an existing file
    // would also pay for freeing the old file's page cache (rename over it), a cost of the file
    // system, not of gen. The two versions' last traces are compared byte for byte.
    const n = Number(env.SVMSIM_BENCH_GEN_EVENTS ?? 1000000);
    const RUNS = Number(env.SVMSIM_BENCH_GEN_RUNS ?? 5);
    const sides = old
      ? [
          ['before', old.cli],
          ['after', NEW],
        ]
      : [['after', NEW]];
    const rows = [];
    for (const pattern of list('SVMSIM_BENCH_GEN_PATTERNS', PATTERNS_ALL.join(','))) {
      const runs = {};
      for (let i = 0; i < RUNS; i++)
        for (const [side, cli] of sides) {
          const f = path.join(DIR, `gen-${pattern}-${side}.csv`);
          rmSync(f, { force: true });
          const g = await proc(cli, ['gen', pattern, '-n', String(n), '--size', '4G', '-o', f]);
          const r = g.code === 0 ? await proc(cli, ['replay', f, '--format', 'debugfs']) : g;
          (runs[side] ??= []).push({ g, r });
        }
      const files = sides.map(([side]) => path.join(DIR, `gen-${pattern}-${side}.csv`));
      const same = old ? readFileSync(files[0]).equals(readFileSync(files[1])) : undefined;
      for (const f of files) rmSync(f, { force: true });
      const sum = (rs) => {
        const bad = rs.find(({ g, r }) => g.code !== 0 || r.code !== 0);
        if (bad) return { error: failed(bad.g.code !== 0 ? bad.g : bad.r) };
        const m = (k, key) => median(rs.map((x) => x[k][key]));
        const ratios = rs.map(({ g, r }) => r.cpuMs / g.cpuMs);
        return {
          gen: { cpu: m('g', 'cpuMs'), user: m('g', 'userMs'), sys: m('g', 'sysMs') },
          replay: { cpu: m('r', 'cpuMs'), user: m('r', 'userMs'), sys: m('r', 'sysMs') },
          lo: Math.min(...ratios),
          hi: Math.max(...ratios),
        };
      };
      const row = { pattern, same, ...Object.fromEntries(sides.map(([side]) => [side, sum(runs[side])])) };
      rows.push(row);
      const brief = (x) =>
        x.error
          ? x.error
          : `gen ${secs(x.gen.cpu)}, replay ${secs(x.replay.cpu)} (${(x.replay.cpu / x.gen.cpu).toFixed(2)}x)`;
      log(`gen ${pattern}: ${sides.map(([side]) => `${side} ${brief(row[side])}`).join('; ')} (medians of ${RUNS})`);
    }
    const t = (m) => `${(m.cpu / 1000).toFixed(2)} (${(m.user / 1000).toFixed(2)} + ${(m.sys / 1000).toFixed(2)})`;
    const cells = (x) =>
      x.error
        ? `${x.error} | | `
        : `${t(x.gen)} | ${t(x.replay)} | ${(x.replay.cpu / x.gen.cpu).toFixed(2)}x (${x.lo.toFixed(2)}-${x.hi.toFixed(2)})`;
    out.push(
      `## gen vs replay of what it writes (${fmt(n)} events, CSV, CPU time)`,
      '',
      `\`svmsim gen PATTERN -n ${fmt(n)} --size 4G -o F.csv\` (a new file each time) and \`svmsim replay F.csv --format debugfs\`; ${RUNS} rounds, the versions interleaved. Cells: median CPU seconds (median user + median system); replay / gen: the ratio of the medians (in brackets the lowest and highest of the rounds' own ratios). Target: gen at least as fast as replaying what it writes (replay / gen ≥ 1).${tag}`,
      '',
      `| pattern | ${old ? 'gen before | replay before | replay / gen before | ' : ''}gen after | replay after | replay / gen after |${old ? ' trace |' : ''}`,
      `|---|${old ? '---:|---:|---:|' : ''}---:|---:|---:|${old ? '---|' : ''}`,
      ...rows.map(
        (r) =>
          `| ${r.pattern} | ${old ? `${cells(r.before)} | ` : ''}${cells(r.after)} |${old ? ` ${r.same ? 'same' : '**differs**'} |` : ''}`,
      ),
      '',
    );
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('startup') && Number(env.SVMSIM_BENCH_STARTS ?? 1) > 0) {
    const STARTS = Number(env.SVMSIM_BENCH_STARTS ?? 20);
    const best = (cmd) =>
      Math.min(
        ...Array.from({ length: STARTS }, () => {
          const t0 = process.hrtime.bigint();
          spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
          return Number(process.hrtime.bigint() - t0) / 1e6;
        }),
      );
    const base = best([process.execPath, '-e', '0']);
    const rows = [['node -e 0', base]];
    if (old) rows.push([`svmsim --version, before (${old.sha})`, best([process.execPath, old.cli, '--version'])]);
    rows.push(['svmsim --version, after', best([process.execPath, NEW, '--version'])]);
    rows.push(['svmsim replay --help, after (loads commander)', best([process.execPath, NEW, 'replay', '--help'])]);
    out.push(
      `## Start-up (best of ${STARTS} wall times)`,
      '',
      'Target: `--version` ≤ 1.5× `node -e 0`.',
      '',
      '| command | time | / `node -e 0` |',
      '|---|---:|---:|',
      ...rows.map(([w, t]) => `| ${w} | ${t.toFixed(0)} ms | ${(t / base).toFixed(2)}x |`),
      '',
    );
    log(`start-up: ${rows.map(([w, t]) => `${w} ${t.toFixed(0)} ms`).join(', ')}`);
  }

  // -------------------------------------------------------------------------------------------
  if (PARTS.includes('compare') && Number(env.SVMSIM_BENCH_COMPARE_EVENTS ?? 1) > 0) {
    const n = Number(env.SVMSIM_BENCH_COMPARE_EVENTS ?? 500000);
    const f = genTrace('sparse', n);
    const grid = ['--kernel', '6.15,6.16,6.17,6.18', '--set', 'gc=eager,lazy'];
    const rows = [];
    const row = (what, r) =>
      rows.push(`| ${what} | ${secs(r.ms)} | ${secs(r.cpuMs)} | ${r.rssMb.toFixed(0)} MB | ${r.code} |`);
    let sep = { ms: 0, cpuMs: 0, rssMb: 0, code: 0 };
    for (const k of ['6.15', '6.16', '6.17', '6.18'])
      for (const gc of ['eager', 'lazy']) {
        const r = await proc(NEW, ['replay', f, '--format', 'debugfs', '--kernel', k, '--set', `gc=${gc}`]);
        sep = {
          ms: sep.ms + r.ms,
          cpuMs: sep.cpuMs + r.cpuMs,
          rssMb: Math.max(sep.rssMb, r.rssMb),
          code: sep.code || r.code,
        };
      }
    row('8 separate `replay --format debugfs`, after (sum; RSS: largest)', sep);
    if (old) row(`compare, before (${old.sha})`, await proc(old.cli, ['compare', f, ...grid]));
    row('compare, after, all cores', await proc(NEW, ['compare', f, ...grid]));
    row('compare, after, `--jobs 1`', await proc(NEW, ['compare', f, ...grid, '--jobs', '1']));
    out.push(
      `## compare: 8 configurations of a ${fmt(n)}-event sparse trace`,
      '',
      `${os.cpus().length} cores. Target: compare's CPU ≤ the separate replays'.${tag}`,
      '',
      '| run | wall | CPU | peak RSS | exit |',
      '|---|---:|---:|---:|---:|',
      ...rows,
      '',
    );
    log('compare done');
  }

  for (const f of [...made]) drop(f);
  const minutes = (Date.now() - started) / 60000;
  const head = [
    '# Second pass (issue 12)',
    '',
    ...(noBefore ? [noBefore, ''] : []),
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`SVMSIM_BENCH_ONLY=second-pass npm run bench\` (parts: ${PARTS.join(', ')}; ${JOBS} process${JOBS === 1 ? '' : 'es'} at a time) in ${minutes.toFixed(0)} min; load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (${os.cpus().length} cores). CPU times are per process (user + system); on a loaded machine they still rise somewhat (shared caches, frequency).`,
    '',
  ];
  return [...head, ...out];
}
