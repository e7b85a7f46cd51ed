/**
 * The example traces and their three encodings (JSON document, JSONL, CSV), for tests that must
 * cover every encoding (determinism, the fuzzer).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { echoFields } from '../src/replay/replay.js';
import { platformJson } from '../src/report/reporter.js';
import { parseTrace, type ParsedEvent } from '../src/trace/index.js';

export function traceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? traceFiles(p) : /\.(json|jsonl|csv)$/.test(f) ? [p] : [];
  });
}

const hex = (x: bigint) => '0x' + x.toString(16);

/** The fields of an event as the trace would spell them. */
function fields(e: ParsedEvent): Record<string, string> {
  const o: Record<string, string> = { t: String(e.core.t), op: e.core.op, addr: hex(e.addr) };
  if (e.size !== 0n || ['mmap', 'munmap', 'mprotect', 'madvise', 'xe_prefetch', 'xe_madvise'].includes(e.core.op))
    o.size = hex(e.size);
  for (const [k, v] of echoFields(e.core)) o[k] = v;
  if (e.core.pid !== undefined) o.pid = String(e.core.pid);
  return o;
}

export function encodings(text: string, file: string) {
  const t = parseTrace(text, { file });
  // The trace's own header knobs, spelled as in traces (platformJson maps fields to knob names).
  const header = Object.fromEntries(
    Object.entries(platformJson(t.platform as never)).filter(([, v]) => v !== undefined),
  );
  const evs = t.events.map(fields);
  const cols = ['t', 'pid', 'op', 'addr', 'size', 'prot', 'kind', 'advice', 'access', 'region', 'preferred', 'atomic'];
  const json = JSON.stringify({ svmsim: 1, platform: header, events: evs }, null, 1);
  const jsonl =
    [JSON.stringify({ svmsim: 1, platform: header }), ...evs.map((e) => JSON.stringify(e))].join('\n') + '\n';
  const csv =
    `#! platform ${Object.entries(header)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n` +
    cols.join(',') +
    '\n' +
    evs.map((e) => cols.map((c) => e[c] ?? '').join(',')).join('\n') +
    '\n';
  return { json, jsonl, csv };
}
