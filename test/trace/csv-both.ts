/**
 * Test helper: read one CSV text with the byte-level file reader (fast path) and with the schema
 * path alone (`fast: false`), collecting the events (as plain objects) and the error messages of each.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace, parseTrace } from '../../src/trace/index.js';

type Ev = { core: unknown; line: number; addr: bigint; size: bigint; toCore?: () => unknown };
export const plain = (evs: Iterable<Ev>) =>
  [...evs].map((e) => ({ core: e.toCore ? e.toCore() : e.core, line: e.line, addr: e.addr, size: e.size }));

export function readCsvBothWays(
  dir: string,
  text: string,
): { bytes: unknown; whole: unknown; e1: string[]; e2: string[] } {
  const p = join(dir, 'prop.csv');
  writeFileSync(p, text);
  const e1: string[] = [];
  const e2: string[] = [];
  let bytes: unknown = [];
  let whole: unknown = [];
  try {
    bytes = plain(openTrace(p, 'prop.csv', 'csv', (e) => void e1.push(e.message)).events);
  } catch (e) {
    e1.push((e as Error).message);
  }
  try {
    whole = plain(
      parseTrace(text, { file: 'prop.csv', format: 'csv', fast: false, onError: (e) => void e2.push(e.message) })
        .events,
    );
  } catch (e) {
    e2.push((e as Error).message);
  }
  return { bytes, whole, e1, e2 };
}
