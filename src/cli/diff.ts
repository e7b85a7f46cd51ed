/**
 * DOC: `svmsim diff A.json B.json` — the CI gate
 *
 * Exit 0 when the two replay results agree, 1 when they differ, 2 when either is not a result of
 * `svmsim replay --format json`.
 */

import { diffResults, renderDiff } from '../report/diff.js';
import { TraceInputError } from '../trace/index.js';
import type { CliIo } from './main.js';

export interface DiffOpts {
  format: 'text' | 'json';
}

function load(text: string, file: string) {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? Number(m[1]) : 0;
    const line = text.slice(0, pos).split('\n').length;
    throw new TraceInputError(file, line, `not JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
  const d = doc as Record<string, unknown>;
  if (d === null || typeof d !== 'object' || d.svmsim !== 1 || typeof d.stats !== 'object' || !Array.isArray(d.ranges) || typeof d.platform !== 'object') {
    throw new TraceInputError(file, 1, 'expected a result of `svmsim replay --format json` ({"svmsim":1, "platform", "ranges", "stats", ...})');
  }
  if (d.events !== undefined && !Array.isArray(d.events)) throw new TraceInputError(file, 1, 'field "events" must be an array');
  return d as never;
}

/** Returns the exit code: 0 equal, 1 different. */
export async function runDiff(a: string, b: string, o: DiffOpts, io: CliIo): Promise<number> {
  const da = load(await io.readText(a), a);
  const db = load(await io.readText(b), b);
  const d = diffResults(da, db);
  io.stdout(o.format === 'json' ? JSON.stringify(d, null, 2) + '\n' : renderDiff(d, a, b));
  return d.equal ? 0 : 1;
}
