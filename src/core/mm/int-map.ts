/**
 * DOC: IntMap — a hash map from non-negative integers to objects, for the fault path's indexes
 *
 * The CPU page table keeps its 2M blocks and drm_gpusvm keeps its notifiers by block index. Both
 * sets churn: a munmap drops a block and the last range of a notifier removes the notifier, and
 * the next fault brings them back. V8's Map leaves a hole per delete and rebuilds its table when
 * the holes fill it, so a set/delete pair of one key costs about ten times a lookup (a table
 * allocated every few cycles). This open-addressing table (linear probing, Fibonacci hashing,
 * backward-shift deletion: no holes, no tombstones) does the pair without allocating.
 *
 * Keys are integers in [0, 2^53) (page and block numbers); -1 marks an empty slot. Iteration order
 * is the table's, not insertion order: every user sorts when order matters.
 */

const EMPTY = -1;
const MIN_CAPACITY = 16;

export class IntMap<V> {
  private keyAt: Float64Array;
  private valAt: (V | undefined)[];
  /** log2 of the capacity subtracted from 32: a hash's top bits pick the slot. */
  private shift: number;
  private mask: number;
  /** Number of keys. */
  size = 0;

  constructor() {
    this.keyAt = new Float64Array(MIN_CAPACITY).fill(EMPTY);
    this.valAt = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
    this.shift = 32 - Math.log2(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
  }

  /** The slot a key hashes to (Fibonacci hashing of both 32-bit halves). */
  private home(k: number): number {
    return Math.imul((k | 0) ^ ((k / 4294967296) | 0), 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding `k`, or -1 - (the empty slot where it would go). */
  private find(k: number): number {
    const keys = this.keyAt;
    const mask = this.mask;
    let i = this.home(k);
    for (;;) {
      const x = keys[i];
      if (x === k) return i;
      if (x === EMPTY) return -1 - i;
      i = (i + 1) & mask;
    }
  }

  get(k: number): V | undefined {
    const i = this.find(k);
    return i >= 0 ? this.valAt[i] : undefined;
  }

  has(k: number): boolean {
    return this.find(k) >= 0;
  }

  set(k: number, v: V): this {
    let i = this.find(k);
    if (i >= 0) {
      this.valAt[i] = v;
      return this;
    }
    if ((this.size + 1) * 2 > this.keyAt.length) {
      this.resize(this.keyAt.length * 2);
      i = this.find(k);
    }
    const j = -1 - i;
    this.keyAt[j] = k;
    this.valAt[j] = v;
    this.size++;
    return this;
  }

  delete(k: number): boolean {
    let i = this.find(k);
    if (i < 0) return false;
    const keys = this.keyAt;
    const vals = this.valAt;
    const mask = this.mask;
    // Backward-shift deletion: move later keys of the probe chain into the gap when their home
    // slot is not between the gap and them (cyclically).
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = keys[j];
      if (x === EMPTY) break;
      const h = this.home(x);
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        keys[i] = x;
        vals[i] = vals[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
    vals[i] = undefined;
    this.size--;
    if (this.size * 8 < keys.length && keys.length > MIN_CAPACITY) this.resize(keys.length / 2);
    return true;
  }

  private resize(capacity: number): void {
    const oldKeys = this.keyAt;
    const oldVals = this.valAt;
    this.keyAt = new Float64Array(capacity).fill(EMPTY);
    this.valAt = new Array<V | undefined>(capacity).fill(undefined);
    this.shift = 32 - Math.log2(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k === EMPTY) continue;
      const j = -1 - this.find(k);
      this.keyAt[j] = k;
      this.valAt[j] = oldVals[i];
    }
  }

  /** The keys, in table order. */
  *keys(): IterableIterator<number> {
    for (let i = 0; i < this.keyAt.length; i++) if (this.keyAt[i] !== EMPTY) yield this.keyAt[i];
  }

  /** The values, in table order. */
  *values(): IterableIterator<V> {
    for (let i = 0; i < this.keyAt.length; i++) if (this.keyAt[i] !== EMPTY) yield this.valAt[i] as V;
  }

  /** [key, value] pairs, in table order. */
  *[Symbol.iterator](): IterableIterator<[number, V]> {
    for (let i = 0; i < this.keyAt.length; i++) if (this.keyAt[i] !== EMPTY) yield [this.keyAt[i], this.valAt[i] as V];
  }
}
