// node scripts/report-screenshot.mjs REPORT.html OUT.png [light|dark]
// Screenshot of an svmsim HTML report in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core; nothing is downloaded), 1280 px wide, from the top to the end of the range
// timeline. Used for docs/report.png.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [file, out, scheme = 'light'] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node scripts/report-screenshot.mjs REPORT.html OUT.png [light|dark]');
  process.exit(2);
}
const profile = mkdtempSync(path.join(os.tmpdir(), 'svmsim-shot-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SVMSIM_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  colorScheme: scheme,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await ctx.newPage();
  await page.goto('file://' + path.resolve(file));
  await page.waitForFunction(() => window.__svmsim?.ready === true, null, { timeout: 60000 });
  const bottom = await page.evaluate(() => document.getElementById('lanes-section').getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) + 8 }, fullPage: true });
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
