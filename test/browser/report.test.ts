/**
 * `svmsim report` opened in a real headless Chromium (Debian's chromium via playwright-core; see
 * chromium.ts): for several traces, no console errors and no network request, every chart drawn
 * (non-blank canvas, expected series count), the lane count, a hover on a known mark showing the
 * decision as the table format prints it, a click showing the whole event, and a screenshot in
 * test/browser/screenshots/ for people to look at. Skipped (with a note) where there is no
 * Chromium; `.ci/run` installs it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { runCli } from '../cli-harness.js';
import { haveChromium, launch } from './chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-browser-'));
const SHOTS = 'test/browser/screenshots';

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

interface Case {
  name: string;
  args: string[];
  /** Configurations overlaid. */
  runs: number;
  lanes: number;
  /** Trace given to `replay` for the table text (same platform as the first configuration). */
  table: string[];
}

const CASES: Case[] = [
  {
    name: 'vram-pressure',
    args: ['traces/07-vram-pressure.json'],
    runs: 1,
    lanes: 4,
    table: ['traces/07-vram-pressure.json'],
  },
  {
    name: 'pingpong',
    args: ['traces/02-cpu-gpu-pingpong.json'],
    runs: 1,
    lanes: 1,
    table: ['traces/02-cpu-gpu-pingpong.json'],
  },
  { name: 'errors', args: ['traces/14-errors.json'], runs: 1, lanes: 1, table: ['traces/14-errors.json'] },
  {
    name: 'mixed-kernels',
    args: ['GEN', '--kernel', '6.16,6.18', '--ranges', '12'],
    runs: 2,
    lanes: 12,
    table: ['GEN', '--kernel', '6.16'],
  },
];

let gen = '';
let browser: Awaited<ReturnType<typeof launch>> | undefined;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const g = await runCli(['gen', 'mixed', '-n', '20000', '--size', '64M', '--vram', '16M', '--seed', '7']);
  expect(g.code).toBe(0);
  gen = join(dir, 'mixed-20k.csv');
  writeFileSync(gen, g.stdout);
  if (haveChromium()) browser = await launch();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const subst = (args: string[]) => args.map((a) => (a === 'GEN' ? gen : a));

async function report(c: Case): Promise<string> {
  const out = join(dir, `${c.name}.html`);
  const r = await runCli(['report', ...subst(c.args), '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  writeFileSync(out, r.files.get(out)!);
  return out;
}

async function open(file: string): Promise<Opened> {
  const page = await browser!.ctx.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) requests.push(r.url());
  });
  await page.goto('file://' + file);
  await page.waitForFunction(() => window.__svmsim?.ready === true || window.__svmsim?.error !== undefined, null, {
    timeout: 20_000,
  });
  return { page, errors, requests };
}

/** Non-blank pixels of every canvas inside `sel`. */
async function inkedPixels(page: Page, sel: string): Promise<number> {
  return page.evaluate((s) => {
    let n = 0;
    for (const c of document.querySelectorAll<HTMLCanvasElement>(`${s} canvas`)) {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    }
    return n;
  }, sel);
}

describe.skipIf(!haveChromium())('svmsim report in headless Chromium', () => {
  for (const c of CASES) {
    test(`${c.name}: all views drawn, lanes, hover and click, no errors, offline`, async () => {
      const file = await report(c);
      const { page, errors, requests } = await open(file);
      try {
        const st = await page.evaluate(() => ({
          error: window.__svmsim!.error,
          charts: window.__svmsim!.charts,
          lanes: window.__svmsim!.lanes,
        }));
        expect(st.error).toBeUndefined();
        // Series: VRAM = 4 sizes + capacity + evictions, traffic = to VRAM + to RAM, faults = 3 sizes + failed; plus the other runs' overlays.
        const others = c.runs - 1;
        expect(st.charts.map((x) => [x.id, x.series])).toEqual([
          ['vram', 6 + others],
          ['traffic', 2 + 2 * others],
          ['faults', 4 + others],
        ]);
        for (const id of ['vram', 'traffic', 'faults', 'lanes'])
          expect(await inkedPixels(page, `#${id}`), id).toBeGreaterThan(1000);
        expect(st.lanes).toBe(c.lanes);
        expect(await page.locator('#gtstats table tbody tr').count()).toBeGreaterThan(0);
        expect(await page.locator('#knobs table tbody tr').count()).toBeGreaterThan(10);
        expect(await page.locator('#compare').count()).toBe(c.runs > 1 ? 1 : 0);
        // Thrashing ranges of the first configuration, as `replay --format json` finds them.
        const thrash = JSON.parse(
          (await runCli(['replay', ...subst(c.table), '--format', 'json', '--no-events'])).stdout,
        ).thrashing.length;
        if (thrash === 0)
          await expect.poll(() => page.locator('#thrashing p').first().textContent()).toMatch(/^No range made/);
        else expect(await page.locator('#thrashing table').first().locator('tbody tr').count()).toBe(thrash);

        // Hover the first mark of the first lane: the tip is the event's head line and the decision, as `replay` prints them.
        await page.locator('#lanes').scrollIntoViewIfNeeded();
        const p = await page.evaluate(() => window.__svmsim!.markPoint(0, 0));
        expect(p).toBeDefined();
        await page.mouse.move(p!.x, p!.y);
        await expect.poll(() => page.locator('#tip').isVisible()).toBe(true);
        const tip = (await page.locator('#tip').textContent())!;
        const [head, why] = tip.split('\n');
        expect(head).toMatch(/^#\d+ \d+\.\d{3}ms \w+ 0x[0-9a-f]+/);
        const table = (await runCli(['replay', ...subst(c.table)])).stdout;
        expect(table).toContain(head + '\n');
        const decision = why.replace(/^line \d+: /, '');
        expect(why).toMatch(/^line \d+: /);
        expect(table).toContain('\n    ' + decision + '\n');
        // Click: every decision of that event.
        await page.mouse.click(p!.x, p!.y);
        const detail = (await page.locator('#detail').textContent())!;
        expect(detail.split('\n')[0]).toContain(head);
        expect(detail).toContain('    ' + decision);
        const after = table
          .slice(table.indexOf(head + '\n'))
          .split('\n')
          .slice(1);
        const block = after.slice(
          0,
          after.findIndex((l) => !l.startsWith('    ')),
        );
        expect(detail.split('\n').slice(1)).toEqual(block);

        // Drag across the VRAM chart: every chart and the lanes zoom to the same x range; double-click resets.
        const over = page.locator('#vram .u-over');
        await over.scrollIntoViewIfNeeded();
        const box = (await over.boundingBox())!;
        const full = await page.evaluate(() => window.__svmsim!.xRanges());
        await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
        await page.mouse.up();
        const zoomed = await page.evaluate(() => window.__svmsim!.xRanges());
        expect(zoomed).toHaveLength(4);
        for (const r of zoomed) expect(r).toEqual(zoomed[0]);
        expect(zoomed[0][1] - zoomed[0][0]).toBeLessThan((full[0][1] - full[0][0]) * 0.5);
        await over.dblclick();
        expect(await page.evaluate(() => window.__svmsim!.xRanges())).toEqual(full);

        await page.screenshot({ path: join(SHOTS, `${c.name}.png`), fullPage: true });
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);
  }

  test('dark mode and a configuration switch redraw without errors', async () => {
    const file = await report(CASES[3]);
    const dark = await launch({ width: 1280, height: 800 }, 'dark');
    try {
      const page = await dark.ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto('file://' + file);
      await page.waitForFunction(() => window.__svmsim?.ready === true);
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe('rgb(21, 23, 26)');
      await page.selectOption('#run', '1');
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => window.__svmsim!.lanes)).toBe(12);
      expect(await inkedPixels(page, '#lanes')).toBeGreaterThan(1000);
      // Nothing wider than the 1280-pixel window.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
      await page.screenshot({ path: join(SHOTS, 'mixed-kernels-dark.png'), fullPage: false });
      expect(errors).toEqual([]);
    } finally {
      await dark.close();
    }
  }, 60_000);
});

if (!haveChromium()) {
  test('browser tests need Chromium (required in CI)', () => {
    if (process.env.CI === 'true') throw new Error('no Chromium in CI: .ci/run should have installed it');
    console.warn('skipping the browser tests: no /usr/bin/chromium (apt-get install chromium, or set SVMSIM_CHROMIUM)');
  });
}
