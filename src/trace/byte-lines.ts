/**
 * DOC: Byte lines — the read buffer under the byte-level readers
 *
 * The CSV and JSONL byte readers (csv-bytes.ts, jsonl-bytes.ts) parse events straight from the
 * bytes of the file. Both read it the same way, here: 1 MiB chunks appended to one buffer that
 * keeps the unread tail of the last chunk (a line cut by a chunk boundary is completed by the next
 * read), a 0 sentinel after the data so that every byte scan stops at its end without a bounds
 * test, and lines split at LF (a CR before it is dropped; a last line without newline counts).
 * A line longer than MAX_LINE_BYTES is refused, so a file without line ends is never gathered
 * into memory.
 *
 * The readers extend this class, so the buffer's fields sit on the reader itself and the hot
 * loops read them without an extra indirection.
 */

import type { ParsedEvent } from './parse.js';
import {
  type ByteInput,
  type ByteSource,
  type EventSource,
  lineTooLong,
  MAX_LINE_BYTES,
  openSource,
  pullSource,
} from './stream.js';

/** Bytes read per read() call. */
const CHUNK = 1 << 20;
/**
 * Room kept after a chunk: the sentinel, and room for the readers' 4-byte loads at any position
 * up to 12 bytes past the end of the data. The bytes there are stale and never taken: a load
 * that reaches them either covers the sentinel, which is no digit and no letter of an op, or has
 * them masked off (csv-bytes.ts CanonOp).
 */
const SLACK = 16;

function wordsOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

export abstract class ByteLines {
  /** 1-based number of the line last read. */
  line = 0;
  protected readonly input: ByteInput;
  protected buf: Buffer = Buffer.allocUnsafe(CHUNK * 2);
  /** The whole of buf, for loads of 4 bytes at a time (getInt32(k, true)). */
  protected words: DataView = wordsOf(this.buf);
  /** buf up to the end of the data (for indexOf). */
  protected view: Buffer = this.buf.subarray(0, 0);
  /** Start of the unread data. */
  protected start = 0;
  /** End of the data; buf[end] is the 0 sentinel. */
  protected end = 0;
  protected eof = false;
  /** Bounds [lineStart, lineEnd) of the line nextLine() found, without CR/LF. */
  protected lineStart = 0;
  protected lineEnd = 0;

  constructor(
    source: ByteSource,
    readonly file: string,
    protected readonly counter?: { bytes: number },
  ) {
    const { input, head } = openSource(source);
    this.input = input;
    if (head !== undefined) {
      if (head.length + SLACK > this.buf.length) {
        this.buf = Buffer.allocUnsafe(head.length + CHUNK + SLACK);
        this.words = wordsOf(this.buf);
      }
      head.copy(this.buf, 0);
      this.end = head.length;
      this.buf[this.end] = 0;
      this.view = this.buf.subarray(0, this.end);
      if (this.counter) this.counter.bytes += head.length;
    }
  }

  /** The next event, or undefined at the end of the trace. */
  abstract read(): ParsedEvent | undefined;

  /** The next event in an object that the next call reuses (valid until then), or undefined at the end. */
  abstract readTransient(): ParsedEvent | undefined;

  /** The events as a one-pass iterable that the replay loop can also pull with read(). */
  events(): EventSource {
    return pullSource(() => this.read(), this.transientReader());
  }

  /** The function that reads like readTransient(), for the replay loop (a reader may give a quicker one). */
  protected transientReader(): () => ParsedEvent | undefined {
    return () => this.readTransient();
  }

  /** Read more of the file, keeping the unread tail at the start of the buffer. False at the end of the file. */
  protected fill(): boolean {
    if (this.eof) return false;
    const tail = this.end - this.start;
    if (tail > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line + 1);
    if (tail + CHUNK + SLACK > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, tail + CHUNK + SLACK));
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
      this.words = wordsOf(bigger);
    } else if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = tail;
    // The sentinel after the kept tail, also when nothing more comes (else stale bytes follow it).
    this.buf[tail] = 0;
    this.view = this.buf.subarray(0, tail);
    const got = this.input.read(this.buf, this.end, CHUNK);
    if (this.counter) this.counter.bytes += got;
    if (got === 0) {
      this.eof = true;
      this.input.close();
      return false;
    }
    this.end += got;
    this.buf[this.end] = 0; // sentinel: stops every scan of the byte path at the end of the data
    this.view = this.buf.subarray(0, this.end);
    return true;
  }

  /** The next line's bounds (without CR/LF) in lineStart/lineEnd; false at the end. */
  protected nextLine(): boolean {
    for (;;) {
      const nl = this.start < this.end ? this.view.indexOf(10, this.start) : -1;
      if (nl >= 0) {
        this.lineStart = this.start;
        this.lineEnd = nl > this.start && this.buf[nl - 1] === 13 ? nl - 1 : nl;
        this.start = nl + 1;
        this.line++;
        if (this.lineEnd - this.lineStart > MAX_LINE_BYTES) throw lineTooLong(this.file, this.line);
        return true;
      }
      if (!this.fill()) {
        if (this.start < this.end) {
          this.lineStart = this.start;
          this.lineEnd = this.buf[this.end - 1] === 13 ? this.end - 1 : this.end;
          this.start = this.end;
          this.line++;
          return true;
        }
        return false;
      }
    }
  }
}
