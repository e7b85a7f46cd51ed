/**
 * DOC: Opening a command's trace input — one way for every command
 *
 * `openInput(io, path, ...)` gives a streaming handle for a file, a FIFO or process substitution
 * (`<(zcat t.csv.gz)`), a device, or `-` (stdin, streamed from a fresh blocking descriptor; read
 * whole only when it cannot be reopened, e.g. a socket). Commands never read a trace whole
 * themselves, so every command gets the same limits and messages (src/trace/read.ts).
 */

import {
  openStream,
  openTrace,
  parseTrace,
  type TraceFormat,
  type TraceHandle,
  type TraceInputError,
} from '../trace/index.js';
import type { CliIo } from './main.js';

export async function openInput(
  io: CliIo,
  path: string,
  format: TraceFormat | undefined,
  onError?: (e: TraceInputError) => void,
): Promise<TraceHandle> {
  if (path !== '-') return openTrace(path, path, format, onError);
  const fd = io.openStdin?.();
  if (fd !== undefined) return openStream(fd, '<stdin>', format, onError);
  const t = parseTrace(await io.readText('-'), { file: '<stdin>', format, onError });
  return { ...t, format: format ?? 'csv', totalBytes: 0, bytesRead: 0 };
}
