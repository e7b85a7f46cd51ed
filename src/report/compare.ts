/**
 * DOC: `svmsim compare` output
 *
 * One table, one column per platform combination, rows = the GT0 kernel counters (in the newest
 * kernel's enum order; a counter a version lacks is blank, never 0) followed by derived figures
 * (faults, migrations and MiB copied each way, TLB invalidations, evictions, failed faults,
 * thrashing ranges, estimated copy time from the cost model). Formats: table, markdown, csv, json.
 */

import Table from 'cli-table3';
import type { Metrics } from '../core/metrics.js';
import type { StatName } from '../core/xe-gt-stats.js';

export interface CompareColumn {
  /** Label of the combination, e.g. "6.18 vram=4G". */
  label: string;
  /** Counter values of gt0; absent = the kernel lacks the counter. */
  counters: Map<StatName, number>;
  metrics: Metrics;
  /** Thrashing ranges found. */
  thrashing: number;
}

export interface CompareResult {
  events: number;
  counterOrder: readonly StatName[];
  columns: CompareColumn[];
  /** Show every counter, even all-zero rows. */
  all: boolean;
}

const DERIVED: [string, (c: CompareColumn) => number | string][] = [
  ['faults', (c) => c.metrics.gpuFaults],
  ['failed faults', (c) => c.metrics.failedFaults],
  ['migrations to VRAM', (c) => c.metrics.migrationsToVram],
  ['migrations to RAM', (c) => c.metrics.migrationsToRam],
  ['MiB copied to VRAM', (c) => mib(c.metrics.pagesToVram)],
  ['MiB copied to RAM', (c) => mib(c.metrics.pagesToRam)],
  ['TLB invalidations', (c) => c.metrics.tlbInvalidations],
  ['evictions', (c) => c.metrics.evictions],
  ['thrashing ranges', (c) => c.thrashing],
  ['est. copy time (ms)', (c) => (c.metrics.copyUs / 1000).toFixed(3)],
];

function mib(pages: number): string {
  return ((pages * 4096) / 2 ** 20).toFixed(2);
}

/** Rows: [name, ...cells]; blank cell = counter missing in that kernel. */
export function compareRows(r: CompareResult): string[][] {
  const rows: string[][] = [];
  for (const name of r.counterOrder) {
    const cells = r.columns.map((c) => (c.counters.has(name) ? String(c.counters.get(name)) : ''));
    if (!r.all && cells.every((x) => x === '' || x === '0')) continue;
    rows.push([name, ...cells]);
  }
  for (const [name, f] of DERIVED) rows.push([name, ...r.columns.map((c) => String(f(c)))]);
  return rows;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function renderCompare(r: CompareResult, format: 'table' | 'markdown' | 'csv' | 'json'): string {
  const head = ['', ...r.columns.map((c) => c.label)];
  const rows = compareRows(r);
  switch (format) {
    case 'csv':
      return [['metric', ...head.slice(1)], ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
    case 'markdown': {
      const lines = [
        `| metric | ${head.slice(1).join(' | ')} |`,
        `|---|${head
          .slice(1)
          .map(() => '---:')
          .join('|')}|`,
      ];
      for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
      return lines.join('\n') + '\n';
    }
    case 'json':
      return JSON.stringify({ svmsim: 1, ...compareJson(r) }, null, 2) + '\n';
    default: {
      const t = new Table({
        head,
        style: { head: [], border: [] },
        chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
        colAligns: ['left', ...r.columns.map(() => 'right' as const)],
      });
      for (const row of rows) t.push(row);
      return `svmsim compare: ${r.events} events, ${r.columns.length} combinations\n` + t.toString() + '\n';
    }
  }
}

/** The JSON form of one trace's comparison. */
function compareJson(r: CompareResult): { events: number; columns: unknown[] } {
  const columns = r.columns.map((c) => {
    const counters: Record<string, number | null> = {};
    for (const name of r.counterOrder) counters[name] = c.counters.has(name) ? c.counters.get(name)! : null;
    return { label: c.label, counters, metrics: c.metrics, thrashing: c.thrashing };
  });
  return { events: r.events, columns };
}

/**
 * Several traces: one comparison per trace, in the order given (one trace: exactly
 * renderCompare()). JSON: `{ svmsim, traces: [{ trace, events, columns }] }`; other formats:
 * a `trace:` line before each trace's table, a blank line between them.
 */
export function renderCompareTraces(
  sections: { trace: string; result: CompareResult }[],
  format: 'table' | 'markdown' | 'csv' | 'json',
): string {
  if (sections.length === 1) return renderCompare(sections[0].result, format);
  if (format === 'json')
    return (
      JSON.stringify(
        { svmsim: 1, traces: sections.map((s) => ({ trace: s.trace, ...compareJson(s.result) })) },
        null,
        2,
      ) + '\n'
    );
  return sections.map((s) => `${s.trace}:\n${renderCompare(s.result, format)}`).join('\n');
}
