/**
 * DOC: HTML report — the page script (runs in the browser)
 *
 * Bundled with uPlot by esbuild at build time (scripts/build.mjs → dist/report-page.js) and
 * inlined into every report. Decompresses the embedded data (DecompressionStream, no network),
 * draws three uPlot charts (VRAM stacked by range size with capacity and evictions, migration
 * traffic, GPU faults by chunk size with failed faults) and the range timeline on a canvas
 * (one lane per range, coloured by state per bin, with marks; hover shows the mark's decision as
 * the table format prints it, click shows all the decisions of that event). With several
 * configurations a picker chooses the one drawn in full; the others' totals are overlaid.
 * `window.__svmsim` exposes what the browser tests check.
 */

import uPlot from 'uplot';
import { MARK_KINDS, type LaneDoc, type ReportDoc, type RunDoc } from './types.js';

interface ChartInfo {
  id: string;
  series: number;
  points: number;
}

interface PageState {
  ready: boolean;
  error?: string;
  /** From the script's start to the first painted frame with every view. */
  renderMs: number;
  /** From navigation start (HTML parsing included) to that frame. */
  readyMs: number;
  charts: ChartInfo[];
  lanes: number;
  /** Each chart's x range, and the lanes' (for tests). */
  xRanges(): [number, number][];
  /** Viewport coordinates of the k-th kept mark of a lane (for tests). */
  markPoint(lane: number, k: number): { x: number; y: number } | undefined;
}

declare global {
  interface Window {
    __svmsim?: PageState;
  }
}

const GUTTER = 170;

/** Called when a chart's x scale changes (drag to zoom, double-click to reset): the others follow. */
let onZoom: ((u: uPlot) => void) | undefined;
const LANE_H = 14;
const LANE_GAP = 3;
const LANE_TOP = 22;

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

async function load(): Promise<ReportDoc> {
  const el = document.getElementById('svmsim-data')!;
  const raw = atob(el.textContent!.trim());
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return JSON.parse(await new Response(stream).text()) as ReportDoc;
}

/** Levels hold null where nothing changed: carry the previous value forward. */
function carry(a: (number | null)[]): number[] {
  let v = 0;
  return a.map((x) => (v = x ?? v));
}

const fmtNum = (v: number | null | undefined, d = 1) =>
  v === null || v === undefined ? '–' : (Math.round(v * 10 ** d) / 10 ** d).toString();

/** Bin starts, and the end of the last bin (each series repeats its last value there, so steps span whole bins). */
function xs(run: RunDoc): number[] {
  return Array.from({ length: run.bins + 1 }, (_, i) => i * run.binWidth);
}

/**
 * The chart, with each per-bin series closed at the end of the last bin (lines repeat their last
 * value, point series get no point); lines draw no points of their own.
 */
function plot(opts: uPlot.Options, data: (number | null)[][], el: HTMLElement): uPlot {
  const closed = data.map((d, i) => {
    if (i === 0) return d;
    const pointsOnly = opts.series[i].points?.show === true;
    if (!pointsOnly) opts.series[i].points = { show: false };
    return [...d, pointsOnly || d.length === 0 ? null : d[d.length - 1]];
  });
  return new uPlot(opts, closed as uPlot.AlignedData, el);
}

function baseOpts(doc: ReportDoc, el: HTMLElement, yLabel: string): uPlot.Options {
  const fg = css('--fg');
  const grid = css('--grid');
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width: el.clientWidth,
    height: 220,
    scales: {
      // The data spans [0, end of the last bin]; no fixed range, so drag-zoom can narrow it.
      x: { time: false },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
    },
    axes: [
      { ...axis, label: doc.axis === 'time' ? 'trace time (ms)' : 'event index' },
      { ...axis, label: yLabel, size: GUTTER - 30, labelSize: 30 },
    ],
    legend: { live: true },
    cursor: { drag: { x: true, y: false }, sync: { key: 'svmsim' } },
    hooks: { setScale: [(u, key) => (key === 'x' ? onZoom?.(u) : undefined)] },
    series: [{ label: doc.axis === 'time' ? 'ms' : 'event', value: (_u, v) => fmtNum(v, 3) }],
  };
}

function totalVram(run: RunDoc): number[] {
  const [a, b, c, d] = [
    carry(run.series.vram4k),
    carry(run.series.vram64k),
    carry(run.series.vram2m),
    carry(run.series.vramOther),
  ];
  return a.map((_, i) => a[i] + b[i] + c[i] + d[i]);
}

function dashed(label: string, color: string): uPlot.Series {
  return { label, stroke: color, width: 1.5, dash: [6, 4], value: (_u, v) => fmtNum(v) };
}

const stepped = uPlot.paths.stepped!({ align: 1 });

function vramChart(doc: ReportDoc, f: number, el: HTMLElement): uPlot {
  const run = doc.runs[f];
  const x = xs(run);
  const parts = {
    '2M': carry(run.series.vram2m),
    '64K': carry(run.series.vram64k),
    '4K': carry(run.series.vram4k),
    other: carry(run.series.vramOther),
  };
  const order = ['other', '4K', '64K', '2M'] as const;
  // Cumulative tops, drawn top first so each lower band paints over the one above.
  const cum = (upto: number) => x.map((_, i) => order.slice(upto).reduce((s, k) => s + parts[k][i], 0));
  const colors: Record<string, string> = {
    other: css('--c-other'),
    '4K': css('--c-4k'),
    '64K': css('--c-64k'),
    '2M': css('--c-2m'),
  };
  const opts = baseOpts(doc, el, 'VRAM used (MiB)');
  const data: (number | null)[][] = [x];
  order.forEach((k, i) => {
    data.push(cum(i));
    opts.series.push({
      label: `${k} ranges`,
      stroke: colors[k],
      fill: colors[k] + 'cc',
      width: 1,
      paths: stepped,
      value: (_u, _v, _si, di) => (di === null ? '–' : fmtNum(parts[k][di!])),
    });
  });
  data.push(x.map(() => run.capacityMiB));
  opts.series.push(dashed('capacity', css('--fg')));
  const total = totalVram(run);
  data.push(run.series.evictions.map((e, i) => ((e as number) > 0 ? total[i] : null)));
  opts.series.push({
    label: 'BO evictions',
    stroke: css('--c-fail'),
    fill: css('--c-fail'),
    paths: () => null,
    points: { show: true, size: 8, stroke: css('--c-fail'), fill: css('--c-fail') },
    value: (_u, _v, _si, di) => (di === null ? '–' : String(run.series.evictions[di!])),
  });
  doc.runs.forEach((o, i) => {
    if (i === f) return;
    data.push(resample(o, run, totalVram(o), 'max'));
    opts.series.push(dashed(`${o.label} total`, css(`--c-run${(i % 4) + 1}`)));
  });
  return plot(opts, data, el);
}

/** Another run's series on this run's bins (bins of both cover the same trace; widths may differ). */
function resample(o: RunDoc, run: RunDoc, v: number[], how: 'max' | 'sum'): number[] {
  if (o.binWidth === run.binWidth && o.bins === run.bins) return v;
  const out = new Array<number>(run.bins).fill(how === 'max' ? Number.NaN : 0);
  v.forEach((y, i) => {
    const b = Math.min(run.bins - 1, Math.floor((i * o.binWidth) / run.binWidth));
    if (b < 0) return;
    out[b] = how === 'max' ? (Number.isNaN(out[b]) ? y : Math.max(out[b], y)) : out[b] + y;
  });
  if (how === 'max') for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i])) out[i] = i > 0 ? out[i - 1] : 0;
  return out;
}

function trafficChart(doc: ReportDoc, f: number, el: HTMLElement): uPlot {
  const run = doc.runs[f];
  const opts = baseOpts(doc, el, 'MiB per interval');
  const data: number[][] = [xs(run), run.series.toVramMiB as number[], run.series.toRamMiB as number[]];
  opts.series.push(
    {
      label: 'to VRAM',
      stroke: css('--c-vram'),
      fill: css('--c-vram') + '55',
      width: 1.5,
      paths: stepped,
      value: (_u, v) => fmtNum(v, 2),
    },
    {
      label: 'to RAM',
      stroke: css('--c-smem'),
      fill: css('--c-smem') + '55',
      width: 1.5,
      paths: stepped,
      value: (_u, v) => fmtNum(v, 2),
    },
  );
  doc.runs.forEach((o, i) => {
    if (i === f) return;
    data.push(
      resample(o, run, o.series.toVramMiB as number[], 'sum'),
      resample(o, run, o.series.toRamMiB as number[], 'sum'),
    );
    opts.series.push(dashed(`${o.label} to VRAM`, css(`--c-run${(i % 4) + 1}`)), {
      ...dashed(`${o.label} to RAM`, css(`--c-run${(i % 4) + 1}`)),
      dash: [2, 3],
    });
  });
  return plot(opts, data, el);
}

function faultChart(doc: ReportDoc, f: number, el: HTMLElement): uPlot {
  const run = doc.runs[f];
  const s = run.series;
  const opts = baseOpts(doc, el, 'faults per interval');
  const total = (r: RunDoc) =>
    r.series.faults4k.map(
      (v, i) =>
        (v as number) +
        (r.series.faults64k[i] as number) +
        (r.series.faults2m[i] as number) +
        (r.series.faultsFailed[i] as number),
    );
  const all = total(run);
  const data: (number | null)[][] = [
    xs(run),
    s.faults4k,
    s.faults64k,
    s.faults2m,
    s.faultsFailed.map((v, i) => ((v as number) > 0 ? all[i] : null)),
  ];
  opts.series.push(
    { label: '4K ranges', stroke: css('--c-4k'), width: 1.5, paths: stepped, value: (_u, v) => fmtNum(v, 0) },
    { label: '64K ranges', stroke: css('--c-64k'), width: 1.5, paths: stepped, value: (_u, v) => fmtNum(v, 0) },
    { label: '2M ranges', stroke: css('--c-2m'), width: 1.5, paths: stepped, value: (_u, v) => fmtNum(v, 0) },
    {
      label: 'failed',
      stroke: css('--c-fail'),
      paths: () => null,
      points: { show: true, size: 8, stroke: css('--c-fail'), fill: css('--c-fail') },
      value: (_u, _v, _si, di) => (di === null ? '–' : String(s.faultsFailed[di!])),
    },
  );
  doc.runs.forEach((o, i) => {
    if (i === f) return;
    data.push(resample(o, run, total(o), 'sum'));
    opts.series.push(dashed(`${o.label} all faults`, css(`--c-run${(i % 4) + 1}`)));
  });
  return plot(opts, data, el);
}

const STATE_NAMES = ['vram', 'smem', 'mixed', 'invalid', 'destroyed'] as const;

interface LaneHit {
  px: number;
  hover: number;
  click: number;
}

/** The range timeline: a canvas with one lane per range, aligned with the charts' plot area. */
function lanesView(
  doc: ReportDoc,
  f: number,
  host: HTMLElement,
  plotLeft: number,
  plotWidth: number,
  tip: HTMLElement,
  detail: HTMLElement,
): { count: number; point: PageState['markPoint']; render: (view: [number, number]) => void } {
  const run = doc.runs[f];
  host.textContent = '';
  const canvas = document.createElement('canvas');
  const width = host.clientWidth;
  const height = LANE_TOP + run.lanes.length * (LANE_H + LANE_GAP) + 4;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  host.append(canvas);
  const ctx = canvas.getContext('2d')!;
  ctx.scale(dpr, dpr);
  let hits: LaneHit[][] = [];
  const render = ([x0, x1]: [number, number]) => {
    ctx.clearRect(0, 0, width, height);
    hits = drawLanes(ctx, doc, run, plotLeft, plotWidth, height, x0, x1);
  };
  render([0, Math.max(run.bins * run.binWidth, run.binWidth)]);
  const find = (ev: MouseEvent): LaneHit | undefined => {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const li = Math.floor((y - LANE_TOP) / (LANE_H + LANE_GAP));
    if (li < 0 || li >= hits.length) return undefined;
    let best: LaneHit | undefined;
    for (const h of hits[li])
      if (Math.abs(h.px - x) <= 6 && (best === undefined || Math.abs(h.px - x) < Math.abs(best.px - x))) best = h;
    return best;
  };
  canvas.addEventListener('mousemove', (ev) => {
    const h = find(ev);
    if (h === undefined) {
      tip.hidden = true;
      canvas.style.cursor = '';
      return;
    }
    canvas.style.cursor = 'pointer';
    tip.textContent = run.texts[h.hover];
    tip.hidden = false;
    const left = Math.min(ev.pageX + 12, document.documentElement.scrollWidth - tip.offsetWidth - 8);
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${ev.pageY + 14}px`;
  });
  canvas.addEventListener('mouseleave', () => (tip.hidden = true));
  canvas.addEventListener('click', (ev) => {
    const h = find(ev);
    if (h === undefined) return;
    detail.textContent = run.texts[h.click];
    detail.hidden = false;
  });
  return {
    count: run.lanes.length,
    render,
    point: (lane, k) => {
      const h = hits[lane]?.[k];
      if (h === undefined) return undefined;
      const r = canvas.getBoundingClientRect();
      return { x: r.left + h.px, y: r.top + LANE_TOP + lane * (LANE_H + LANE_GAP) + LANE_H / 2 };
    },
  };
}

/** Draw the lanes for x in [x0, x1]; returns the marks drawn, per lane, for hit-testing. */
function drawLanes(
  ctx: CanvasRenderingContext2D,
  doc: ReportDoc,
  run: RunDoc,
  plotLeft: number,
  plotWidth: number,
  height: number,
  x0: number,
  x1: number,
): LaneHit[][] {
  const span = Math.max(x1 - x0, Number.MIN_VALUE);
  const px = (x: number) => plotLeft + ((x - x0) / span) * plotWidth;
  const fg = css('--fg');
  const colors = {
    vram: css('--c-vram'),
    smem: css('--c-smem'),
    mixed: css('--c-mixed'),
    invalid: css('--c-invalid'),
    destroyed: css('--c-destroyed'),
  };
  ctx.font = '11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
  ctx.textBaseline = 'middle';
  // Axis ticks along the top.
  ctx.fillStyle = fg;
  ctx.strokeStyle = css('--grid');
  const step = niceStep(span / 6, doc.axis === 'seq');
  for (let x = Math.ceil(x0 / step) * step; x <= x1 + step * 1e-9; x += step) {
    ctx.beginPath();
    ctx.moveTo(px(x), LANE_TOP - 4);
    ctx.lineTo(px(x), height);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.fillText(doc.axis === 'time' ? `${fmtNum(x, 3)} ms` : `#${Math.round(x)}`, px(x), 9);
  }
  const hits: LaneHit[][] = [];
  const binPx = (run.binWidth / span) * plotWidth;
  run.lanes.forEach((lane: LaneDoc, li) => {
    const y = LANE_TOP + li * (LANE_H + LANE_GAP);
    ctx.textAlign = 'right';
    ctx.fillStyle = fg;
    ctx.fillText(`${lane.span.slice(1, lane.span.indexOf(','))} ${lane.size}`, plotLeft - 6, y + LANE_H / 2);
    // Everything else stays inside the plot area (zoomed views cut at its edges).
    ctx.save();
    ctx.beginPath();
    ctx.rect(plotLeft, 0, plotWidth, height);
    ctx.clip();
    // State runs: consecutive bins with the same bits in one rectangle; several bits = stripes.
    if (!lane.fromStart && lane.fromBin > 0) {
      // The range was active before its history was kept: hatch the untracked part.
      ctx.save();
      ctx.beginPath();
      ctx.rect(px(0), y, lane.fromBin * binPx, LANE_H);
      ctx.clip();
      ctx.strokeStyle = colors.invalid;
      for (let hx = px(0) - LANE_H; hx < px(0) + lane.fromBin * binPx; hx += 6) {
        ctx.beginPath();
        ctx.moveTo(hx, y + LANE_H);
        ctx.lineTo(hx + LANE_H, y);
        ctx.stroke();
      }
      ctx.restore();
    }
    let i = 0;
    while (i < run.bins) {
      const ch = lane.states[i];
      let j = i + 1;
      while (j < run.bins && lane.states[j] === ch) j++;
      const bits = Number.parseInt(ch, 32);
      if (bits > 0) {
        const names = STATE_NAMES.filter((_, k) => bits & (1 << k));
        const h = LANE_H / names.length;
        names.forEach((n, k) => {
          ctx.fillStyle = colors[n];
          ctx.fillRect(px(i * run.binWidth), y + k * h, Math.max((j - i) * binPx, 0.5), h);
        });
      }
      i = j;
    }
    const lh: LaneHit[] = [];
    const m = lane.marks;
    for (let k = 0; k < m.length; k += 4) {
      if (m[k] < x0 || m[k] > x1) continue;
      const x = px(m[k]);
      drawMark(ctx, m[k + 1], x, y + LANE_H / 2, fg, css('--c-fail'), css('--bg'));
      lh.push({ px: x, hover: m[k + 2], click: m[k + 3] });
    }
    ctx.restore();
    hits.push(lh);
  });
  return hits;
}

/** 1, 2 or 5 times a power of ten, at least `raw` (whole numbers for event indices). */
function niceStep(raw: number, whole: boolean): number {
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * p).find((v) => v >= raw) ?? 10 * p;
  return whole ? Math.max(1, Math.round(step)) : step;
}

/** Mark glyphs: shapes, not only colours, tell them apart. */
function drawMark(
  ctx: CanvasRenderingContext2D,
  kind: number,
  x: number,
  y: number,
  fg: string,
  fail: string,
  bg: string,
): void {
  ctx.lineWidth = 1;
  ctx.strokeStyle = bg;
  ctx.fillStyle = fg;
  ctx.beginPath();
  switch (kind) {
    case 0: // fault: dot
      ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
      break;
    case 1: // failed fault: cross
      ctx.strokeStyle = fail;
      ctx.lineWidth = 2;
      ctx.moveTo(x - 4, y - 4);
      ctx.lineTo(x + 4, y + 4);
      ctx.moveTo(x + 4, y - 4);
      ctx.lineTo(x - 4, y + 4);
      ctx.stroke();
      return;
    case 2: // to VRAM: up triangle
      ctx.moveTo(x, y - 5);
      ctx.lineTo(x + 4, y + 3);
      ctx.lineTo(x - 4, y + 3);
      break;
    case 3: // to RAM: down triangle
      ctx.moveTo(x, y + 5);
      ctx.lineTo(x + 4, y - 3);
      ctx.lineTo(x - 4, y - 3);
      break;
    case 4: // invalidate: tick
      ctx.rect(x - 1, y - 6, 2, 12);
      break;
    default: // removed: square
      ctx.rect(x - 3, y - 3, 6, 6);
  }
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}

function legend(host: HTMLElement): void {
  const states = STATE_NAMES.map(
    (n) =>
      `<span class="sw" style="background:var(--c-${n})"></span>${n === 'smem' ? 'SMEM' : n === 'vram' ? 'VRAM' : n}`,
  ).join(' ');
  const glyphs = ['●', '✕', '▲', '▼', '▮', '■'];
  const marks = MARK_KINDS.map((k, i) => `<span class="glyph${i === 1 ? ' fail' : ''}">${glyphs[i]}</span>${k}`).join(
    ' ',
  );
  host.innerHTML = `${states} <span class="sw hatch"></span>not tracked &nbsp;·&nbsp; ${marks}`;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const state: PageState = {
    ready: false,
    renderMs: 0,
    readyMs: 0,
    charts: [],
    lanes: 0,
    markPoint: () => undefined,
    xRanges: () => [],
  };
  window.__svmsim = state;
  const doc = await load();
  const picker = document.getElementById('run') as HTMLSelectElement | null;
  const tip = document.getElementById('tip')!;
  const detail = document.getElementById('detail')!;
  let plots: uPlot[] = [];
  const draw = async () => {
    onZoom = undefined;
    for (const p of plots) p.destroy();
    const f = picker ? Number(picker.value) : 0;
    const ids = ['vram', 'traffic', 'faults'] as const;
    const makers = [vramChart, trafficChart, faultChart];
    plots = ids.map((id, i) => {
      const el = document.getElementById(id)!;
      el.textContent = '';
      return makers[i](doc, f, el);
    });
    state.charts = plots.map((p, i) => ({ id: ids[i], series: p.series.length - 1, points: p.data[0].length }));
    // uPlot lays out its plot area on a microtask: align the lanes with it afterwards.
    await new Promise<void>((r) => requestAnimationFrame(() => r()));
    const over = plots[0].over;
    const host = document.getElementById('lanes')!;
    const left = over.getBoundingClientRect().left - host.getBoundingClientRect().left;
    const lv = lanesView(doc, f, host, left, over.clientWidth, tip, detail);
    state.lanes = lv.count;
    state.markPoint = lv.point;
    let view: [number, number] = [plots[0].scales.x.min!, plots[0].scales.x.max!];
    state.xRanges = () => [...plots.map((p): [number, number] => [p.scales.x.min!, p.scales.x.max!]), view];
    let syncing = false;
    onZoom = (u) => {
      if (syncing) return;
      const { min, max } = u.scales.x;
      if (min === undefined || max === undefined) return;
      syncing = true;
      for (const p of plots) if (p !== u) p.setScale('x', { min, max });
      syncing = false;
      view = [min, max];
      lv.render(view);
    };
    const run = doc.runs[f];
    const kept = run.lanes.reduce((s, l) => s + l.marks.length / 4, 0);
    const seen = run.lanes.reduce((s, l) => s + l.marksSeen, 0);
    const all = run.lanes.reduce((s, l) => s + l.activity, 0);
    document.getElementById('lanes-note')!.textContent =
      `The ${run.lanes.length} busiest of ${run.rangesSeen} ranges (faults, migrations, invalidations, removals), by address. ` +
      `${kept} of their ${all} marks shown` +
      (seen < all ? `; ${all - seen} came before the range became a candidate for a lane` : '') +
      (kept < seen ? '; the rest evenly thinned per range' : '') +
      '. Hover a mark for its decision, click it for the whole event.';
  };
  legend(document.getElementById('lanes-legend')!);
  await draw();
  picker?.addEventListener('change', () => void draw());
  let pending: number | undefined;
  window.addEventListener('resize', () => {
    if (pending !== undefined) clearTimeout(pending);
    pending = window.setTimeout(() => void draw(), 150);
  });
  // Ready once the frame with the charts is painted.
  requestAnimationFrame(() => {
    state.readyMs = performance.now();
    state.renderMs = state.readyMs - t0;
    state.ready = true;
    document.body.dataset.ready = 'true';
  });
}

main().catch((e: unknown) => {
  const s = window.__svmsim;
  if (s) s.error = String(e);
  console.error(e);
});
