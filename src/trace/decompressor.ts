/**
 * decompress.ts (with fflate and fzstd), reached at its first use: a compressed trace. As
 * schemas.ts: in the bundle, scripts/build.mjs gives this module a body that evaluates
 * decompress.ts at the first call (the two libraries build their Huffman and bit tables when
 * evaluated, a few ms of every start-up otherwise); under vitest and tsc, the plain import below.
 */
import * as decompress from './decompress.js';

/** decompress.ts's exports. */
export function decompressor(): typeof decompress {
  return decompress;
}
