/**
 * DOC: Binary input, found early
 *
 * A trace is text. The first 64 KiB read to sniff the encoding are also checked for what text
 * never holds, so that `svmsim replay - < /dev/zero`, an image or a compressed file is refused at
 * once (exit 2) instead of being read as one endless line:
 * - compressed data svmsim does not decompress (xz, bzip2 magic; gzip and zstd are read, see
 *   decompress.ts): named, with how to feed it decompressed;
 * - a NUL byte: "binary data (NUL byte)" with its line;
 * - mostly control bytes (more than 1 in 8 of the head, tabs and line ends aside).
 * Later lines are checked for NUL bytes as they are read (stream.ts, csv-bytes.ts).
 */

import { TraceInputError } from './parse.js';

const MAGIC: { name: string; bytes: number[]; tool: string }[] = [
  { name: 'gzip', bytes: [0x1f, 0x8b], tool: 'zcat' },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd], tool: 'zstdcat' },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: 'xzcat' },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68], tool: 'bzcat' },
];

/** The compression format whose magic starts `head`, if any. */
export function compressionOf(head: Uint8Array): (typeof MAGIC)[number] | undefined {
  return MAGIC.find(
    (m) => m.bytes.every((b, i) => head[i] === b) && (m.name !== 'bzip2' || (head[3] >= 0x31 && head[3] <= 0x39)),
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control bytes are what it counts (all but TAB, LF, FF, CR, NUL)
const CONTROL = /[\x01-\x08\x0b\x0e-\x1f]/g;

/** Refuse a head that is not text (gzip and zstd are decompressed before this, see decompress.ts). */
export function checkHead(head: Uint8Array, file: string): void {
  const z = compressionOf(head);
  if (z !== undefined) {
    throw new TraceInputError(
      file,
      1,
      `${z.name}-compressed data, expected a text trace; decompress it first, e.g. \`${z.tool} FILE | svmsim replay -\``,
    );
  }
  // The byte scans are native (indexOf, a regular expression over the latin1 text): a loop over
  // the 64 KiB head ran in the interpreter at every start-up (~2-3 ms).
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.length);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    let line = 1;
    for (let i = bytes.indexOf(10); i >= 0 && i < nul; i = bytes.indexOf(10, i + 1)) line++;
    throw new TraceInputError(file, line, 'binary data (NUL byte) in a text trace');
  }
  // control bytes: below 32, except TAB, LF, FF and CR (and NUL, refused above)
  const control = bytes.toString('latin1').match(CONTROL)?.length ?? 0;
  if (control * 8 > head.length)
    throw new TraceInputError(
      file,
      1,
      `binary data (${control} control bytes in the first ${head.length}), expected a text trace`,
    );
}
