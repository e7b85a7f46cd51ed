/**
 * DOC: Compressed traces, read as they stream
 *
 * Real recordings are stored compressed. A gzip (`.gz`, also multi-member) or zstd (`.zst`)
 * trace — a file, a FIFO or stdin, recognised by its magic bytes, not its name — is decompressed
 * on the fly with fflate / fzstd (pure JavaScript, synchronous streaming): the readers pull
 * decompressed bytes 1 MiB at a time, so memory stays bounded whatever the ratio, and every limit
 * (line length, binary data) applies to the decompressed text. Damaged or truncated compressed
 * data is bad input (exit 2) naming the file.
 */

import { Gunzip } from 'fflate';
import { Decompress } from 'fzstd';
import type { ByteInput } from './stream.js';

export type Compression = 'gzip' | 'zstd';

/**
 * Decompressed bytes of `raw` (whose first bytes, `head`, were already read from it). Damaged
 * data throws `damaged(detail)` (the caller's TraceInputError: this module imports nothing of the
 * trace layer, so that the bundle can load it as a file of its own, scripts/build.mjs LAZY).
 */
export function decompressingInput(
  raw: ByteInput,
  head: Buffer,
  kind: Compression,
  damaged: (detail: string) => Error,
): ByteInput {
  const queue: Uint8Array[] = [];
  let qoff = 0;
  let pending: Buffer | undefined = head;
  let done = false;
  const onData = (chunk: Uint8Array) => {
    if (chunk.length > 0) queue.push(chunk);
  };
  const dec = kind === 'gzip' ? new Gunzip(onData) : new Decompress(onData);
  const inBuf = Buffer.allocUnsafe(1 << 20);
  const push = (data: Uint8Array, final: boolean) => {
    try {
      dec.push(data, final);
    } catch (e) {
      throw damaged(`${kind} data is damaged or truncated (${(e as Error).message})`);
    }
  };
  return {
    read(buf, offset, length) {
      while (queue.length === 0) {
        if (done) return 0;
        if (pending !== undefined) {
          push(Uint8Array.from(pending), false);
          pending = undefined;
          continue;
        }
        const n = raw.read(inBuf, 0, inBuf.length);
        if (n === 0) {
          done = true;
          push(new Uint8Array(0), true);
          continue;
        }
        push(Uint8Array.from(inBuf.subarray(0, n)), false);
      }
      const chunk = queue[0];
      const n = Math.min(length, chunk.length - qoff);
      buf.set(chunk.subarray(qoff, qoff + n), offset);
      qoff += n;
      if (qoff === chunk.length) {
        queue.shift();
        qoff = 0;
      }
      return n;
    },
    close: () => raw.close(),
  };
}
