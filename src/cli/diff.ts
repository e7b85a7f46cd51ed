/**
 * DOC: `svmsim diff A B` — the CI gate
 *
 * Reads two results of `svmsim replay --format json|jsonl` as streams (src/trace/result.ts),
 * compares them (src/report/diff.ts) and prints what changed. Exit 0 when they agree, 1 when
 * they differ, 2 when either is not a complete result (the message names what is missing).
 */

import { diffResults, type DiffSource } from '../report/diff.js';
import { renderDiff } from '../report/diff-render.js';
import { openResult, parseEventRecord, skipIdenticalEvents, type ResultReader } from '../trace/result.js';
import { EXIT_DIFFERENT, EXIT_OK, UsageError } from './errors.js';
import type { CliIo } from './main.js';
import type { DiffOpts } from './commands.js';

const readers = new WeakMap<DiffSource, ResultReader>();

function source(r: ResultReader): DiffSource {
  const s: DiffSource = {
    file: r.file,
    header: r.header,
    get hasEvents() {
      return r.hasEvents;
    },
    nextEvent: () => r.nextEvent(),
    parseEvent: (b) => parseEventRecord(Buffer.from(b.buffer, b.byteOffset, b.byteLength), r.file, r.recordLine),
    nextRange: () => r.nextRange(),
    tail: () => r.tail(),
    skipIdentical: (other) => {
      const o = readers.get(other);
      return o === undefined ? 0 : skipIdenticalEvents(r, o);
    },
  };
  readers.set(s, r);
  return s;
}

/** Returns the exit code: 0 equal, 1 different. */
export async function runDiff(a: string, b: string, o: DiffOpts, io: CliIo): Promise<number> {
  const maxShown = o.maxShown;
  if (a === '-' || b === '-') throw new UsageError('svmsim diff reads two result files (stdin is not supported)');
  const ra = openResult(a);
  let rb: ResultReader | undefined;
  try {
    rb = openResult(b);
    const d = diffResults(source(ra), source(rb), { ignoreUs: o.ignoreUs, ignore: o.ignore, maxShown });
    const color =
      o.output !== undefined || o.color === false ? 0 : o.color === true ? Math.max(io.colorLevel, 1) : io.colorLevel;
    const text = renderDiff(d, o.format, { color: color as 0 | 1 | 2 | 3, maxShown });
    if (o.output !== undefined) await io.writeFileAtomic(o.output, text);
    else io.stdout(text);
    return d.equal ? EXIT_OK : EXIT_DIFFERENT;
  } finally {
    ra.close();
    rb?.close();
  }
}
