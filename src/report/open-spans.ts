/**
 * DOC: Open spans in columns (the state of `--by-range` and perfetto per open range)
 *
 * `--by-range` and `--format perfetto` keep one record per GPU SVM range still open, to attach
 * later decisions to it. With hundreds of thousands of live ranges, JS objects (boxed page
 * numbers above 2^31, a Map entry or two, a list per block) cost ~150 B each. Here a record is a
 * slot in Float64Array columns: `start`, `end` and `width` user columns (fixed per index), plus a
 * chain link; slots are found through a Map from 2M block to the first slot of the block's chain
 * (a range never crosses a 2M block; one that does is kept in a short `wide` list, scanned
 * always). Freed slots are reused. About 8 × (3 + width) bytes per slot plus the block's Map entry.
 */

/** Pages per index block (2M). */
const BLOCK = 512;
const blockOf = (page: number) => Math.floor(page / BLOCK);

export class SpanIndex {
  /** User columns, `width` per slot: `cols[slot * width + k]`. */
  cols: Float64Array;
  start: Float64Array;
  end: Float64Array;
  private next: Int32Array;
  private cap = 256;
  private used = 0;
  private freeHead = -1;
  private readonly blocks = new Map<number, number>();
  private readonly wide: number[] = [];
  /** Open slots. */
  size = 0;

  constructor(readonly width: number) {
    this.cols = new Float64Array(this.cap * width);
    this.start = new Float64Array(this.cap);
    this.end = new Float64Array(this.cap);
    this.next = new Int32Array(this.cap);
  }

  /** A new slot for [start, end) (its user columns zeroed). */
  add(start: number, end: number): number {
    let slot = this.freeHead;
    if (slot >= 0) this.freeHead = this.next[slot];
    else {
      if (this.used === this.cap) this.grow();
      slot = this.used++;
    }
    this.start[slot] = start;
    this.end[slot] = end;
    this.cols.fill(0, slot * this.width, (slot + 1) * this.width);
    const b = blockOf(start);
    if (end > start && blockOf(end - 1) !== b) {
      this.wide.push(slot);
      this.next[slot] = -2;
    } else {
      // Pushed at the head: callers do not depend on the order of visits.
      this.next[slot] = this.blocks.get(b) ?? -1;
      this.blocks.set(b, slot);
    }
    this.size++;
    return slot;
  }

  /** Free a slot. */
  remove(slot: number): void {
    if (this.next[slot] === -2) {
      this.wide.splice(this.wide.indexOf(slot), 1);
    } else {
      const b = blockOf(this.start[slot]);
      const head = this.blocks.get(b)!;
      if (head === slot) {
        if (this.next[slot] < 0) this.blocks.delete(b);
        else this.blocks.set(b, this.next[slot]);
      } else {
        let s = head;
        while (this.next[s] !== slot) s = this.next[s];
        this.next[s] = this.next[slot];
      }
    }
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.size--;
  }

  /** Every open slot overlapping [s, e), in block order (each once per call). */
  overlapping(s: number, e: number, each: (slot: number) => void): void {
    if (e <= s) return;
    const first = blockOf(s);
    const last = blockOf(e - 1);
    if (last - first + 1 > this.blocks.size) {
      for (const head of [...this.blocks.values()]) this.chain(head, s, e, each);
    } else {
      for (let b = first; b <= last; b++) {
        const head = this.blocks.get(b);
        if (head !== undefined) this.chain(head, s, e, each);
      }
    }
    for (const slot of this.wide.length === 0 ? this.wide : [...this.wide])
      if (this.start[slot] < e && s < this.end[slot]) each(slot);
  }

  private chain(head: number, s: number, e: number, each: (slot: number) => void): void {
    for (let slot = head; slot >= 0; ) {
      const nx = this.next[slot]; // `each` may remove the slot
      if (this.start[slot] < e && s < this.end[slot]) each(slot);
      slot = nx;
    }
  }

  /** The open slots starting at `start`. */
  at(start: number, each: (slot: number) => void): void {
    const head = this.blocks.get(blockOf(start));
    for (let slot = head ?? -1; slot >= 0; ) {
      const nx = this.next[slot];
      if (this.start[slot] === start) each(slot);
      slot = nx;
    }
    for (const slot of this.wide.length === 0 ? this.wide : [...this.wide]) if (this.start[slot] === start) each(slot);
  }

  /** Every open slot (any order). */
  all(): number[] {
    const out: number[] = [];
    for (const head of this.blocks.values()) for (let slot = head; slot >= 0; slot = this.next[slot]) out.push(slot);
    return out.concat(this.wide);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const f = (a: Float64Array, k: number) => {
      const b = new Float64Array(cap * k);
      b.set(a);
      return b;
    };
    this.cols = f(this.cols, this.width);
    this.start = f(this.start, 1);
    this.end = f(this.end, 1);
    const n = new Int32Array(cap);
    n.set(this.next);
    this.next = n;
    this.cap = cap;
  }
}
