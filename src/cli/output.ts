/**
 * DOC: Where command output goes
 *
 * One mechanism for every command: `outputFor(io, --output)` is stdout, or the file (written
 * safely by the process side, node-io.ts: atomically for regular files, in place for devices and
 * FIFOs, through symlinks). `heldSink()` holds the first HOLD_BYTES back so that bad input found
 * early leaves no partial output.
 *
 * When the reader of stdout goes away (`svmsim replay big.csv | head`), the next write through
 * `outputFor()` throws OutputClosed: the command stops at once (no replay to the end for nobody),
 * and main() exits with the verdict the command had reached (0, or diff's 1) — never a failure
 * of its own, never success in place of a verdict.
 *
 * `refuseOutputOverInput()` runs before any command reads: `-o` naming one of the command's input
 * files (also through a symlink or a hard link, or the file on stdin) is refused with exit 2.
 */

import { statSync } from 'node:fs';
import type { CliIo } from './main.js';
import { UsageError } from './errors.js';

/** An output file being written: complete on close, never there (or the old one kept) after abort. */
export interface OutputFile {
  write: (s: string) => void;
  /** UTF-8 bytes, written before the call returns (the caller reuses the buffer); absent: only strings. */
  writeBytes?: (b: Uint8Array) => void;
  close: () => Promise<void>;
  abort: () => void;
}

/** stdout's reader went away: the command stops, the process keeps the verdict it had. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
  constructor() {
    super('standard output closed');
  }
}

/** Where output goes: FILE with --output, else stdout. */
export function outputFor(io: CliIo, path: string | undefined): OutputFile {
  if (path !== undefined) return io.openOutput(path);
  const bytes = io.stdoutBytes;
  return {
    write: (s) => {
      if (io.stdout(s) === false) throw new OutputClosed();
    },
    ...(bytes !== undefined
      ? {
          writeBytes: (b: Uint8Array) => {
            if (bytes(b) === false) throw new OutputClosed();
          },
        }
      : {}),
    close: async () => {},
    abort: () => {},
  };
}

/** Same file (device and inode), or false when either cannot be looked at. */
function sameFile(a: { dev: number; ino: number } | undefined, b: { dev: number; ino: number } | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

function fileId(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuse `--output OUT` when OUT is one of the command's inputs (the trace would be replaced by
 * its own result). `-` stands for stdin, compared through the file redirected to it.
 */
export function refuseOutputOverInput(io: CliIo, output: string, inputs: readonly string[]): void {
  const out = fileId(output);
  if (out === undefined) return;
  for (const input of inputs) {
    const id = input === '-' ? io.stdinFile?.() : fileId(input);
    if (sameFile(out, id)) {
      throw new UsageError(
        `--output ${output}: is the input ${input === '-' ? '(standard input)' : input}; refusing to overwrite it`,
      );
    }
  }
}

/**
 * Let the event loop run (signals such as Ctrl-C, which remove temporary output files, are only
 * delivered there). Long synchronous loops call it every few thousand items.
 */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** stdout output held back until this much is ready, so that bad input found early prints nothing. */
const HOLD_BYTES = 4 << 20;
/** After that, output goes out in chunks of this size (fewer, larger writes). */
const CHUNK_BYTES = 64 << 10;
/** A tail held back longer than this (no record end found) is written anyway. */
const MAX_TAIL = 4 << 20;

/**
 * Where the whole records of an output chunk end: the index after the last one (-1: none in it).
 * Writers hand over chunks cut at their buffer's size, so a chunk may end inside a record (the
 * json/jsonl writers cut theirs at a record end: json-text.ts JsonOut.mark(), one write a chunk).
 */
export type RecordEnd = (chunk: string | Uint8Array) => number;

/** Output whose chunks are whole records already (perfetto's ByteWriter), or written only at the end. */
export const chunkEnd: RecordEnd = (c) => c.length;

/** Line-oriented output (table, jsonl, dmesg, ...): a record is a line. */
export const lineEnd: RecordEnd = (c) => {
  const i = typeof c === 'string' ? c.lastIndexOf('\n') : c.lastIndexOf(10);
  return i < 0 ? -1 : i + 1;
};

/**
 * `--format json` (two-space indent, json-text.ts): a record is an element of a top-level list
 * (an event of "events"), closed by `}` at depth 2, on a line of its own: "    },\n".
 */
const JSON_RECORD = '\n    },\n';
const JSON_RECORD_BYTES = Buffer.from(JSON_RECORD, 'latin1');
export const jsonRecordEnd: RecordEnd = (c) => {
  const i =
    typeof c === 'string'
      ? c.lastIndexOf(JSON_RECORD)
      : Buffer.from(c.buffer, c.byteOffset, c.length).lastIndexOf(JSON_RECORD_BYTES);
  return i < 0 ? -1 : i + JSON_RECORD.length;
};

/**
 * A sink that holds output until HOLD_BYTES are ready (or the end), then writes in CHUNK_BYTES
 * pieces. A replay that fails on bad input within its first HOLD_BYTES of output leaves stdout
 * (or the output file) empty; output memory stays bounded on long replays.
 *
 * Only whole records are written before the end: what follows the last record end of a chunk
 * (`recordEnd`) waits for the next chunk, or for `flush()` at the end. A replay that fails later
 * (bad line 5M lines in: exit 2) leaves stdout ending at a whole record (for jsonl a whole line),
 * never cut at a buffer boundary. The held tail is at most one record.
 *
 * With `writeBytes` (an output that takes bytes), `bytes` takes UTF-8 chunks too (the JSON
 * writers' buffer, json-text.ts): copied while held, then written straight through, in order with
 * the strings.
 */
export function heldSink(
  write: (s: string) => void,
  writeBytes?: (b: Uint8Array) => void,
  recordEnd: RecordEnd = chunkEnd,
): { sink: (s: string) => void; bytes?: (b: Uint8Array) => void; flush: () => void } {
  let parts: (string | Uint8Array)[] = [];
  let size = 0;
  let limit = HOLD_BYTES;
  /** The end of the last chunk written through after its last whole record (a copy). */
  let tail: string | Uint8Array | undefined;
  const out = (p: string | Uint8Array) => (typeof p === 'string' ? write(p) : writeBytes!(p));
  /** Write `p` up to its last record end; keep the rest (the caller may reuse `p`'s buffer). */
  const through = (p: string | Uint8Array) => {
    const cut = recordEnd(p);
    if (cut < 0) {
      tail = tail === undefined ? copy(p) : joined([tail, p]);
      // No record end in MAX_TAIL: not a record format after all; write it all.
      if (tail.length >= MAX_TAIL) {
        out(tail);
        tail = undefined;
      }
      return;
    }
    if (tail !== undefined) out(tail);
    out(cut === p.length ? p : part(p, 0, cut));
    tail = cut === p.length ? undefined : copy(part(p, cut, p.length));
  };
  const joined = (ps: (string | Uint8Array)[]) =>
    ps.every((p) => typeof p === 'string')
      ? ps.join('')
      : Buffer.concat(ps.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  const send = (last: boolean) => {
    if (parts.length === 0) return;
    const p = parts.length === 1 ? parts[0] : joined(parts);
    parts = [];
    size = 0;
    if (last) out(p);
    else through(p);
  };
  const add = (chunk: string | Uint8Array) => {
    // Held strings as UTF-8 bytes when the output takes bytes: a string (a per-event concatenation,
    // many small pieces) held through young collections is promoted, and 4 MiB of them left ~13 MB
    // of dead strings in the old generation (dmesg) and grew the young generation early.
    parts.push(
      limit === HOLD_BYTES && writeBytes !== undefined && typeof chunk === 'string' ? Buffer.from(chunk) : chunk,
    );
    size += chunk.length;
    if (size >= limit) {
      send(false);
      limit = CHUNK_BYTES;
    }
  };
  const flush = () => {
    if (tail !== undefined) out(tail);
    tail = undefined;
    send(true);
  };
  const sink = (s: string) => add(s);
  if (writeBytes === undefined) return { sink, flush };
  return {
    sink,
    bytes: (b) => {
      if (limit === HOLD_BYTES) add(Buffer.from(b));
      else {
        send(false);
        through(b);
      }
    },
    flush,
  };
}

/** p[from, to): a string's slice, or a view of bytes. */
function part(p: string | Uint8Array, from: number, to: number): string | Uint8Array {
  return typeof p === 'string' ? p.slice(from, to) : p.subarray(from, to);
}

/** A copy of bytes (a string is immutable: itself). */
function copy(p: string | Uint8Array): string | Uint8Array {
  return typeof p === 'string' ? p : Buffer.from(p);
}
