/**
 * DOC: HTML report — the page
 *
 * One self-contained file: the header, the tables (totals and verdicts, thrashing ranges, GT stats
 * per GT, platform knobs, side-by-side counters) as plain HTML, the chart data as deflate-compressed
 * base64 JSON in a `<script type="application/octet-stream">` block, and the page script and
 * styles (built from page.ts / page.css with esbuild at build time) inline. Nothing is fetched
 * when the file is opened. Same input, same bytes.
 */

import { deflateSync } from 'node:zlib';
import type { Platform } from '../../core/platform.js';
import type { FinalState } from '../../core/simulator.js';
import { statNames } from '../../core/xe-gt-stats.js';
import { compareRows } from '../compare.js';
import { humanBytes, humanPages, span } from '../format.js';
import { platformJson } from '../reporter.js';
import type { ReportDoc } from './types.js';

interface HtmlRun {
  label: string;
  platform: Platform;
  final: FinalState;
}

export interface HtmlReport {
  /** Trace file name as given. */
  trace: string;
  sha256: string;
  events: number;
  version: string;
  runs: HtmlRun[];
  doc: ReportDoc;
  thrash: { threshold: number; windowNs: number };
}

export interface PageAssets {
  script: string;
  css: string;
}

const esc = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const mib = (pages: number) => ((pages * 4096) / 2 ** 20).toFixed(1);

function table(head: string[], rows: (string | number)[][], cls = ''): string {
  const th = head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i > 0 && typeof c === 'number' ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** Verdict lines of one configuration: thrashing, failed faults, VRAM oversubscription. */
function verdicts(run: HtmlRun, peakMiB: number): { ok: boolean; text: string }[] {
  const m = run.final.metrics;
  const th = run.final.thrashing;
  const cap = run.final.vram.capacity;
  const out: { ok: boolean; text: string }[] = [];
  out.push(
    th.length > 0
      ? {
          ok: false,
          text: `Thrashing: ${th.length} range${th.length === 1 ? '' : 's'} made repeated VRAM→RAM→VRAM round trips`,
        }
      : { ok: true, text: 'No thrashing range' },
  );
  out.push(
    m.failedFaults > 0
      ? { ok: false, text: `${m.failedFaults} of ${m.gpuFaults} GPU faults failed` }
      : { ok: true, text: `No failed GPU fault (${m.gpuFaults} handled)` },
  );
  if (!run.platform.dgfx) out.push({ ok: true, text: 'Integrated GPU: no VRAM' });
  else if (m.evictions > 0)
    out.push({
      ok: false,
      text: `VRAM oversubscribed: ${m.evictions} BO eviction${m.evictions === 1 ? '' : 's'}, peak use ${peakMiB.toFixed(1)} MiB of ${humanBytes(cap)}`,
    });
  else
    out.push({ ok: true, text: `VRAM not oversubscribed: peak use ${peakMiB.toFixed(1)} MiB of ${humanBytes(cap)}` });
  return out;
}

function header(r: HtmlReport): string {
  const peak = r.doc.runs.map((d) => {
    const s = d.series;
    let best = 0;
    let cur = [0, 0, 0, 0];
    for (let i = 0; i < d.bins; i++) {
      cur = [s.vram4k[i] ?? cur[0], s.vram64k[i] ?? cur[1], s.vram2m[i] ?? cur[2], s.vramOther[i] ?? cur[3]];
      best = Math.max(best, cur[0] + cur[1] + cur[2] + cur[3]);
    }
    return best;
  });
  const totals: [string, (run: HtmlRun) => string | number][] = [
    ['events', () => r.events],
    ['GPU faults', (x) => x.final.metrics.gpuFaults],
    ['failed faults', (x) => x.final.metrics.failedFaults],
    ['migrations to VRAM', (x) => x.final.metrics.migrationsToVram],
    ['MiB copied to VRAM', (x) => mib(x.final.metrics.pagesToVram)],
    ['migrations to RAM', (x) => x.final.metrics.migrationsToRam],
    ['MiB copied to RAM', (x) => mib(x.final.metrics.pagesToRam)],
    ['BO evictions', (x) => x.final.metrics.evictions],
    ['TLB invalidations', (x) => x.final.metrics.tlbInvalidations],
    ['thrashing ranges', (x) => x.final.thrashing.length],
  ];
  const runs = r.runs
    .map((run, i) => {
      const p = run.platform;
      const dev = p.dgfx ? `dGPU, VRAM ${humanBytes(p.vramBytes)}` : 'iGPU';
      const v = verdicts(run, peak[i])
        .map((x) => `<li class="${x.ok ? 'ok' : 'bad'}">${esc(x.text)}</li>`)
        .join('');
      return `<div class="run"><h3>${esc(run.label)}</h3><p>kernel ${esc(p.kernel)}, ${esc(dev)}, notifier ${esc(humanBytes(p.notifierBytes))}${p.need64k ? ', NEED64K' : ''}, cost model ${esc(p.costModel)}</p><ul class="verdicts">${v}</ul></div>`;
    })
    .join('\n');
  return `<header>
<h1>svmsim report: ${esc(r.trace)}</h1>
<p class="meta">sha256 <code>${esc(r.sha256)}</code> · ${r.events} events · svmsim ${esc(r.version)} · thrashing: ${r.thrash.threshold} round trips within ${r.thrash.windowNs / 1000} µs</p>
<div class="runs">${runs}</div>
${table(
  ['total', ...r.runs.map((x) => x.label)],
  totals.map(([n, f]) => [n, ...r.runs.map((x) => f(x))]),
  'totals',
)}
</header>`;
}

function thrashing(r: HtmlReport): string {
  const parts = r.runs.map((run) => {
    const th = run.final.thrashing;
    const title = r.runs.length > 1 ? `<h3>${esc(run.label)}</h3>` : '';
    if (th.length === 0)
      return `${title}<p>No range made ${r.thrash.threshold} round trips VRAM→RAM→VRAM within the window.</p>`;
    const rows = th
      .slice(0, 200)
      .map((t) => [
        span(t.start, t.start + t.npages),
        humanPages(t.npages),
        t.cycles,
        humanBytes(t.bytes),
        t.events.map((e) => `#${e}`).join(' '),
      ]);
    const more = th.length > 200 ? `<p>... ${th.length - 200} more (--format json lists all)</p>` : '';
    return `${title}${table(['range', 'size', 'round trips', 'moved', 'by events'], rows, 'thrash')}${more}`;
  });
  return `<section id="thrashing"><h2>Thrashing ranges</h2>${parts.join('\n')}</section>`;
}

function gtStats(r: HtmlReport): string {
  const cols: string[] = [];
  const getters: ((name: string) => number | string)[] = [];
  for (const run of r.runs) {
    for (const g of run.final.stats) {
      cols.push(r.runs.length > 1 ? `${run.label} gt${g.gt}` : `gt${g.gt}`);
      const m = new Map<string, number>(g.counters);
      getters.push((n) => (m.has(n) ? m.get(n)! : ''));
    }
  }
  const names = statNames('6.18').filter((n) =>
    r.runs.some((run) => run.final.stats.some((g) => g.counters.some(([c]) => c === n))),
  );
  const rows = names.map((n) => [n, ...getters.map((g) => g(n))]);
  return `<section id="gtstats"><h2>GT stats (debugfs gtN/stats)</h2>${table(['counter', ...cols], rows, 'stats')}</section>`;
}

function knobs(r: HtmlReport): string {
  const per = r.runs.map((run) => platformJson(run.platform));
  const rows = Object.keys(per[0]).map((k) => [k, ...per.map((p) => String(p[k]))]);
  return `<section id="knobs"><h2>Platform knobs</h2>${table(['knob', ...r.runs.map((x) => x.label)], rows, 'knobs')}</section>`;
}

function sideBySide(r: HtmlReport): string {
  if (r.runs.length < 2) return '';
  const rows = compareRows({
    events: r.events,
    counterOrder: statNames('6.18'),
    all: false,
    columns: r.runs.map((run) => ({
      label: run.label,
      counters: new Map(run.final.stats[0].counters),
      metrics: run.final.metrics,
      thrashing: run.final.thrashing.length,
    })),
  });
  return `<section id="compare"><h2>Side by side (gt0 counters and derived figures)</h2>${table(['', ...r.runs.map((x) => x.label)], rows, 'compare')}</section>`;
}

/** The whole report page. */
export function renderHtml(r: HtmlReport, assets: PageAssets): string {
  const data = deflateSync(Buffer.from(JSON.stringify(r.doc)), { level: 9 }).toString('base64');
  const script = assets.script.replace(/<\/(script)/gi, '<\\/$1');
  const picker =
    r.runs.length > 1
      ? `<label class="picker">configuration <select id="run">${r.runs.map((x, i) => `<option value="${i}">${esc(x.label)}</option>`).join('')}</select> (charts overlay the others' totals)</label>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="svmsim ${esc(r.version)}">
<title>svmsim report: ${esc(r.trace)}</title>
<style>
${assets.css}
</style>
</head>
<body>
${header(r)}
<main>
<nav class="toolbar">${picker}<span class="axis">x axis: ${r.doc.axis === 'time' ? 'trace time (ms)' : 'event index (the trace has no times)'}</span><span>drag across a chart to zoom every view, double-click to reset</span></nav>
<section id="vram-section"><h2>VRAM used over time</h2><p class="note">Stacked by the size of the range each BO backs (the peak of each interval); dashed: capacity; ● intervals with BO evictions.</p><div class="chart" id="vram"></div></section>
<section id="traffic-section"><h2>Migration traffic</h2><p class="note">MiB copied per interval.</p><div class="chart" id="traffic"></div></section>
<section id="faults-section"><h2>GPU faults</h2><p class="note">Faults handled per interval by the chunk size of their range; ● intervals with failed faults (the legend gives their count).</p><div class="chart" id="faults"></div></section>
<section id="lanes-section"><h2>Range timeline</h2><p class="note" id="lanes-note"></p><div id="lanes-legend" class="legend"></div><div id="lanes"></div><pre id="detail" class="detail" hidden></pre></section>
${thrashing(r)}
${sideBySide(r)}
${gtStats(r)}
${knobs(r)}
</main>
<div id="tip" class="tip" hidden></div>
<script type="application/octet-stream" id="svmsim-data" data-encoding="deflate+base64">${data}</script>
<script>
${script}
</script>
</body>
</html>
`;
}
