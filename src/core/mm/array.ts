/**
 * DOC: Sorted-array edits without Array.prototype.splice
 *
 * The fault path keeps short sorted arrays (CPU VMAs, a notifier's occupied slots and each slot's
 * ranges) and edits one entry at a time: a munmap/mmap cycle or a notifier that comes and goes
 * with its last range does so once per event. splice() is a generic builtin that allocates the
 * array of removed elements on every call; these shift the tail by hand and allocate nothing
 * (push may grow the backing store, as splice would).
 */

/** Insert `v` at index `i` of `a` (0 <= i <= a.length), shifting the tail up. */
export function insertAt<T>(a: T[], i: number, v: T): void {
  let k = a.length;
  a.push(v);
  for (; k > i; k--) a[k] = a[k - 1];
  a[i] = v;
}

/** Remove the entry at index `i` of `a` (0 <= i < a.length), shifting the tail down. */
export function removeAt<T>(a: T[], i: number): void {
  const n = a.length - 1;
  for (let k = i; k < n; k++) a[k] = a[k + 1];
  a.pop();
}
