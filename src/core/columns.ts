/**
 * DOC: Typed-array columns
 *
 * Where the kernel keeps structs in arrays (VRAM BOs, the thrashing detector's tracks), the model
 * keeps one typed array per field, indexed by a small integer (a slot or a row): page numbers are
 * ≥ 2^31, doubles that an object field or a call would box, and an object per entry is what the
 * garbage collector walks. The columns grow by reallocation, as a kernel array would be krealloc'd.
 */

type Column = Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

/** A column of `cap` entries holding the first `n` of `a` (all of them by default), zeros after. */
export function resized<T extends Column>(a: T, cap: number, n: number = a.length): T {
  const b = new (a.constructor as new (length: number) => T)(cap);
  (b as Float64Array<ArrayBuffer>).set((a as Float64Array<ArrayBuffer>).subarray(0, n));
  return b;
}
