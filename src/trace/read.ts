/**
 * DOC: Opening a trace
 *
 * One entry point per source: `openTrace()` for a file (JSONL and CSV stream; a JSON document is
 * read whole, up to MAX_JSON_BYTES), and `parseTrace()` for text already in memory (stdin, tests).
 * Both give the platform header first and then an iterable of events.
 */

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import type { Platform } from '../core/platform.js';
import {
  checkText,
  MAX_JSON_BYTES,
  parseJsonTrace,
  sniffFormat,
  TraceInputError,
  type ParsedEvent,
  type TraceExpect,
  type TraceFormat,
} from './parse.js';
import { checkHead, compressionOf } from './binary.js';
import { decompressor } from './decompressor.js';
import { fdInput, type ByteInput } from './stream.js';
import { CsvByteReader } from './csv-bytes.js';
import { JsonlByteReader } from './jsonl-bytes.js';
import { TextLines, TraceReader, type ByteSource } from './stream.js';

/** Bytes read from the start of a trace to sniff its encoding. */
const SNIFF_BYTES = 65536;

export interface TraceHandle {
  platform: Partial<Platform>;
  events: Iterable<ParsedEvent>;
  format: TraceFormat;
  /** The trace's expectations (svmsim test), when it declares any. */
  expect?: TraceExpect;
  /** File size and bytes consumed so far, for progress displays. */
  totalBytes: number;
  readonly bytesRead: number;
}

/**
 * Parse a whole trace held in memory, with the readers of files (`fast: false`: every event
 * through the schema path, the reference of the property tests; for JSONL, the line reader of
 * stream.ts over the text, without the byte reader).
 */
export function parseTrace(
  text: string,
  opts: { file: string; format?: TraceFormat; onError?: (e: TraceInputError) => void; fast?: boolean },
): { platform: Partial<Platform>; events: ParsedEvent[]; expect?: TraceExpect } {
  if (text.trim() === '') throw new TraceInputError(opts.file, 1, 'empty trace: no events');
  const format = opts.format ?? sniffFormat(text);
  if (format === 'json') {
    checkText(text, opts.file);
    return parseJsonTrace(text, opts.file, opts.onError);
  }
  const ro = { fast: opts.fast };
  const bytes = () => ({ input: { read: () => 0, close: () => undefined }, head: Buffer.from(text, 'utf8') });
  const r =
    format === 'csv'
      ? new CsvByteReader(bytes(), opts.file, undefined, ro)
      : opts.fast === false
        ? new TraceReader(new TextLines(text, opts.file), opts.file, ro)
        : new JsonlByteReader(bytes(), opts.file);
  r.onError = opts.onError;
  if (opts.onError === undefined) checkText(text, opts.file);
  return { platform: r.platform, events: [...r.events()], ...(r.expect ? { expect: r.expect } : {}) };
}

/**
 * Open a trace file; JSONL and CSV events are read as they are consumed. Anything that is not a
 * regular file (a FIFO, `<(zcat t.gz)`, a character device, /dev/stdin) is read as a stream: its
 * size says nothing.
 */
export function openTrace(
  path: string,
  file: string,
  format: TraceFormat | undefined,
  onError?: (e: TraceInputError) => void,
): TraceHandle {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw Object.assign(e as Error, { path: file });
  }
  if (st.isDirectory()) throw Object.assign(new Error(`${path}: is a directory`), { code: 'EISDIR', path: file });
  if (!st.isFile()) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw Object.assign(e as Error, { path: file });
    }
    return openStream(fd, file, format, onError);
  }
  if (st.size === 0) throw new TraceInputError(file, 1, 'empty trace: no events');
  return openInput(fdInput(openSync(path, 'r'), file), file, format, st.size, onError);
}

/**
 * Open a trace from a stream such as stdin (a pipe: no size, no rewinding). The first 64 KiB are
 * read to sniff the encoding and handed to the streaming reader, which goes on reading the
 * descriptor; a JSON document is read whole, up to MAX_JSON_BYTES.
 */
export function openStream(
  fd: number,
  file: string,
  format: TraceFormat | undefined,
  onError?: (e: TraceInputError) => void,
): TraceHandle {
  return openInput(fdInput(fd, file), file, format, 0, onError);
}

/**
 * The common path of files and streams: read the head, decompress gzip/zstd, refuse binary
 * data, sniff the encoding, then stream JSONL/CSV or read a JSON document whole.
 */
function openInput(
  raw: ByteInput,
  file: string,
  format: TraceFormat | undefined,
  totalBytes: number,
  onError?: (e: TraceInputError) => void,
): TraceHandle {
  let input = raw;
  let head = readUpTo(input, SNIFF_BYTES);
  const z = compressionOf(head);
  if (z?.name === 'gzip' || z?.name === 'zstd') {
    input = decompressor().decompressingInput(raw, head, z.name, (detail) => new TraceInputError(file, 0, detail));
    head = readUpTo(input, SNIFF_BYTES);
    totalBytes = 0; // the decompressed size is unknown
  }
  if (head.length === 0) {
    input.close();
    throw new TraceInputError(file, 1, 'empty trace: no events');
  }
  try {
    checkHead(head, file);
  } catch (e) {
    input.close();
    throw e;
  }
  const fmt = format ?? sniffFormat(head.toString('utf8'));
  if (fmt === 'json') {
    if (totalBytes > MAX_JSON_BYTES) {
      input.close();
      throw jsonTooBig(file);
    }
    const text = readRest(input, head, file);
    const t = parseTrace(text, { file, format: 'json', onError });
    return {
      platform: t.platform,
      events: t.events,
      expect: t.expect,
      format: fmt,
      totalBytes,
      bytesRead: text.length,
    };
  }
  return streamingHandle({ input, head }, file, fmt, totalBytes, onError);
}

/** The rest of a JSON document after its head, refused past MAX_JSON_BYTES; closes the input. */
function readRest(input: ByteInput, head: Buffer, file: string): string {
  try {
    const chunks = [head];
    let size = head.length;
    for (;;) {
      const more = readUpTo(input, 1 << 20);
      if (more.length === 0) break;
      size += more.length;
      if (size > MAX_JSON_BYTES) throw jsonTooBig(file);
      chunks.push(more);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    input.close();
  }
}

/** A JSONL or CSV trace read as its events are consumed (the byte-level readers). */
function streamingHandle(
  source: ByteSource,
  file: string,
  fmt: 'jsonl' | 'csv',
  totalBytes: number,
  onError?: (e: TraceInputError) => void,
): TraceHandle {
  const counter = { bytes: 0 };
  const r = fmt === 'csv' ? new CsvByteReader(source, file, counter) : new JsonlByteReader(source, file, counter);
  r.onError = onError;
  return {
    platform: r.platform,
    expect: r.expect,
    events: r.events(),
    format: fmt,
    totalBytes,
    get bytesRead() {
      return counter.bytes;
    },
  };
}

function jsonTooBig(file: string): TraceInputError {
  return new TraceInputError(
    file,
    1,
    `JSON documents are for small hand-written traces (at most ${MAX_JSON_BYTES >> 20} MiB); convert it to JSONL or CSV, which stream`,
  );
}

/** Up to `max` bytes from an input (fewer only at end of input). */
function readUpTo(input: ByteInput, max: number): Buffer {
  const buf = Buffer.allocUnsafe(max);
  let n = 0;
  while (n < max) {
    const got = input.read(buf, n, max - n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/** sha256 of a file's bytes (hex), read in 1 MiB chunks: identifies the trace a result comes from. */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null))
      h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** sha256 of text as UTF-8 (hex). */
export function sha256Text(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
