/**
 * DOC: Spilling sorted output to temporary storage (external merge sort)
 *
 * Some reports are not in trace order: `--by-range` groups decisions per range in creation order,
 * `--format perfetto` sorts its events per track by time. Holding every line until the end grows
 * with the trace (millions of events: gigabytes). Instead a report pushes records into an
 * ExternalSorter: records collect in memory up to RUN_BYTES (an estimate of their text size),
 * are then sorted (stably) and appended as one "run" to a temporary store, and at the end the
 * runs are merged (a binary heap over one read cursor per run). Memory is one run plus the read
 * buffers (MERGE_BYTES shared by all cursors), whatever the trace length; a short replay never
 * touches the temporary store. Runs are small (2 MiB of text) on purpose: a run survives young
 * collections before it spills, and smaller runs leave less old garbage, so peak RSS stays low.
 *
 * Ties keep push order: stable sort within a run, then the run index across runs.
 * The temporary store is given by the caller (a file from the CLI, memory by default), so this
 * module does no I/O of its own.
 */

/** Append-only temporary storage read back by byte position. */
export interface TempStore {
  append(text: string): void;
  /** Bytes appended so far. */
  size(): number;
  /** Up to `len` bytes at `pos`. */
  read(pos: number, len: number): Uint8Array;
  dispose(): void;
}

const encoder = new TextEncoder();

/** A TempStore in memory (tests, library use without a file system). */
export function memoryStore(): TempStore {
  const parts: Uint8Array[] = [];
  let total = 0;
  let joined: Uint8Array | undefined;
  return {
    append(text) {
      const b = encoder.encode(text);
      parts.push(b);
      total += b.length;
      joined = undefined;
    },
    size: () => total,
    read(pos, len) {
      if (joined === undefined) {
        joined = new Uint8Array(total);
        let at = 0;
        for (const p of parts) {
          joined.set(p, at);
          at += p.length;
        }
      }
      return joined.subarray(pos, Math.min(total, pos + len));
    },
    dispose() {
      parts.length = 0;
      joined = undefined;
    },
  };
}

/** How records are ordered and stored. Encoded records are one line each (no '\n'). */
export interface SortSpec<R> {
  compare(a: R, b: R): number;
  encode(r: R): string;
  decode(line: string): R;
  /** Approximate bytes of a record (its text), for sizing runs. */
  weight(r: R): number;
  /** Records to leave out when reading runs back (default: keep all). */
  keep?(r: R): boolean;
}

/** Text bytes collected in memory before a run is sorted and spilled. */
export const RUN_BYTES = 2 << 20;
/** Bytes read from the store per refill of a run cursor (at most; see MERGE_BYTES). */
const READ_BYTES = 64 << 10;
/** Read buffers of all run cursors together: with many runs each reads less at a time. */
const MERGE_BYTES = 16 << 20;

/** Reads one spilled run back, record by record. */
class RunCursor<R> {
  private lines: string[] = [];
  private i = 0;
  private pos: number;
  private rest = new Uint8Array(0);
  private readonly decoder = new TextDecoder();
  head: R | undefined;

  constructor(
    private readonly store: TempStore,
    from: number,
    private readonly to: number,
    private readonly spec: SortSpec<R>,
    readonly run: number,
    private readonly readBytes: number,
  ) {
    this.pos = from;
    this.advance();
  }

  private refill(): boolean {
    while (this.pos < this.to) {
      const chunk = this.store.read(this.pos, Math.min(this.readBytes, this.to - this.pos));
      if (chunk.length === 0) break;
      this.pos += chunk.length;
      let buf = chunk;
      if (this.rest.length > 0) {
        buf = new Uint8Array(this.rest.length + chunk.length);
        buf.set(this.rest, 0);
        buf.set(chunk, this.rest.length);
      }
      const nl = buf.lastIndexOf(10);
      if (nl < 0) {
        this.rest = buf.slice();
        continue;
      }
      this.rest = buf.slice(nl + 1);
      this.lines = this.decoder.decode(buf.subarray(0, nl)).split('\n');
      this.i = 0;
      return true;
    }
    return false;
  }

  /** Move `head` to the next kept record (undefined at the end of the run). */
  advance(): void {
    for (;;) {
      if (this.i >= this.lines.length && !this.refill()) {
        this.head = undefined;
        return;
      }
      const r = this.spec.decode(this.lines[this.i++]);
      if (this.spec.keep === undefined || this.spec.keep(r)) {
        this.head = r;
        return;
      }
    }
  }
}

export class ExternalSorter<R> {
  private buf: R[] = [];
  private bytes = 0;
  private store: TempStore | undefined;
  /** [from, to) byte spans of the spilled runs, in order. */
  private readonly runs: [number, number][] = [];

  constructor(
    private readonly spec: SortSpec<R>,
    private readonly newStore: () => TempStore = memoryStore,
    private readonly runBytes = RUN_BYTES,
    private readonly mergeBytes = MERGE_BYTES,
  ) {}

  push(r: R): void {
    this.buf.push(r);
    this.bytes += this.spec.weight(r);
    if (this.bytes >= this.runBytes) this.cut();
  }

  /** End the current run: sort it with the current order and spill it. */
  cut(): void {
    if (this.buf.length === 0) return;
    const sorted = this.buf.sort((a, b) => this.spec.compare(a, b));
    this.buf = [];
    this.bytes = 0;
    this.store ??= this.newStore();
    const from = this.store.size();
    let text = '';
    for (const r of sorted) {
      text += this.spec.encode(r) + '\n';
      if (text.length >= READ_BYTES * 16) {
        this.store.append(text);
        text = '';
      }
    }
    if (text !== '') this.store.append(text);
    this.runs.push([from, this.store.size()]);
  }

  /** Every record pushed, in order; then the temporary store is released. */
  drain(each: (r: R) => void): void {
    const keep = this.spec.keep;
    const cmp = (a: R, b: R) => this.spec.compare(a, b);
    if (this.runs.length === 0) {
      // Everything fitted in memory: no temporary store at all.
      for (const r of this.buf.sort(cmp)) if (keep === undefined || keep(r)) each(r);
      this.buf = [];
      return;
    }
    this.cut();
    const store = this.store!;
    const heap: RunCursor<R>[] = [];
    const less = (a: RunCursor<R>, b: RunCursor<R>) => {
      const c = cmp(a.head!, b.head!);
      return c < 0 || (c === 0 && a.run < b.run);
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) return;
        const m = l + 1 < heap.length && less(heap[l + 1], heap[l]) ? l + 1 : l;
        if (!less(heap[m], heap[i])) return;
        [heap[m], heap[i]] = [heap[i], heap[m]];
        i = m;
      }
    };
    const readBytes = Math.min(
      READ_BYTES,
      Math.max(Math.min(4096, this.mergeBytes), Math.floor(this.mergeBytes / this.runs.length)),
    );
    this.runs.forEach(([from, to], run) => {
      const c = new RunCursor(store, from, to, this.spec, run, readBytes);
      if (c.head !== undefined) heap.push(c);
    });
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    try {
      while (heap.length > 0) {
        const top = heap[0];
        each(top.head!);
        top.advance();
        if (top.head === undefined) {
          const last = heap.pop()!;
          if (heap.length === 0) break;
          heap[0] = last;
        }
        down(0);
      }
    } finally {
      this.dispose();
    }
  }

  /** Release the temporary store (also after a failure). */
  dispose(): void {
    this.store?.dispose();
    this.store = undefined;
    this.runs.length = 0;
    this.buf = [];
  }
}
