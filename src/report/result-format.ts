/**
 * DOC: Result format — the registry behind docs/result-format.md
 *
 * What `svmsim replay --format json|jsonl` writes, as data: the line types of a JSONL result
 * with their fields, and (from src/core/decisions.ts) every decision code with its arguments.
 * `resultFormatDoc()` renders docs/result-format.md from these; a test fails when the file is
 * stale. The readers of `svmsim diff` accept fields not listed here (a newer result), and compare
 * them like any other.
 */

import { DECISIONS, type FieldSpec } from '../core/decisions.js';

interface LineField {
  name: string;
  type: string;
  doc: string;
  optional?: boolean;
}

export interface LineSpec {
  /** The key that identifies the line (its first key). */
  key: string;
  doc: string;
  fields: LineField[];
}

const field = (name: string, type: string, doc: string, optional = false): LineField =>
  optional ? { name, type, doc, optional } : { name, type, doc };

/** The fields of one event record (a JSONL event line; an element of `events` in JSON). */
const EVENT_FIELDS: LineField[] = [
  field('seq', 'integer', '0-based index of the event in the trace'),
  field('line', 'integer', 'line of the event in the trace file'),
  field('t', 'integer', 'trace time of the event, ns'),
  field('op', 'string', 'the trace op (mmap, gpu_read, ...)'),
  field('addr', '0x hex', 'address as given'),
  field('size', '0x hex', 'size as given (absent when 0)', true),
  field('prot, kind, advice, access, region, preferred, atomic', 'string', 'op-specific fields as given', true),
  field('outcome', '"ok" | "hit" | "error"', 'hit: the GPU access did not fault'),
  field('errno', 'string', 'EINVAL, EACCES, ..., SIGSEGV, LIVELOCK (only with outcome error)', true),
  field('t_end', 'integer', 'time after the waits the event caused, ns (only when it differs from t)', true),
  field(
    'decisions',
    'array',
    'decision records `{"code": ..., fields}` in the order the kernel took the steps (see below)',
  ),
];

/** Fields of a final range record. */
const RANGE_FIELDS: LineField[] = [
  field('start', '0x hex', 'first byte address'),
  field('end', '0x hex', 'end byte address (exclusive)'),
  field('size', '0x hex', 'end - start'),
  field('location', '"vram" | "smem" | "mixed"', 'where the pages are'),
  field('valid', 'boolean', 'GPU mapping valid'),
];

/** The lines of a JSONL result, in the order they come. */
export const JSONL_LINES: LineSpec[] = [
  {
    key: 'svmsim',
    doc: 'header, first line',
    fields: [
      field('svmsim', '1', 'format version'),
      field('kernel', 'string', 'kernel profile'),
      field(
        'trace',
        '{name, sha256}',
        'the trace file as named on the command line and the sha256 of its bytes (null for streamed stdin)',
      ),
      field('platform', 'object', 'every platform knob by its trace name (docs/platform.md)'),
    ],
  },
  { key: 'seq', doc: 'one line per event, in trace order (absent with --no-events)', fields: EVENT_FIELDS },
  {
    key: 'range',
    doc: 'one line per final GPU SVM range, by start address',
    fields: [field('range', 'object', 'the range: ' + RANGE_FIELDS.map((f) => f.name).join(', '))],
  },
  { key: 'vram', doc: 'VRAM at the end', fields: [field('vram', '{capacity, used}', 'bytes')] },
  {
    key: 'stats',
    doc: 'GT stats at the end (debugfs gtN/stats)',
    fields: [
      field(
        'stats',
        '{"gt0": {counter: value}, ...}',
        'every counter in kernel order; `_us` counters come from the cost model',
      ),
    ],
  },
  {
    key: 'metrics',
    doc: 'derived figures',
    fields: [
      field(
        'metrics',
        'object',
        'gpuFaults, failedFaults, migrations, pages copied, evictions, TLB invalidations, copyUs (cost model)',
      ),
    ],
  },
  {
    key: 'process',
    doc: 'one line per process, only when the trace has more than one (json `per_pid`)',
    fields: [
      field(
        'process',
        '{pid, asid, faults, failed_faults, migrations_to_vram, migrations_to_ram, vram_held, bos, evictions_suffered, evictions_caused, ranges, tlb_invalidations}',
        'per-process breakdown on the shared device (read by diff, not compared)',
      ),
    ],
  },
  {
    key: 'thrashing',
    doc: 'one line per thrashing range',
    fields: [
      field(
        'thrashing',
        '{start, end, cycles, bytes, events}',
        'VRAM→RAM→VRAM round trips and the events that caused them',
      ),
    ],
  },
  {
    key: 'end',
    doc: 'last line: a result without it is truncated',
    fields: [field('end', '{events, ranges}', 'number of event lines (null with --no-events) and of range lines')],
  },
];

function fieldType(s: FieldSpec): string {
  const t: Record<FieldSpec['kind'], string> = {
    addr: '0x hex address',
    pages: 'pages (4K)',
    bytes: 'bytes',
    count: 'integer',
    bool: 'boolean',
    enum: 'enum',
    string: 'string',
    range: '{start, end}',
    'range[]': '[{start, end}]',
    bo: 'BO number',
    ns: 'ns',
    ms: 'ms',
    errno: 'errno',
    'object[]': 'array',
  };
  return s.values ? s.values.map((v) => `\`${v}\``).join(' | ') : t[s.kind];
}

const row = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

/** docs/result-format.md, from the registries. */
export function resultFormatDoc(): string {
  const out: string[] = [
    '# Result format',
    '',
    '<!-- Generated from src/report/result-format.ts and src/core/decisions.ts by',
    '     `SVMSIM_UPDATE_DOCS=1 npx vitest run test/report/result-format.test.ts`; do not edit. -->',
    '',
    '`svmsim replay --format json` writes one JSON document; `--format jsonl` writes the same content as',
    'JSON lines, as the replay goes, in bounded memory. Both are read by `svmsim diff`. Keys come in a',
    'fixed order; addresses are `0x` hex strings of byte addresses. A JSON Schema of the JSON document,',
    'generated from the zod schema of the result readers by `npm run schemas`, is',
    '[`schemas/result.schema.json`](../schemas/result.schema.json).',
    '',
    '## JSON document',
    '',
    '`{"svmsim": 1, "kernel", "trace": {"name", "sha256"}, "platform", "events": [...], "ranges": [...],',
    '"vram", "stats", "metrics", "per_pid" (multi-process traces only), "thrashing": [...]}`; `events` is absent with `--no-events`. Each element',
    'of `events` and `ranges` has the fields of the JSONL event and range lines below.',
    '',
    '## JSONL lines',
    '',
    'Each line is one JSON object; its first key says what it is.',
    '',
  ];
  for (const l of JSONL_LINES) {
    out.push(`### \`${l.key}\` — ${l.doc}`, '', row(['field', 'type', 'meaning']), row(['---', '---', '---']));
    for (const f of l.fields) out.push(row([`\`${f.name}\`${f.optional ? ' (optional)' : ''}`, f.type, f.doc]));
    out.push('');
  }
  out.push('### Range record', '', row(['field', 'type', 'meaning']), row(['---', '---', '---']));
  for (const f of RANGE_FIELDS) out.push(row([`\`${f.name}\``, f.type, f.doc]));
  out.push(
    '',
    '## Decision codes',
    '',
    'Every record is `{"code": CODE, ...fields}`. Page-valued fields are 0x byte addresses.',
    '',
  );
  for (const [code, spec] of Object.entries(DECISIONS)) {
    out.push(`### \`${code}\``, '', spec.doc + '.', '');
    const fields = Object.entries(spec.fields as Record<string, FieldSpec>);
    if (fields.length === 0) {
      out.push('No fields.', '');
      continue;
    }
    out.push(row(['field', 'type', 'meaning']), row(['---', '---', '---']));
    for (const [name, s] of fields)
      out.push(row([`\`${name}\`${s.optional ? ' (optional)' : ''}`, fieldType(s), s.doc]));
    out.push('');
  }
  return out.join('\n');
}
