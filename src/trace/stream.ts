/**
 * DOC: Streaming readers for JSONL and CSV
 *
 * Events flow from the file through the model as they are read: the file is read in 1 MiB chunks
 * (synchronously — the replay is CPU-bound and this avoids a promise per chunk), decoded as UTF-8
 * across chunk boundaries, split into lines (LF or CRLF; a last line without a newline counts),
 * and each line is parsed on demand. Memory holds one chunk and the current line, never the trace.
 *
 * The platform header comes first (`{"svmsim":1,"platform":...}` as the first JSONL line), so
 * `TraceReader` reads it on construction and the replay can build the model before the first
 * event. Files and streams are read by the byte-level readers (csv-bytes.ts, jsonl-bytes.ts);
 * the JSONL one reads the common event lines itself and hands this line reader the header and
 * every other line, one at a time (readLine).
 *
 * Every line goes through the fast path (fast.ts) and falls back to the schema path, which
 * produces the same event or the error; `{ fast: false }` takes every line through the schema
 * path (the reference the property tests compare the fast paths with).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Platform } from '../core/platform.js';
import { fastEvent } from './fast.js';
import {
  parseExpectObject,
  type TraceExpect,
  refuseDuplicateKeys,
  newCursor,
  parseEventObject,
  parseJsonlLine,
  parsePlatformObject,
  TraceInputError,
  type EventCursor,
  type ParsedEvent,
} from './parse.js';

const CHUNK = 1 << 20;

/**
 * The longest line a JSONL or CSV trace may have. Event lines are tens of bytes; the limit keeps
 * a file without line ends (binary junk, one huge value) from being gathered into memory, and
 * keeps reading linear: a line is scanned once, and past this it is refused.
 */
export const MAX_LINE_BYTES = 1 << 20;

export function lineTooLong(file: string, line: number): TraceInputError {
  return new TraceInputError(
    file,
    line,
    `line longer than ${MAX_LINE_BYTES >> 20} MiB (the limit for one line of a JSONL or CSV trace; event lines are tens of bytes)`,
  );
}

/** A source of lines; `line` is the 1-based number of the line last returned. */
export interface LineSource {
  next(): string | undefined;
  line: number;
}

/** Lines of a file, read in 1 MiB chunks (LF or CRLF; a last line without newline counts). */
export class FileLines implements LineSource {
  line = 0;
  private readonly input: ByteInput;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private readonly dec = new StringDecoder('utf8');
  private text = '';
  private pos = 0;
  /** Where the search for the next line end resumes (text before it holds none). */
  private scan = 0;
  private eof = false;

  constructor(
    source: ByteSource,
    private readonly counter?: { bytes: number },
    private readonly file = '<input>',
  ) {
    const { input, head } = openSource(source);
    this.input = input;
    if (head !== undefined) {
      this.text = this.dec.write(head);
      if (this.counter) this.counter.bytes += head.length;
    }
  }

  next(): string | undefined {
    if (this.line === 0 && this.pos === 0) this.text = stripBom(this.text);
    for (;;) {
      const nl = this.text.indexOf('\n', Math.max(this.pos, this.scan));
      if (nl >= 0) {
        const end = nl > this.pos && this.text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end - this.pos > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line + 1);
        const l = this.text.slice(this.pos, end);
        this.pos = nl + 1;
        this.line++;
        return l;
      }
      if (this.eof) {
        if (this.pos < this.text.length) {
          let l = this.text.slice(this.pos);
          if (l.endsWith('\r')) l = l.slice(0, -1);
          this.pos = this.text.length;
          this.line++;
          return l;
        }
        return undefined;
      }
      if (this.text.length - this.pos > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line + 1);
      const got = this.input.read(this.buf, 0, CHUNK);
      if (this.counter) this.counter.bytes += got;
      const rest = this.text.slice(this.pos);
      this.pos = 0;
      this.scan = rest.length;
      if (got === 0) {
        this.eof = true;
        this.input.close();
        this.text = rest + this.dec.end();
      } else {
        this.text = rest + this.dec.write(got === CHUNK ? this.buf : this.buf.subarray(0, got));
      }
      if (this.line === 0 && rest.length === 0) this.text = stripBom(this.text);
    }
  }
}

/** Bytes read synchronously (a file descriptor, or a decompressor over one); 0 at the end. */
export interface ByteInput {
  read(buf: Buffer, offset: number, length: number): number;
  close(): void;
}

/** A descriptor as a ByteInput; a read error (EIO, ...) names `file`. */
export function fdInput(fd: number, file?: string): ByteInput {
  return {
    read: (buf, offset, length) => {
      try {
        return readSync(fd, buf, offset, length, null);
      } catch (e) {
        if (file !== undefined && e !== null && typeof e === 'object') (e as { path?: string }).path = file;
        throw e;
      }
    },
    close: () => closeSync(fd),
  };
}

/**
 * Where a streaming reader gets its bytes: a file path, or an open input (a descriptor, or a
 * decompressor) together with the bytes already read from it to sniff the encoding.
 */
export type ByteSource = string | { fd: number; head: Buffer } | { input: ByteInput; head: Buffer };

/** Open a byte source: its input and the bytes to deliver before reading from it. */
export function openSource(src: ByteSource): { input: ByteInput; head: Buffer | undefined } {
  if (typeof src === 'string') return { input: fdInput(openSync(src, 'r')), head: undefined };
  const input = 'input' in src ? src.input : fdInput(src.fd);
  return { input, head: src.head.length > 0 ? src.head : undefined };
}

/** A byte order mark at the start of a text is not part of its first line. */
function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Lines of a string (stdin, tests), same contract as FileLines. */
export class TextLines implements LineSource {
  line = 0;
  private pos = 0;
  private readonly text: string;
  constructor(
    text: string,
    private readonly file = '<input>',
  ) {
    this.text = stripBom(text);
  }

  next(): string | undefined {
    const t = this.text;
    if (this.pos >= t.length) return undefined;
    let nl = t.indexOf('\n', this.pos);
    if (nl < 0) nl = t.length;
    if (nl - this.pos > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line + 1);
    const end = nl > this.pos && t.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const l = t.slice(this.pos, end);
    this.pos = nl + 1;
    this.line++;
    return l;
  }
}

/** Blank or comment line (JSONL also accepts //). */
function isBlankOrComment(line: string, slashes: boolean): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  if (c === 35) return true; // '#'
  if (slashes && c === 47 && line.charCodeAt(1) === 47) return true;
  if (c === 32 || c === 9) return line.trim() === '' || isBlankOrComment(line.trimStart(), slashes);
  return false;
}

/** Colons in a line: one per key, plus any inside string values (then the exact scan decides). */
function colons(line: string): number {
  let n = 0;
  for (let i = line.indexOf(':'); i >= 0; i = line.indexOf(':', i + 1)) n++;
  return n;
}

/**
 * A one-pass event source usable both as an iterable and by pulling with read(); a reader that
 * can reuse one event object also offers readTransient() (each event valid until the next call).
 */
export type EventSource = Iterable<ParsedEvent> & {
  read(): ParsedEvent | undefined;
  readTransient?: () => ParsedEvent | undefined;
};

export function pullSource(
  read: () => ParsedEvent | undefined,
  readTransient?: () => ParsedEvent | undefined,
): EventSource {
  return {
    read,
    readTransient,
    [Symbol.iterator]() {
      return {
        next: (): IteratorResult<ParsedEvent> => {
          const e = read();
          return e === undefined ? { value: undefined, done: true } : { value: e, done: false };
        },
      };
    },
  };
}

/**
 * A pull function over events: straight from a streaming reader when there is one (no iterator
 * result per event), else from the iterator. `transient`: the caller keeps nothing of an event
 * once it pulls the next, so a reader that reuses one event object (readTransient) may.
 */
export function eventPuller(events: Iterable<ParsedEvent>, transient: boolean): () => ParsedEvent | undefined {
  const src = events as Partial<EventSource>;
  if (transient && typeof src.readTransient === 'function') return src.readTransient;
  if (typeof src.read === 'function') return () => src.read!();
  const it = events[Symbol.iterator]();
  return () => it.next().value as ParsedEvent | undefined;
}

/** Reader options: `fast: false` reads every event through the schema path (tests). */
export interface ReadOptions {
  fast?: boolean;
}

/** A JSONL trace read line by line. */
export class TraceReader {
  platform: Partial<Platform> = {};
  /** The trace's expectations (the JSONL header's `expect`), for svmsim test. */
  expect?: TraceExpect;
  private readonly src: LineSource;
  private pending: [string, number] | undefined;
  /** The time carried from event to event (shared with the byte reader of jsonl-bytes.ts). */
  readonly cur: EventCursor = newCursor();
  private readonly fast: boolean;
  private lastLine = 0;
  /** Number of events read so far. */
  count = 0;
  /** When set, a bad line is reported here and skipped instead of ending the read. */
  onError?: (e: TraceInputError) => void;

  constructor(
    lines: LineSource,
    readonly file: string,
    opts: ReadOptions = {},
  ) {
    this.src = lines;
    this.fast = opts.fast ?? true;
    this.readJsonlHeader();
  }

  private next(): [string, number] | undefined {
    const l = this.src.next();
    if (l === undefined) return undefined;
    this.lastLine = this.src.line;
    if (l.indexOf('\u0000') >= 0)
      throw new TraceInputError(this.file, this.src.line, 'binary data (NUL byte) in a text trace');
    return [l, this.src.line];
  }

  /** Whether the reader holds a line it read ahead (the first line after the header, or for want of a header). */
  get holdsLine(): boolean {
    return this.pending !== undefined;
  }

  /** The next line as text, without allocating a tuple (hot path). */
  private nextText(): string | undefined {
    const l = this.src.next();
    if (l === undefined) return undefined;
    this.lastLine = this.src.line;
    return l;
  }

  private readJsonlHeader(): void {
    for (let l = this.next(); l !== undefined; l = this.next()) {
      const [line, n] = l;
      if (isBlankOrComment(line, true)) continue;
      let first: unknown;
      try {
        first = line.trimStart().startsWith('{') ? parseJsonlLine(line, this.file, n) : undefined;
      } catch {
        // not a header: the line is read (and reported) as an event
      }
      if (first !== null && typeof first === 'object' && !Array.isArray(first) && Object.hasOwn(first, 'svmsim')) {
        // The header, whatever the order of its keys.
        const h = first as Record<string, unknown>;
        refuseDuplicateKeys(line, this.file, n);
        for (const k of Object.keys(h)) {
          if (!['svmsim', 'platform', 'comment', 'expect'].includes(k))
            throw new TraceInputError(this.file, n, `unknown header key "${k}"; expected svmsim, platform, expect`);
        }
        if (h.svmsim !== 1)
          throw new TraceInputError(this.file, n, `expected 1, found ${JSON.stringify(h.svmsim)}`, 'svmsim');
        if (h.platform !== undefined) this.platform = parsePlatformObject(h.platform, this.file, n);
        if (h.expect !== undefined) this.expect = parseExpectObject(h.expect, this.file, n);
      } else this.pending = l;
      return;
    }
  }

  /** The next event, or undefined at the end of the trace. */
  read(): ParsedEvent | undefined {
    for (;;) {
      const ev = this.readLine();
      if (ev !== null) return ev;
    }
  }

  /**
   * One line: its event; null for a line without one (blank, a comment, a bad line reported to
   * onError); undefined at the end of the trace. (The byte reader of jsonl-bytes.ts hands this
   * reader one line at a time, and reads the next itself.)
   */
  readLine(): ParsedEvent | null | undefined {
    let line: string | undefined;
    let n: number;
    if (this.pending !== undefined) {
      [line, n] = this.pending;
      this.pending = undefined;
    } else {
      line = this.nextText();
      n = this.src.line;
    }
    if (line === undefined) {
      if (this.count === 0) throw new TraceInputError(this.file, Math.max(1, this.lastLine), 'no events');
      return undefined;
    }
    if (isBlankOrComment(line, true)) return null;
    if (this.onError !== undefined) {
      try {
        const ev = this.parseLine(line, n);
        this.count++;
        return ev;
      } catch (e) {
        if (!(e instanceof TraceInputError)) throw e;
        this.onError(e);
        return null;
      }
    }
    const ev = this.parseLine(line, n);
    this.count++;
    return ev;
  }

  private parseLine(line: string, n: number): ParsedEvent {
    if (line.indexOf('\u0000') >= 0) throw new TraceInputError(this.file, n, 'binary data (NUL byte) in a text trace');
    const obj = parseJsonlLine(line, this.file, n);
    if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
      const o = obj as Record<string, unknown>;
      const keys = Object.keys(o);
      // JSON.parse keeps one of a key given twice: each key has a colon after it, so as many
      // colons as keys means no key is repeated (more: look closer).
      if (!this.fast || colons(line) !== keys.length) refuseDuplicateKeys(line, this.file, n);
      const ev = this.fast ? fastEvent(o, keys, n, this.cur) : undefined;
      if (ev !== undefined) return ev;
    }
    return parseEventObject(obj, this.file, n, this.cur);
  }

  /** The events as an iterable (one pass), which the replay loop can also pull with read(). */
  events(): EventSource {
    return pullSource(() => this.read());
  }
}
