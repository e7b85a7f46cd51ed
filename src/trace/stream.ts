/**
 * DOC: Streaming readers for JSONL and CSV
 *
 * Events flow from the file through the model as they are read: the file is read in 1 MiB chunks
 * (synchronously — the replay is CPU-bound and this avoids a promise per chunk), decoded as UTF-8
 * across chunk boundaries, split into lines (LF or CRLF; a last line without a newline counts),
 * and each line is parsed on demand. Memory holds one chunk and the current line, never the trace.
 *
 * The platform header comes first in both encodings (`{"svmsim":1,"platform":...}` as the first
 * JSONL line, `#! platform k=v` lines before the CSV header row), so `TraceReader` reads it on
 * construction and the replay can build the model before the first event.
 *
 * Every line goes through the fast path (fast.ts) and falls back to the schema path, which
 * produces the same event or the error.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Platform } from '../core/platform.js';
import { fastEvent } from './fast.js';
import {
  csvPlatformLine,
  csvRowObject,
  newCursor,
  parseCsvHeader,
  parseCsvRecord,
  parseEventObject,
  parseJsonlLine,
  parsePlatformObject,
  TraceInputError,
  type EventCursor,
  type ParsedEvent,
} from './parse.js';

const CHUNK = 1 << 20;

/** Lines of a file, read in chunks. Yields [text, 1-based line number]. */
export function* fileLines(path: string, counter?: { bytes: number }): Generator<[string, number]> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    const dec = new StringDecoder('utf8');
    let rest = '';
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, CHUNK, null);
      if (got === 0) break;
      if (counter) counter.bytes += got;
      const text = rest + dec.write(got === CHUNK ? buf : buf.subarray(0, got));
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield [text.slice(start, end), ++n];
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    rest += dec.end();
    if (rest.length > 0) yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++n];
  } finally {
    closeSync(fd);
  }
}

/** Lines of a string (for stdin and tests), same contract as fileLines(). */
export function* textLines(text: string): Generator<[string, number]> {
  let start = 0;
  let n = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    yield [text.slice(start, end), ++n];
    start = nl + 1;
  }
  if (start < text.length) {
    const last = text.slice(start);
    yield [last.endsWith('\r') ? last.slice(0, -1) : last, ++n];
  }
}

function skippable(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#') || t.startsWith('//');
}

/** A JSONL or CSV trace read line by line. */
export class TraceReader {
  platform: Partial<Platform> = {};
  private readonly it: Iterator<[string, number]>;
  private pending: [string, number] | undefined;
  private cols: string[] | undefined;
  private readonly cur: EventCursor = newCursor();
  private lastLine = 0;
  /** Number of events read so far. */
  count = 0;

  constructor(
    lines: Iterable<[string, number]>,
    readonly file: string,
    readonly format: 'jsonl' | 'csv',
  ) {
    this.it = lines[Symbol.iterator]();
    if (format === 'jsonl') this.readJsonlHeader();
    else this.readCsvHeader();
  }

  private next(): [string, number] | undefined {
    const r = this.it.next();
    if (r.done) return undefined;
    this.lastLine = r.value[1];
    if (r.value[0].includes('\u0000')) throw new TraceInputError(this.file, r.value[1], 'binary data (NUL byte) in a text trace');
    return r.value;
  }

  private readJsonlHeader(): void {
    for (let l = this.next(); l !== undefined; l = this.next()) {
      const [line, n] = l;
      if (skippable(line)) continue;
      if (/^\s*\{\s*"svmsim"/.test(line)) {
        const h = parseJsonlLine(line, this.file, n) as Record<string, unknown>;
        for (const k of Object.keys(h)) {
          if (!['svmsim', 'platform', 'comment'].includes(k)) throw new TraceInputError(this.file, n, `unknown header key "${k}"; expected svmsim, platform`);
        }
        if (h.svmsim !== 1) throw new TraceInputError(this.file, n, `expected 1, found ${JSON.stringify(h.svmsim)}`, 'svmsim');
        if (h.platform !== undefined) this.platform = parsePlatformObject(h.platform, this.file, n);
      } else this.pending = l;
      return;
    }
  }

  private readCsvHeader(): void {
    for (let l = this.next(); l !== undefined; l = this.next()) {
      const [line, n] = l;
      if (/^#!\s*platform\b/.test(line)) {
        this.platform = { ...this.platform, ...csvPlatformLine(line, this.file, n) };
        continue;
      }
      if (line.trim() === '' || line.startsWith('#')) continue;
      this.cols = parseCsvHeader(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, this.file, n);
      return;
    }
    throw new TraceInputError(this.file, Math.max(1, this.lastLine), 'no header row (expected column names such as t,op,addr,size)');
  }

  /** The events, parsed as they are read. */
  *events(): Generator<ParsedEvent> {
    const jsonl = this.format === 'jsonl';
    const cols = this.cols ?? [];
    const index = new Map(cols.map((c, i) => [c, i]));
    for (let l = this.pending ?? this.next(); l !== undefined; l = this.next()) {
      this.pending = undefined;
      const [line, n] = l;
      let ev: ParsedEvent | undefined;
      if (jsonl) {
        if (skippable(line)) continue;
        const obj = parseJsonlLine(line, this.file, n);
        if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
          const o = obj as Record<string, string | number | undefined>;
          ev = fastEvent((f) => o[f], Object.keys(o), n, this.cur);
        }
        ev ??= parseEventObject(obj, this.file, n, this.cur);
      } else {
        if (line.trim() === '' || line.startsWith('#')) continue;
        if (!line.includes('"')) {
          const cells = line.split(',');
          if (cells.length === cols.length) {
            const present: string[] = [];
            for (let i = 0; i < cells.length; i++) if (cells[i] !== '') present.push(cols[i]);
            ev = fastEvent(
              (f) => {
                const i = index.get(f);
                const v = i === undefined ? '' : cells[i];
                return v === '' ? undefined : v;
              },
              present,
              n,
              this.cur,
            );
          }
        }
        ev ??= parseEventObject(csvRowObject(cols, parseCsvRecord(line, this.file, n), this.file, n), this.file, n, this.cur);
      }
      this.count++;
      yield ev;
    }
    if (this.count === 0) throw new TraceInputError(this.file, Math.max(1, this.lastLine), 'no events');
  }
}
