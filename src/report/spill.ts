/**
 * DOC: Spilling sorted output to temporary storage (external merge sort, records as bytes)
 *
 * Some reports are not in trace order: `--by-range` groups decisions per range in creation order,
 * `--format perfetto` sorts its events per track by time. Holding every line until the end grows
 * with the trace (millions of events: gigabytes). Instead a report pushes records into an
 * ExternalSorter: a record is a fixed number of numeric sort keys plus a payload text. Records
 * are encoded at once into one reused byte arena (the payload as UTF-8) and a Float64Array of
 * keys, so a record leaves no JavaScript object behind: nothing the report holds survives a young
 * collection, and the old generation does not fill with dead lines (with records held as objects
 * until their run spilled, V8 promoted every one of them and peak RSS rose by 100-150 MB). When
 * the arena holds RUN_BYTES the run is sorted (an index sort over the keys, stable) and appended
 * to a temporary store as binary records (keys as varints or doubles, payload length, payload);
 * at the end the runs are merged (a binary heap over one read cursor per run). Memory is one arena,
 * its key column and the read buffers, whatever the trace length; a short replay never touches
 * the temporary store.
 *
 * The merge's memory does not grow with the number of runs: the read buffers of all cursors share
 * MERGE_BYTES (each reads MERGE_BYTES / runs at a time, at most READ_BYTES), and at most FAN_IN
 * runs are merged at once. With more runs (a trace of ~12M fault-heavy events for perfetto), groups
 * of consecutive runs are first merged into one run each (their records copied as they are, keys
 * and payload, to a new store), just enough groups for the final merge to take at most FAN_IN;
 * with more than FAN_IN² runs this repeats. A run's cursor used to keep 64 KiB of a 16 MiB budget:
 * at 10M atomic events (426 runs) the merge held 16 MiB of read buffers against 5.5 MiB at 2M.
 *
 * Ties keep push order: the index within a run, then the run index across runs (a merged group
 * takes the place of its runs, so the order of runs is kept).
 * The temporary store is given by the caller (a file from the CLI, memory by default), so this
 * module does no I/O of its own.
 */

/** Append-only temporary storage read back by byte position. */
export interface TempStore {
  /** Append these bytes (the caller reuses the buffer afterwards). */
  append(bytes: Uint8Array): void;
  /** Bytes appended so far. */
  size(): number;
  /** Read up to `into.length` bytes at `pos` into `into`; the count read. */
  read(pos: number, into: Uint8Array): number;
  dispose(): void;
}

/** A TempStore in memory (tests, library use without a file system). */
export function memoryStore(): TempStore {
  const parts: Uint8Array[] = [];
  let total = 0;
  let joined: Uint8Array | undefined;
  return {
    append(bytes) {
      parts.push(bytes.slice());
      total += bytes.length;
      joined = undefined;
    },
    size: () => total,
    read(pos, into) {
      if (joined === undefined) {
        joined = new Uint8Array(total);
        let at = 0;
        for (const p of parts) {
          joined.set(p, at);
          at += p.length;
        }
      }
      const n = Math.max(0, Math.min(into.length, total - pos));
      into.set(joined.subarray(pos, pos + n));
      return n;
    },
    dispose() {
      parts.length = 0;
      joined = undefined;
    },
  };
}

/** How records are ordered: `keys` numbers per record, compared by `compare`. */
export interface SortSpec {
  keys: number;
  /** Order of two records from their keys, `ka[ia .. ia + keys)` and `kb[ib .. ib + keys)`. */
  compare(ka: Float64Array, ia: number, kb: Float64Array, ib: number): number;
}

/**
 * A record handed back by ExternalSorter.drain: keys at `keys[at .. at + spec.keys)`, payload
 * bytes `bytes[from .. to)`. Views into the sorter's buffers: valid only during the call.
 */
export type Each = (keys: Float64Array, at: number, bytes: Uint8Array, from: number, to: number) => void;

/** Payload bytes collected in the arena before a run is sorted and spilled. */
export const RUN_BYTES = 4 << 20;
/** Bytes read from the store per refill of a run cursor (at most; see MERGE_BYTES). */
const READ_BYTES = 64 << 10;
/** Read buffers of all run cursors together: with many runs each reads less at a time. */
const MERGE_BYTES = 4 << 20;
/** Runs merged at once (each cursor then reads MERGE_BYTES / FAN_IN = 8 KiB at a time); more are merged in groups first. */
export const FAN_IN = 512;
/** Bytes of the staging buffer a run is written through. */
const WRITE_BYTES = 256 << 10;

const encoder = new TextEncoder();

/**
 * Keys in a spilled run: an integer of at most 2^31 in magnitude (most keys: times, track and
 * history numbers, flags) is a LEB128 varint of twice its zigzag code; any other number is the
 * varint 1 and the 8 bytes of the double (little-endian). Then the payload length (varint) and
 * the payload.
 */
const MAX_HEAD = (k: number) => k * 9 + 5;

function putVarint(out: Uint8Array, n: number, v: number): number {
  while (v >= 128) {
    out[n++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[n++] = v;
  return n;
}

/** Write keys[at .. at + k) and the payload length at out[n]; the next free byte. */
function putHead(out: Uint8Array, view: DataView, n: number, keys: Float64Array, at: number, k: number, len: number) {
  for (let j = 0; j < k; j++) {
    const v = keys[at + j];
    if (Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 && !Object.is(v, -0)) {
      n = putVarint(out, n, (v < 0 ? -2 * v - 1 : 2 * v) * 2);
    } else {
      out[n++] = 1;
      view.setFloat64(n, v, true);
      n += 8;
    }
  }
  return putVarint(out, n, len);
}

/** Reads one spilled run back, record by record. */
class RunCursor {
  private buf: Uint8Array;
  private view: DataView;
  /** Next unread byte in buf, and the end of the valid bytes. */
  private p = 0;
  private lim = 0;
  private pos: number;
  readonly keys: Float64Array;
  /** The current record: its first byte (keys), its payload [from, to). */
  at = 0;
  from = 0;
  to = 0;

  constructor(
    private readonly store: TempStore,
    from: number,
    private readonly end: number,
    readonly run: number,
    readBytes: number,
    private readonly k: number,
  ) {
    this.pos = from;
    // No more than the run holds (a short last run, tests' tiny runs); need() grows it for a big record.
    this.buf = new Uint8Array(Math.max(Math.min(readBytes, end - from), MAX_HEAD(k)));
    this.view = new DataView(this.buf.buffer);
    this.keys = new Float64Array(k);
  }

  /** Make `n` bytes from `p` available, or as many as the run has left; the bytes available. */
  private need(n: number): number {
    if (this.lim - this.p >= n || this.pos >= this.end) return this.lim - this.p;
    const rest = this.lim - this.p;
    if (n > this.buf.length) {
      const b = new Uint8Array(Math.max(n, this.buf.length * 2));
      b.set(this.buf.subarray(this.p, this.lim));
      this.buf = b;
      this.view = new DataView(b.buffer);
    } else this.buf.copyWithin(0, this.p, this.lim);
    this.p = 0;
    this.lim = rest;
    while (this.lim < n && this.pos < this.end) {
      const want = Math.min(this.buf.length - this.lim, this.end - this.pos);
      const got = this.store.read(this.pos, this.buf.subarray(this.lim, this.lim + want));
      if (got === 0) break;
      this.pos += got;
      this.lim += got;
    }
    return this.lim - this.p;
  }

  private varint(): number {
    const b = this.buf;
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = b[this.p++];
      v += (x & 127) * mul;
      if (x < 128) return v;
      mul *= 128;
    }
  }

  /** Move to the next record (false at the end of the run). */
  advance(): boolean {
    const k = this.k;
    if (this.need(MAX_HEAD(k)) === 0) return false;
    const at = this.p;
    for (let i = 0; i < k; i++) {
      const z = this.varint();
      if (z === 1) {
        this.keys[i] = this.view.getFloat64(this.p, true);
        this.p += 8;
      } else {
        const u = z / 2;
        this.keys[i] = u % 2 === 1 ? -(u + 1) / 2 : u / 2;
      }
    }
    const len = this.varint();
    const head = this.p - at;
    this.p = at;
    // The whole record (head and payload) in the buffer: the head may be copied with it.
    if (this.need(head + len) < head + len) throw new Error('spill: a run ends inside a record');
    this.at = this.p;
    this.p += head;
    this.from = this.p;
    this.to = this.p + len;
    this.p = this.to;
    return true;
  }

  get bytes(): Uint8Array {
    return this.buf;
  }
}

/** A spilled run: bytes [from, to) of a store. */
interface Run {
  store: TempStore;
  from: number;
  to: number;
}

export class ExternalSorter {
  /** Keys of the record to push next (`spec.keys` of them): set them, then push(). */
  readonly next: Float64Array;
  private readonly fanIn: number;
  private keys: Float64Array;
  private off: Uint32Array;
  private len: Uint32Array;
  private arena: Uint8Array;
  private used = 0;
  private count = 0;
  private store: TempStore | undefined;
  /** The spilled runs, in order. */
  private runs: Run[] = [];
  /** Every store runs were written to (the first spill, then one per level of group merges). */
  private stores: TempStore[] = [];

  constructor(
    private readonly spec: SortSpec,
    private readonly newStore: () => TempStore = memoryStore,
    private readonly runBytes = RUN_BYTES,
    private readonly mergeBytes = MERGE_BYTES,
    fanIn = FAN_IN,
  ) {
    this.fanIn = Math.max(2, fanIn);
    this.next = new Float64Array(spec.keys);
    const cap = 1024;
    this.keys = new Float64Array(cap * spec.keys);
    this.off = new Uint32Array(cap);
    this.len = new Uint32Array(cap);
    this.arena = new Uint8Array(Math.min(64 << 10, Math.max(runBytes, 256)));
  }

  /** Push a record: the keys set in `next`, and this payload text. */
  push(text: string): void {
    const k = this.spec.keys;
    if (this.count * k === this.keys.length) this.growIndex();
    if (this.used + text.length * 3 > this.arena.length) this.growArena(this.used + text.length * 3);
    const written = encoder.encodeInto(text, this.arena.subarray(this.used)).written;
    this.keys.set(this.next, this.count * k);
    this.off[this.count] = this.used;
    this.len[this.count] = written;
    this.count++;
    this.used += written;
    if (this.used >= this.runBytes) this.cut();
  }

  private growIndex(): void {
    const cap = this.off.length * 2;
    const keys = new Float64Array(cap * this.spec.keys);
    keys.set(this.keys);
    this.keys = keys;
    const off = new Uint32Array(cap);
    off.set(this.off);
    this.off = off;
    const len = new Uint32Array(cap);
    len.set(this.len);
    this.len = len;
  }

  private growArena(need: number): void {
    let cap = this.arena.length * 2;
    while (cap < need) cap *= 2;
    const a = new Uint8Array(cap);
    a.set(this.arena.subarray(0, this.used));
    this.arena = a;
  }

  /** The records in memory, in order (indices). */
  private sorted(): Uint32Array {
    const k = this.spec.keys;
    const keys = this.keys;
    const cmp = this.spec.compare;
    const idx = new Uint32Array(this.count);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    return idx.sort((a, b) => cmp(keys, a * k, keys, b * k) || a - b);
  }

  /** End the current run: sort it with the current order and spill it. */
  cut(): void {
    if (this.count === 0) return;
    const k = this.spec.keys;
    if (this.store === undefined) {
      this.store = this.newStore();
      this.stores.push(this.store);
    }
    const store = this.store;
    const from = store.size();
    const out = new Uint8Array(WRITE_BYTES);
    const view = new DataView(out.buffer);
    let n = 0;
    const flush = () => {
      if (n > 0) store.append(out.subarray(0, n));
      n = 0;
    };
    const head = MAX_HEAD(k);
    for (const i of this.sorted()) {
      const len = this.len[i];
      if (n + head + len > out.length) flush();
      const at = this.off[i];
      if (head + len > out.length) {
        // A record larger than the staging buffer: its head, then its payload directly.
        n = putHead(out, view, 0, this.keys, i * k, k, len);
        flush();
        store.append(this.arena.subarray(at, at + len));
        continue;
      }
      n = putHead(out, view, n, this.keys, i * k, k, len);
      out.set(this.arena.subarray(at, at + len), n);
      n += len;
    }
    flush();
    this.runs.push({ store, from, to: store.size() });
    this.count = 0;
    this.used = 0;
  }

  /** Every record pushed, in order; then the temporary store is released. */
  drain(each: Each): void {
    const k = this.spec.keys;
    if (this.runs.length === 0) {
      // Everything fitted in memory: no temporary store at all.
      for (const i of this.sorted()) each(this.keys, i * k, this.arena, this.off[i], this.off[i] + this.len[i]);
      this.count = 0;
      this.used = 0;
      return;
    }
    this.cut();
    try {
      while (this.runs.length > this.fanIn) this.mergeGroups();
      this.merge(this.runs, (c) => each(c.keys, 0, c.bytes, c.from, c.to));
    } finally {
      this.dispose();
    }
  }

  /**
   * One level of group merges: consecutive runs, FAN_IN at a time, each group merged into one run
   * of a new store, in the group's place; just enough groups for at most FAN_IN runs to be left
   * (fewer when there are more than FAN_IN² runs: then another level follows). Stores no run is
   * left in are released.
   */
  private mergeGroups(): void {
    const runs = this.runs;
    const out = this.newStore();
    this.stores.push(out);
    const next: Run[] = [];
    const staging = new Uint8Array(WRITE_BYTES);
    let n = 0;
    let i = 0;
    // Each group of g runs leaves g - 1 fewer.
    for (let excess = runs.length - this.fanIn; excess > 0; ) {
      const g = Math.min(this.fanIn, excess + 1, runs.length - i);
      if (g < 2) break;
      const from = out.size();
      this.merge(runs.slice(i, i + g), (c) => {
        // The record as it was spilled: keys, payload length, payload.
        const len = c.to - c.at;
        if (n + len > staging.length) {
          out.append(staging.subarray(0, n));
          n = 0;
        }
        if (len > staging.length) out.append(c.bytes.subarray(c.at, c.to));
        else {
          staging.set(c.bytes.subarray(c.at, c.to), n);
          n += len;
        }
      });
      if (n > 0) out.append(staging.subarray(0, n));
      n = 0;
      next.push({ store: out, from, to: out.size() });
      i += g;
      excess -= g - 1;
    }
    for (; i < runs.length; i++) next.push(runs[i]);
    this.runs = next;
    this.stores = this.stores.filter((s) => {
      const used = next.some((r) => r.store === s);
      if (!used) s.dispose();
      return used;
    });
  }

  /** Merge `runs` (a binary heap over one cursor each; ties by run order): `emit` gets each record. */
  private merge(runs: Run[], emit: (c: RunCursor) => void): void {
    const k = this.spec.keys;
    const cmp = this.spec.compare;
    const heap: RunCursor[] = [];
    const less = (a: RunCursor, b: RunCursor) => {
      const c = cmp(a.keys, 0, b.keys, 0);
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
      Math.max(Math.min(4096, this.mergeBytes), Math.floor(this.mergeBytes / runs.length)),
    );
    runs.forEach(({ store, from, to }, run) => {
      const c = new RunCursor(store, from, to, run, readBytes, k);
      if (c.advance()) heap.push(c);
    });
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    while (heap.length > 0) {
      const top = heap[0];
      emit(top);
      if (!top.advance()) {
        const last = heap.pop()!;
        if (heap.length === 0) break;
        heap[0] = last;
      }
      down(0);
    }
  }

  /** Release the temporary stores (also after a failure). */
  dispose(): void {
    for (const s of this.stores) s.dispose();
    this.stores = [];
    this.store = undefined;
    this.runs = [];
    this.count = 0;
    this.used = 0;
  }
}

/**
 * Output text assembled as UTF-8 bytes and handed on in chunks of about 64 KiB (whole records:
 * call `end()` after each), so a drained record costs no intermediate strings; to an output that
 * takes bytes, a chunk costs none either.
 */
export class ByteWriter {
  private buf = new Uint8Array(128 << 10);
  private n = 0;
  private readonly decoder = new TextDecoder();

  /** `out`: where the chunks go as UTF-8 bytes when the output takes them (written or copied before it returns). */
  constructor(
    private readonly write: (s: string) => void,
    private readonly out?: (b: Uint8Array) => void,
  ) {}

  bytes(b: Uint8Array, from: number, to: number): void {
    this.room(to - from);
    this.buf.set(b.subarray(from, to), this.n);
    this.n += to - from;
  }

  text(s: string): void {
    this.room(s.length * 3);
    this.n += encoder.encodeInto(s, this.buf.subarray(this.n)).written;
  }

  /** End of a record: hand the text on once a chunk is full. */
  end(): void {
    if (this.n >= 64 << 10) this.flush();
  }

  flush(): void {
    if (this.n === 0) return;
    // Straight to a bytes output: no string per chunk, decoded and encoded again.
    if (this.out !== undefined) this.out(this.buf.subarray(0, this.n));
    else this.write(this.decoder.decode(this.buf.subarray(0, this.n)));
    this.n = 0;
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.n + k) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }
}
