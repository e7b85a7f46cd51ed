/**
 * DOC: JSONL trace writer for imports
 *
 * Writes what an importer produces as an svmsim JSONL trace (docs/trace-format.md): the platform
 * header line, comment lines, then one event per line with a stable key order. Times are made
 * relative to the first event (the capture's own clock base is kept in a comment) and never go
 * backwards: an event older than the previous one is written at the previous time and counted.
 * Output goes out in 1 MiB batches.
 */

import type { ImportedEvent, ImportSink } from './types.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;

export class TraceWriter implements ImportSink {
  private buf = '';
  private base: bigint | undefined;
  private last = 0n;
  private headerDone = false;
  events = 0;
  clamped = 0;
  readonly notes: string[] = [];

  constructor(
    private readonly write: (s: string) => void,
    private readonly source: string,
  ) {}

  header(platform: Record<string, string>, comments: string[]): void {
    if (this.headerDone) throw new Error('TraceWriter.header called twice');
    this.headerDone = true;
    this.buf += `${JSON.stringify({ svmsim: 1, platform })}\n`;
    this.buf += `# svmsim import of ${this.source}\n`;
    for (const c of comments) this.buf += `# ${c}\n`;
  }

  comment(text: string): void {
    this.buf += `# ${text}\n`;
    this.flushIfFull();
  }

  note(text: string): void {
    this.notes.push(text);
  }

  event(e: ImportedEvent): void {
    if (!this.headerDone) this.header({}, []);
    if (this.base === undefined) {
      this.base = e.t;
      this.buf += `# time 0 = ${e.t} ns of the capture's clock\n`;
    }
    let t = e.t - this.base;
    if (t < this.last) {
      t = this.last;
      this.clamped++;
    }
    this.last = t;
    let s = `{"op":"${e.op}","t":${t <= BigInt(Number.MAX_SAFE_INTEGER) ? t.toString() : `"${t}ns"`},"addr":"${hex(e.addr)}"`;
    if (e.size !== undefined) s += `,"size":"${hex(e.size)}"`;
    if (e.prot !== undefined) s += `,"prot":"${e.prot}"`;
    if (e.kind !== undefined) s += `,"kind":"${e.kind}"`;
    if (e.access !== undefined) s += `,"access":"${e.access}"`;
    if (e.region !== undefined) s += `,"region":"${e.region}"`;
    if (e.comment !== undefined) s += `,"comment":${JSON.stringify(e.comment)}`;
    this.buf += s + '}\n';
    this.events++;
    this.flushIfFull();
  }

  /** Write what is left; returns the notes (with the clamp count, if any). */
  end(): string[] {
    if (!this.headerDone) this.header({}, []);
    this.write(this.buf);
    this.buf = '';
    if (this.clamped > 0)
      this.notes.push(
        `${this.clamped} event${this.clamped === 1 ? '' : 's'} earlier than the one before (outside the reorder window) written at the previous time`,
      );
    return this.notes;
  }

  private flushIfFull(): void {
    if (this.buf.length >= 1 << 20) {
      this.write(this.buf);
      this.buf = '';
    }
  }
}
