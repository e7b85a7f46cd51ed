/**
 * DOC: `svmsim report` — one self-contained HTML file with charts and range timelines
 *
 * Reads the trace once, replays it through one simulator per configuration (`--kernel`, `--vram`,
 * `--set` lists, as `compare` takes them; none: the trace's own platform) with a ReportCollector
 * each (report-data.ts: binned and sampled as the replay streams, bounded memory), then writes
 * the page (report/html/render.ts) with the page script and styles built by scripts/build.mjs.
 */

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Simulator } from '../core/simulator.js';
import { ReportCollector } from '../report/report-data.js';
import { renderHtml, type PageAssets } from '../report/html/render.js';
import type { TraceFormat } from '../trace/index.js';
import { openInput } from './input.js';
import { axes, combinations, configurations } from './compare.js';
import { UsageError } from './errors.js';
import type { CliIo } from './main.js';
import type { ReportCliOpts } from './commands.js';
import { thrashOptions } from './options.js';
import { replayAll } from '../replay/replay.js';

/** Set by scripts/build.mjs in the bundled CLI; from source (tests) the built files in dist/ are read. */
declare const __SVMSIM_REPORT_PAGE__: PageAssets | undefined;

function pageAssets(): PageAssets {
  if (typeof __SVMSIM_REPORT_PAGE__ !== 'undefined') return __SVMSIM_REPORT_PAGE__;
  const dist = new URL('../../dist/', import.meta.url);
  try {
    return {
      script: readFileSync(new URL('report-page.js', dist), 'utf8'),
      css: readFileSync(new URL('report-page.css', dist), 'utf8'),
    };
  } catch {
    throw new Error('report page script missing: run `npm run build` first');
  }
}

/** sha256 of a file, read in chunks. */
function fileSha256(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export async function runReport(
  trace: string,
  o: ReportCliOpts,
  io: CliIo,
  version: string,
  detect: (f: string, x?: string) => TraceFormat | undefined,
): Promise<void> {
  const lanes = o.ranges;
  const combos = combinations(axes(o));
  if (combos.length > 8) throw new UsageError(`${combos.length} configurations: a report overlays at most 8`);
  const thrash = thrashOptions(o);
  const assets = pageAssets();
  const format = detect(trace, o.inputFormat);
  // A regular file is hashed in a separate streaming read; stdin, a FIFO or a device can be read
  // only once, by the replay, and is not hashed.
  const regular = trace !== '-' && statSync(trace, { throwIfNoEntry: false })?.isFile() === true;
  const handle = await openInput(io, trace, format);
  const sha256 = regular ? fileSha256(trace) : `not computed (${trace === '-' ? 'stdin' : 'not a regular file'})`;
  const configs = configurations(combos, handle.platform);
  const collectors = configs.map((c) => new ReportCollector(c.label, lanes));
  const bar = handle.totalBytes > 32 << 20 ? await io.progress?.(handle.totalBytes) : undefined;
  let sims: Simulator[];
  try {
    sims = replayAll(
      handle.events,
      configs.map((c, i) => ({ platform: c.platform, reporter: collectors[i] })),
      { thrash, onProgress: bar ? (n) => bar.update(handle.bytesRead, n) : undefined },
    );
  } finally {
    bar?.stop();
  }
  const axis = collectors.some((c) => c.hasTime) ? 'time' : 'seq';
  const html = renderHtml(
    {
      trace: trace === '-' ? '<stdin>' : trace,
      sha256,
      events: sims[0].eventsReplayed,
      version,
      thrash,
      runs: configs.map((c, i) => ({ label: c.label, platform: c.platform, final: collectors[i].final! })),
      doc: { axis, runs: collectors.map((c) => c.doc(axis)) },
    },
    assets,
  );
  if (o.output !== undefined) await io.writeFileAtomic(o.output, html);
  else io.stdout(html);
}
