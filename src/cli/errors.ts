/**
 * DOC: Exit codes — the one place errors become exit statuses
 *
 * - 0: the replay ran (modelled kernel errors such as -EPERM are outcomes, not failures).
 * - 1: `svmsim diff`: the results differ; `svmsim test`: an expectation failed.
 * - 2: bad input or usage: a message with `file:line` and what was expected, never a stack.
 *      Command-line mistakes found by commander (an unknown option, a value outside `.choices()`,
 *      an `argParser` refusing a value) too: commander prints nothing itself (main.ts), its
 *      message comes out here, naming the option and what it expects.
 * - 0 also when stdout's reader goes away (`| head`): the command stops and keeps the verdict it
 *      had reached (diff: 1 when different), see output.ts.
 * - 3: internal error: a broken model invariant (the simulator's WARN_ON) or any unexpected
 *      exception. Always a bug in svmsim.
 */

import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CommanderError } from '@commander-js/extra-typings';
import { ModelInvariantError } from '../core/invariant.js';
import { TraceInputError } from '../trace/errors.js';
import { OutputClosed } from './output.js';
import { ModelMemoryError } from '../replay/errors.js';

export const EXIT_OK = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERNAL = 3;

/** Several bad-input problems (--max-errors > 1, svmsim check). `reported` when already printed. */
export class TraceInputErrors extends Error {
  override readonly name = 'TraceInputErrors';
  constructor(
    readonly errors: TraceInputError[],
    readonly reported = false,
  ) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

/** A usage or file-system problem the user can fix (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Map an error to its exit code and the message for stderr. */
export function describeFailure(err: unknown): { code: number; message: string } {
  if (err instanceof CommanderError) {
    // --help and --version end the parse with exit code 0; help printed for a usage error (a
    // command given without its subcommand) has already said what is wrong.
    if (err.exitCode === 0) return { code: EXIT_OK, message: '' };
    if (err.code === 'commander.help') return { code: EXIT_BAD_INPUT, message: '' };
    return { code: EXIT_BAD_INPUT, message: `svmsim: ${err.message.replace(/^error: /, '')}` };
  }
  if (err instanceof TraceInputErrors) {
    if (err.reported) return { code: EXIT_BAD_INPUT, message: '' };
    const n = err.errors.length;
    return {
      code: EXIT_BAD_INPUT,
      message:
        err.errors.map((e) => `svmsim: ${e.message}`).join('\n') +
        `\nsvmsim: ${n} problem${n === 1 ? '' : 's'} in the trace`,
    };
  }
  if (err instanceof TraceInputError || err instanceof UsageError || err instanceof ModelMemoryError) {
    return { code: EXIT_BAD_INPUT, message: `svmsim: ${err.message}` };
  }
  if (err instanceof ModelInvariantError) {
    const at = err.seq !== undefined ? ` at event #${err.seq}` : '';
    return {
      code: EXIT_INTERNAL,
      message: `svmsim: internal error${at}: model invariant broken: ${err.message}\nThis is a bug in svmsim; please report it with the trace.`,
    };
  }
  if (err instanceof OutputClosed) return { code: EXIT_OK, message: '' };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.message === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
    // File-system errors on user-named paths (ENOENT, EISDIR, EACCES, ENOSPC, ...): bad input.
    return {
      code: EXIT_BAD_INPUT,
      message: `svmsim: ${e.path ?? ''}${e.path ? ': ' : ''}${fsReason(e.code, e.message)}`,
    };
  }
  if (
    err instanceof RangeError &&
    /Map maximum size exceeded|Set maximum size exceeded|Invalid array length|Array buffer allocation failed/.test(
      err.message,
    )
  ) {
    // A hostile trace touching more distinct memory than the model can hold state for.
    return {
      code: EXIT_BAD_INPUT,
      message:
        'svmsim: the trace touches more distinct memory than the model can represent (its per-2M state outgrew a JavaScript Map); see docs/reliability.md "Limits"',
    };
  }
  const stack = err instanceof Error ? sourceMappedStack(err.stack ?? err.message) : String(err);
  return {
    code: EXIT_INTERNAL,
    message: `svmsim: internal error: ${stack}\nThis is a bug in svmsim; please report it with the trace.`,
  };
}

/**
 * An internal error's stack with each frame in the bundle (dist/*.js) followed by its place in
 * src/*.ts, read from the bundle's linked source map (dist/*.js.map) only when such an error
 * happens: no start-up cost, unlike --enable-source-maps. Frames without a map stay as they are.
 */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  return stack.replace(/(file:\/\/[^\s)]+\.js):(\d+):(\d+)/g, (frame, url: string, line: string, col: string) => {
    let map = maps.get(url);
    if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
      } catch {
        map = null;
      }
      maps.set(url, map);
    }
    const entry = map?.findEntry(Number(line) - 1, Number(col) - 1);
    if (entry === undefined || !('originalSource' in entry) || entry.originalSource === undefined) return frame;
    const src = entry.originalSource.replace(/^.*?\/(src|node_modules)\//, '$1/');
    return `${frame} [${src}:${entry.originalLine + 1}:${entry.originalColumn + 1}]`;
  });
}

/** One readable reason per errno (never the bare code). */
const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EEXIST: 'file exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENXIO: 'no such device or address (a socket or a FIFO without a reader?)',
  ENODEV: 'no such device',
  EIO: 'input/output error',
  EPIPE: 'broken pipe',
  EXDEV: 'cross-device link',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EINVAL: 'invalid argument',
};

function fsReason(code: string, message: string): string {
  if (Object.hasOwn(FS_REASONS, code)) return FS_REASONS[code];
  // Node's own wording ("EXYZ: some reason, syscall 'path'") without the syscall and path.
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec(message);
  return m ? `${m[1]} (${code})` : code;
}

/** An error as plain data, to cross a worker-thread boundary (reviveError() on the other side). */
export function serializeError(err: unknown): Record<string, unknown> {
  if (err instanceof TraceInputError)
    return { kind: 'input', file: err.file, line: err.line, detail: err.detail, field: err.field, column: err.column };
  if (err instanceof UsageError) return { kind: 'usage', message: err.message };
  if (err instanceof ModelInvariantError) return { kind: 'invariant', message: err.message, seq: err.seq };
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error) return { kind: 'error', message: e.message, stack: e.stack, code: e.code, path: e.path };
  return { kind: 'error', message: String(err) };
}

/** The error serializeError() described, of the same class (so describeFailure maps it alike). */
export function reviveError(d: Record<string, unknown>): Error {
  switch (d.kind) {
    case 'input':
      return new TraceInputError(
        d.file as string,
        d.line as number,
        d.detail as string,
        d.field as string | undefined,
        d.column as number | undefined,
      );
    case 'usage':
      return new UsageError(d.message as string);
    case 'invariant':
      return Object.assign(new ModelInvariantError(d.message as string), { seq: d.seq as number | undefined });
    default: {
      const e = Object.assign(
        new Error(d.message as string),
        d.code === undefined ? {} : { code: d.code, path: d.path },
      );
      if (typeof d.stack === 'string') e.stack = d.stack;
      return e;
    }
  }
}
