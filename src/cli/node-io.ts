/**
 * DOC: Process I/O for the CLI
 *
 * The real-process side of `CliIo`: stdout/stderr, reading a trace from a file or stdin, output
 * files, and colour detection (only on a TTY, never with NO_COLOR).
 *
 * stdout is written synchronously with write(2) on fd 1, so a full pipe holds the replay back
 * (bounded memory) and a problem is known at the write that meets it:
 * - the reader went away (EPIPE, `svmsim replay big.csv | head`): `stdout()` returns false and
 *   every later write is dropped; streaming output sinks (output.ts) then stop the command with
 *   OutputClosed, and the process exits with the command's verdict (0, or diff's 1).
 * - a full device (`> /dev/full`, ENOSPC) or any other write error: thrown, exit 2 naming stdout.
 *
 * Output files (`--output FILE`) never destroy what the user points at (see openOutputFile):
 * - FILE is resolved through symlinks, and the real file is what gets replaced;
 * - a regular file (or a new one) is written to a hidden temporary file beside it and renamed over
 *   it when complete (atomic: FILE is the old file or the whole new one, never partial), keeping
 *   the old file's permissions;
 * - anything else (a device such as /dev/null, a FIFO, a terminal) is opened and written directly:
 *   it is never replaced, and nothing is created beside it;
 * - a directory is refused before anything is written.
 * Temporary files are removed on every error and on SIGINT/SIGTERM/SIGHUP (the handlers exist only
 * while a temporary file does, so Ctrl-C keeps its default meaning otherwise); errors name the
 * user's path, never the temporary file.
 */

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { availableParallelism, constants as osConstants, tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { basename, dirname, join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import type { CliIo } from './main.js';
import type { OutputFile } from './output.js';
import { reviveError, UsageError } from './errors.js';
import type { TempStore } from '../report/spill.js';
import type { CompareJob, CompareJobResult } from './compare.js';

/** Write all of `data` to `fd`, waiting (briefly) while a non-blocking pipe is full. */
function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.2); // a non-blocking pipe is full: wait for the reader
    }
  }
}

/**
 * The descriptor stdout is written through: for a pipe, a fresh blocking descriptor on it (fd 1's
 * shared file description may have been made non-blocking by anything that touched
 * process.stdout, which would turn a full pipe into busy waiting); fd 1 itself otherwise (files,
 * terminals, devices — a file is never reopened, which could truncate it).
 */
function stdoutFd(): number {
  try {
    if (fstatSync(1).isFIFO()) return openSync('/proc/self/fd/1', 'w');
  } catch {
    // not reopenable (a socket, no /proc): write fd 1 and wait out EAGAIN
  }
  return 1;
}

/** Put the user's name for a file on a file-system error (instead of a temporary or resolved path). */
function withPath<E>(e: E, path: string): E {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string') err.path = path;
  return e;
}

/** Read a whole file (or stdin for '-'), naming the user's path in errors. */
function readWhole(path: string): string {
  const fd = path === '-' ? 0 : openOrName(path, 'r');
  try {
    const parts: Buffer[] = [];
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
          continue;
        }
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw withPath(e, path === '-' ? 'standard input' : path);
      }
      if (got === 0) break;
      parts.push(Buffer.from(buf.subarray(0, got)));
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

function openOrName(path: string, flags: string): number {
  try {
    return openSync(path, flags);
  } catch (e) {
    throw withPath(e, path);
  }
}

// ---------------------------------------------------------------------------------------------
// Temporary files and signals

const temps = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(sig: NodeJS.Signals): void {
  for (const t of temps) rmSync(t, { force: true });
  temps.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Die of the signal as the shell expects (exit status 128 + n).
  process.kill(process.pid, sig);
  process.exitCode = 128 + (osConstants.signals[sig] ?? 0);
}

function onExit(): void {
  for (const t of temps) rmSync(t, { force: true });
}

function addTemp(path: string): void {
  if (temps.size === 0) {
    for (const s of SIGNALS) process.on(s, onSignal);
    process.on('exit', onExit);
  }
  temps.add(path);
}

function dropTemp(path: string): void {
  temps.delete(path);
  if (temps.size === 0) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.removeListener('exit', onExit);
  }
}

/** Temporary files alive right now (tests). */
export function liveTemporaryFiles(): string[] {
  return [...temps];
}

// ---------------------------------------------------------------------------------------------
// Output files

/** The file a path finally names: symlinks followed (also dangling ones, whose target is created). */
function resolveLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; ; hops++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return p; // a new file (or a dangling link's target)
      throw withPath(e, path);
    }
    if (!st.isSymbolicLink()) return p;
    if (hops >= 40) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP', path });
    p = resolve(dirname(p), readlinkSync(p));
  }
}

/**
 * Open an output file the safe way (see the DOC above): direct for devices and FIFOs, through a
 * temporary file renamed over the real file otherwise.
 */
export function openOutputFile(path: string): OutputFile {
  const real = resolveLinks(path);
  let st: Stats | undefined;
  try {
    st = statSync(real);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw withPath(e, path);
  }
  if (st?.isDirectory()) throw new UsageError(`${path}: is a directory, expected an output file`);
  if (st !== undefined && !st.isFile()) return directOutput(path, real);

  const tmp = join(dirname(real), `.${basename(real)}.${randomBytes(6).toString('hex')}.tmp`);
  addTemp(tmp);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', st !== undefined ? st.mode & 0o7777 : 0o666);
    if (st !== undefined) chmodSync(tmp, st.mode & 0o7777); // the umask does not narrow a replaced file
  } catch (e) {
    rmSync(tmp, { force: true });
    dropTemp(tmp);
    // The temporary file is created beside the output: a missing directory is the user's.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && real === resolve(path))
      throw new UsageError(`${path}: no such directory: ${dirname(path)}`);
    throw withPath(e, path);
  }
  const abort = () => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
    rmSync(tmp, { force: true });
    dropTemp(tmp);
  };
  const writeBytes = fileWriter(() => fd, abort, path);
  return {
    write: (s) => writeBytes(Buffer.from(s, 'utf8')),
    writeBytes,
    close: async () => {
      try {
        closeSync(fd);
        fd = -1;
        renameSync(tmp, real);
      } catch (e) {
        abort();
        throw withPath(e, path);
      }
      dropTemp(tmp);
    },
    abort,
  };
}

/** Bytes to an output file's descriptor; on a write error `cleanup` runs and the error names the user's path. */
function fileWriter(fd: () => number, cleanup: () => void, path: string): (b: Uint8Array) => void {
  return (b) => {
    try {
      writeAll(fd(), b);
    } catch (e) {
      cleanup();
      throw withPath(e, path);
    }
  };
}

/** A device, FIFO or terminal: written in place, never replaced. */
function directOutput(path: string, real: string): OutputFile {
  let fd = openOrName(real, 'w');
  const close = () => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
  };
  const writeBytes = fileWriter(() => fd, close, path);
  return {
    write: (s) => writeBytes(Buffer.from(s, 'utf8')),
    writeBytes,
    close: async () => close(),
    abort: close,
  };
}

// ---------------------------------------------------------------------------------------------

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
    append(bytes) {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, size + at);
      size += bytes.length;
    },
    size: () => size,
    read: (pos, into) => readSync(fd, into, 0, into.length, pos),
    dispose() {
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

export function nodeIo(): CliIo {
  const tty = isatty(1);
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  let stdoutClosed = false;
  let out: number | undefined;
  const writeStdout = (b: Uint8Array): boolean => {
    if (stdoutClosed) return false;
    try {
      writeAll((out ??= stdoutFd()), b);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
        stdoutClosed = true;
        return false;
      }
      throw withPath(e, 'standard output');
    }
    return true;
  };
  return {
    stdout: (s) => writeStdout(Buffer.from(s, 'utf8')),
    stdoutBytes: (b) => writeStdout(b),
    stderr: (s) => {
      try {
        writeAll(2, Buffer.from(s, 'utf8'));
      } catch {
        // nowhere left to report it
      }
    },
    readText: async (path) => readWhole(path),
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
    stdinFile: () => {
      try {
        const st = fstatSync(0);
        return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
      } catch {
        return undefined;
      }
    },
    writeFileAtomic: async (path, text) => {
      const out = openOutputFile(path);
      out.write(text);
      await out.close();
    },
    openOutput: openOutputFile,
    tempStore: tempFile,
    runCompareJobs,
    colorLevel: tty && !noColor ? 1 : 0,
    progress:
      isatty(2) && !process.env.CI
        ? async (totalBytes) => {
            // (loaded here: only a long replay on a terminal shows a bar)
            const { default: cliProgress } = await import('cli-progress');
            const bar = new cliProgress.SingleBar(
              {
                stream: process.stderr,
                format: 'replay [{bar}] {percentage}% | {events} events | {eta_formatted} left',
                hideCursor: true,
                clearOnComplete: true,
              },
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
