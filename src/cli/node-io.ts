/**
 * DOC: Process I/O for the CLI
 *
 * The real-process side of `CliIo`: stdout/stderr, reading a trace from a file or stdin, atomic
 * output files, and colour detection (only on a TTY, never with NO_COLOR). A closed pipe
 * (`svmsim replay big.csv | head`) ends the process quietly.
 */

import cliProgress from 'cli-progress';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CliIo } from './main.js';
import type { TempStore } from '../report/spill.js';
import type { CompareJob, CompareJobResult } from './compare.js';
import { reviveError } from './errors.js';

/**
 * Run compare jobs on a pool of worker threads (dist/compare-worker.js), handing out one job at
 * a time in order. On a failure no new job starts; once the running ones end, the error of the
 * lowest-numbered failed job is thrown (the same one whatever the timing).
 */
function runCompareJobs(jobs: CompareJob[], workers?: number): Promise<CompareJobResult[]> {
  const size = Math.max(1, Math.min(workers ?? availableParallelism(), jobs.length));
  const url = new URL('./compare-worker.js', import.meta.url);
  return new Promise((resolve, reject) => {
    const results: CompareJobResult[] = new Array(jobs.length);
    const errors = new Map<number, Error>();
    let next = 0;
    let running = 0;
    const finish = () => {
      if (running > 0 || (next < jobs.length && errors.size === 0)) return;
      if (errors.size > 0) reject(errors.get(Math.min(...errors.keys())));
      else resolve(results);
    };
    for (let w = 0; w < size; w++) {
      const worker = new Worker(url);
      const feed = () => {
        if (next < jobs.length && errors.size === 0) {
          const i = next++;
          running++;
          worker.postMessage({ i, job: jobs[i] });
        } else void worker.terminate();
      };
      worker.on('message', (m: { i: number; result?: CompareJobResult; error?: Record<string, unknown> }) => {
        running--;
        if (m.error !== undefined) errors.set(m.i, reviveError(m.error));
        else results[m.i] = m.result!;
        feed();
        finish();
      });
      worker.on('error', (e) => {
        running--;
        errors.set(-1, e);
        finish();
      });
      feed();
    }
  });
}

/** A temporary file, unlinked at once (nothing left behind, even on a crash), read by position. */
function tempFile(): TempStore {
  const path = join(process.env.TMPDIR || tmpdir(), `svmsim-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  let fd = openSync(path, 'w+', 0o600);
  unlinkSync(path);
  let size = 0;
  return {
    append(text) {
      const b = Buffer.from(text, 'utf8');
      writeSync(fd, b, 0, b.length, size);
      size += b.length;
    },
    size: () => size,
    read(pos, len) {
      const b = Buffer.allocUnsafe(len);
      const n = readSync(fd, b, 0, len, pos);
      return b.subarray(0, n);
    },
    dispose() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function nodeIo(): CliIo {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const tty = process.stdout.isTTY === true;
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    readText: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
    // A fresh descriptor on the same pipe or file, in blocking mode (fd 0 itself may be non-blocking).
    // A socket on stdin cannot be reopened (ENXIO): then stdin is read whole.
    openStdin: () => {
      if (!existsSync('/dev/stdin')) return undefined;
      try {
        return openSync('/dev/stdin', 'r');
      } catch {
        return undefined;
      }
    },
    writeFileAtomic: async (path, text) => {
      const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(tmp, text);
        await rename(tmp, path);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    },
    openOutput: (path) => {
      const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
      let fd = openSync(tmp, 'w');
      const abort = () => {
        if (fd < 0) return;
        closeSync(fd);
        fd = -1;
        rmSync(tmp, { force: true });
      };
      return {
        write: (s) => {
          try {
            writeSync(fd, s);
          } catch (e) {
            abort();
            throw e;
          }
        },
        close: async () => {
          closeSync(fd);
          fd = -1;
          renameSync(tmp, path);
        },
        abort,
      };
    },
    tempStore: tempFile,
    runCompareJobs,
    colorLevel: tty && !noColor ? 1 : 0,
    progress:
      process.stderr.isTTY === true && !process.env.CI
        ? (totalBytes) => {
            const bar = new cliProgress.SingleBar(
              { stream: process.stderr, format: 'replay [{bar}] {percentage}% | {events} events | {eta_formatted} left', hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(totalBytes, 0, { events: 0 });
            return {
              update: (bytes, events) => bar.update(bytes, { events }),
              stop: () => bar.stop(),
            };
          }
        : undefined,
  };
}
