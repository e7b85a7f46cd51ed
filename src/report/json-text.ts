/**
 * DOC: JSON text without intermediate objects (the `--format json` hot path)
 *
 * `--format json` prints every event as `JSON.stringify(eventJson(...), null, 2)` indented under
 * "events". Building that object (and the decision objects with their 0x page addresses) and then
 * pretty-printing and re-indenting it cost most of a JSON replay. These writers produce the same
 * bytes directly from the event and its decisions: the same key order, the same page-address
 * conversion as decisionJson() (page-valued keys to 0x byte addresses, bigints to numbers,
 * undefined fields left out), JSON.stringify's layout with a two-space step. A property test
 * checks them against the plain path on random traces (test/report/output-paths.test.ts).
 */

import type { EventResult } from '../core/decisions.js';
import type { FinalState } from '../core/simulator.js';
import { hexAddr, hexPage } from './format.js';
import type { EventEcho } from './reporter.js';

/** Keys whose numbers are page indices (printed as 0x byte addresses); as decisionJson(). */
const PAGE_KEYS = new Set(['start', 'end', 'page', 'next', 'at']);

/** Indentation strings by depth (two spaces a level). */
const IND: string[] = Array.from({ length: 16 }, (_, i) => '\n' + ' '.repeat(2 * i));
const ind = (depth: number) => IND[depth] ?? '\n' + ' '.repeat(2 * depth);

const str = (s: string) => JSON.stringify(s);

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** A decision value (decisionJson's conversion) as pretty JSON at `depth`; undefined: left out. */
function value(key: string, v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'number':
      return PAGE_KEYS.has(key) ? `"${hexPage(v)}"` : num(v);
    case 'string':
      return str(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return num(Number(v));
    case 'object': {
      if (v === null) return 'null';
      const inner = ind(depth + 1);
      if (Array.isArray(v)) {
        if (v.length === 0) return '[]';
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i === 0 ? inner : ',' + inner) + (value('', v[i], depth + 1) ?? 'null');
        return s + ind(depth) + ']';
      }
      let s = '';
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        const t = value(k, x, depth + 1);
        if (t === undefined) continue;
        s += (s === '' ? '{' : ',') + inner + `"${k}": ` + t;
      }
      return s === '' ? '{}' : s + ind(depth) + '}';
    }
    default:
      return undefined;
  }
}

/** JSON.stringify(eventJson(echo, res), null, 2) with every line after the first indented by 4. */
export function eventJsonText(echo: EventEcho, res: EventResult): string {
  const i = IND[3];
  let s = `{${i}"seq": ${res.seq},${i}"line": ${echo.line},${i}"t": ${num(echo.t)}`;
  if (echo.pid !== undefined) s += `,${i}"pid": ${num(echo.pid)}`;
  s += `,${i}"op": ${str(res.op)},${i}"addr": "${hexAddr(echo.addr)}"`;
  if (echo.size !== 0n) s += `,${i}"size": "${hexAddr(echo.size)}"`;
  for (const [k, v] of echo.fields) s += `,${i}${str(k)}: ${str(v)}`;
  s += `,${i}"outcome": ${str(res.outcome)}`;
  if (res.errno !== undefined) s += `,${i}"errno": ${str(res.errno)}`;
  if (res.t !== echo.t) s += `,${i}"t_end": ${num(res.t)}`;
  s += `,${i}"decisions": ${value('', res.decisions, 3)}${IND[2]}}`;
  return s;
}

/** The "ranges" array of finalJson() as pretty JSON at depth 1, written in pieces. */
export function rangesJsonText(ranges: FinalState['ranges'], write: (s: string) => void): void {
  if (ranges.length === 0) {
    write('[]');
    return;
  }
  const i = IND[3];
  let s = '[';
  for (let n = 0; n < ranges.length; n++) {
    const r = ranges[n];
    s +=
      `${n === 0 ? '' : ','}${IND[2]}{${r.pid !== undefined ? `${i}"pid": ${num(r.pid)},` : ''}${i}"start": "${hexPage(r.start)}",${i}"end": "${hexPage(r.end)}",` +
      `${i}"size": "${hexAddr(BigInt(r.end - r.start) << 12n)}",${i}"location": ${str(r.location)},${i}"valid": ${r.valid}${IND[2]}}`;
    if (s.length >= 1 << 16) {
      write(s);
      s = '';
    }
  }
  write(s + IND[1] + ']');
}

