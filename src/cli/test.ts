/**
 * DOC: `svmsim test [PATHS...]` — traces that carry their expectations
 *
 * Finds every trace under PATHS (default traces/, recursively; .json, .jsonl, .ndjson, .csv),
 * replays each with its own platform header and checks its `expect` block
 * (src/report/expect.ts). Traces run in parallel on worker threads (one per core) when svmsim
 * runs from its bundle; in-process otherwise (tests). Exit 0 when every trace passes, 1 when
 * an expectation fails, 2 when a trace or its expect block is bad input.
 *
 * `--update` writes the actual values into the failing expectations, in place (src/trace/
 * expect-edit.ts keeps the rest of the file byte for byte).
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Simulator } from '../core/simulator.js';
import { ExpectChecker, ExpectError } from '../report/expect.js';
import { junitReport, testReport, type TraceTestResult } from '../report/test-report.js';
import { detectFormat, openTrace, TraceInputError } from '../trace/index.js';
import { updateExpect } from '../trace/expect-edit.js';
import { describeFailure, EXIT_BAD_INPUT, EXIT_DIFFERENT, EXIT_INTERNAL, EXIT_OK, UsageError } from './errors.js';
import type { CliIo } from './main.js';
import { refuseOutputOverInput } from './output.js';
import type { TestOpts } from './commands.js';
import { buildPlatform } from '../replay/replay.js';

const TRACE_EXT = /\.(json|jsonl|ndjson|csv)$/i;

/** Trace files under the paths, sorted, recursively. */
function findTraces(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, top: boolean) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const f of readdirSync(p).sort()) if (!f.startsWith('.')) walk(join(p, f), false);
    } else if (top || TRACE_EXT.test(p)) out.push(p);
  };
  for (const p of paths) {
    try {
      walk(p.replace(/\/+$/, '') || '/', true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${p}: no such file or directory`);
      throw e;
    }
  }
  return out;
}

/** Replay one trace and check its expectations. Never throws: bad input becomes status "error". */
function runTraceTest(file: string): TraceTestResult {
  const t0 = performance.now();
  const done = (r: Omit<TraceTestResult, 'file' | 'ms'>): TraceTestResult => ({
    file,
    ms: Math.round(performance.now() - t0),
    ...r,
  });
  try {
    const h = openTrace(file, file, detectFormat(file));
    if (h.expect === undefined) {
      drain(h.events);
      return done({ status: 'none', checks: 0, failures: [] });
    }
    const sim = new Simulator(buildPlatform(h.platform, {}), { record: ExpectChecker.needsRecords(h.expect.value) });
    let checker: ExpectChecker;
    try {
      checker = new ExpectChecker(h.expect.value, sim);
    } catch (e) {
      if (e instanceof ExpectError) throw new TraceInputError(file, h.expect.line, e.message, e.path);
      throw e;
    }
    const src = h.events as Partial<{ read(): { core: never; line: number } | undefined }>;
    const iter = typeof src.read === 'function' ? undefined : h.events[Symbol.iterator]();
    for (let e = iter ? iter.next().value : src.read!(); e !== undefined; e = iter ? iter.next().value : src.read!()) {
      checker.event(sim.step(e.core), e.line);
    }
    const failures = checker.finish();
    return done({
      status: failures.length ? 'fail' : 'pass',
      checks: countChecks(h.expect.value),
      failures,
      expectLine: h.expect.line,
    });
  } catch (e) {
    const f = describeFailure(e);
    return done({
      status: f.code === EXIT_BAD_INPUT ? 'error' : 'crash',
      checks: 0,
      failures: [],
      error: f.message.replace(/^svmsim: /, ''),
    });
  }
}

function drain(events: Iterable<unknown>): void {
  const src = events as Partial<{ read(): unknown }>;
  if (typeof src.read === 'function') while (src.read() !== undefined);
  else for (const _ of events);
}

function countChecks(e: Record<string, unknown>): number {
  let n = 0;
  const walk = (v: unknown, depth: number) => {
    if (depth > 0 && (v === null || typeof v !== 'object' || Array.isArray(v))) n++;
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(e, 0);
  return n;
}

/** The bundle's entry (dist/svmsim.js, beside this module's chunk) when running bundled: a worker thread loads it. */
function bundlePath(): string | undefined {
  const p = fileURLToPath(import.meta.url);
  return p.endsWith('.js') ? fileURLToPath(new URL('./svmsim.js', import.meta.url)) : undefined;
}

/** Run the traces on `jobs` worker threads (in-process when not bundled or one job). */
async function runAll(files: string[], jobs: number): Promise<TraceTestResult[]> {
  const script = bundlePath();
  if (script === undefined || jobs <= 1 || files.length <= 1) return files.map(runTraceTest);
  const results: TraceTestResult[] = new Array(files.length);
  let next = 0;
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(script, { workerData: { svmsimTestWorker: true } });
      const feed = () => {
        if (next >= files.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        const i = next++;
        w.once('message', (r: TraceTestResult) => {
          results[i] = r;
          feed();
        });
        w.postMessage(files[i]);
      };
      w.once('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  return results;
}

/** The worker side: one trace per message. */
export function testWorker(port: {
  on(ev: 'message', f: (file: string) => void): void;
  postMessage(r: unknown): void;
}): void {
  port.on('message', (file) => port.postMessage(runTraceTest(file)));
}

export async function runTest(paths: string[], o: TestOpts, io: CliIo): Promise<number> {
  const files = findTraces(paths.length ? paths : ['traces/']);
  if (files.length === 0) throw new UsageError(`no traces (.json, .jsonl, .csv) under ${paths.join(' ') || 'traces/'}`);
  const jobs = o.jobs ?? availableParallelism();
  if (o.reporter === 'junit' && o.output === undefined) throw new UsageError('--reporter junit needs --output FILE');
  // The traces found under a directory are inputs too (main.ts checks the paths given).
  if (o.output !== undefined) refuseOutputOverInput(io, o.output, files);
  const t0 = performance.now();
  const results = await runAll(files, jobs);
  const ms = Math.round(performance.now() - t0);
  if (o.update) {
    for (const r of results) {
      if (r.status !== 'fail') continue;
      const text = readFileSync(r.file, 'utf8');
      const updates = r.failures
        .filter((f) => f.actualJson !== undefined)
        .map((f) => ({ path: f.path, value: f.actualJson }));
      await io.writeFileAtomic(r.file, updateExpect(text, detectFormat(r.file) ?? 'csv', updates, r.file));
      r.updated = updates.length;
    }
  }
  const color = o.color === false ? 0 : o.color === true ? Math.max(io.colorLevel, 1) : io.colorLevel;
  io.stdout(testReport(results, ms, color as 0 | 1 | 2 | 3));
  if (o.reporter === 'junit') await io.writeFileAtomic(o.output!, junitReport(results, ms));
  if (results.some((r) => r.status === 'crash')) return EXIT_INTERNAL;
  if (results.some((r) => r.status === 'error')) return EXIT_BAD_INPUT;
  if (results.some((r) => r.status === 'fail' && !r.updated)) return EXIT_DIFFERENT;
  return EXIT_OK;
}
