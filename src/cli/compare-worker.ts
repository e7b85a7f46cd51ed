/**
 * Worker-thread entry of `svmsim compare` (dist/compare-worker.js): replays the jobs it is sent,
 * one at a time, each from its trace file, and posts back the summary (or the error as data).
 */
import { parentPort } from 'node:worker_threads';
import { runCompareJob, type CompareJob } from './compare.js';
import { serializeError } from './errors.js';

const port = parentPort!;
port.on('message', ({ i, job }: { i: number; job: CompareJob }) => {
  try {
    port.postMessage({ i, result: runCompareJob(job) });
  } catch (e) {
    port.postMessage({ i, error: serializeError(e) });
  }
});
