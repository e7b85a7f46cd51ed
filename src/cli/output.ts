/**
 * DOC: Where command output goes
 *
 * stdout, or with --output a file written atomically (temporary file + rename), through a sink
 * that holds the first HOLD_BYTES back so that bad input found early leaves no partial output.
 */

import type { CliIo } from './main.js';

/** An output file being written: complete on close, never there (or the old one kept) after abort. */
export interface OutputFile {
  write: (s: string) => void;
  close: () => Promise<void>;
  abort: () => void;
}

/** Where output goes: FILE (atomically) with --output, else stdout. */
export function outputFor(io: CliIo, path: string | undefined): OutputFile {
  return path !== undefined ? io.openOutput(path) : { write: io.stdout, close: async () => {}, abort: () => {} };
}

/** stdout output held back until this much is ready, so that bad input found early prints nothing. */
const HOLD_BYTES = 4 << 20;
/** After that, output goes out in chunks of this size (fewer, larger writes). */
const CHUNK_BYTES = 64 << 10;

/**
 * A sink that holds output until HOLD_BYTES are ready (or the end), then writes in CHUNK_BYTES
 * pieces. A replay that fails on bad input within its first HOLD_BYTES of output leaves stdout
 * (or the output file) empty; output memory stays bounded on long replays.
 */
export function heldSink(write: (s: string) => void): { sink: (s: string) => void; flush: () => void } {
  let parts: string[] = [];
  let size = 0;
  let limit = HOLD_BYTES;
  const flush = () => {
    if (parts.length > 0) write(parts.length === 1 ? parts[0] : parts.join(''));
    parts = [];
    size = 0;
  };
  return {
    sink: (s) => {
      parts.push(s);
      size += s.length;
      if (size >= limit) {
        flush();
        limit = CHUNK_BYTES;
      }
    },
    flush,
  };
}

