// node scripts/report-screenshot.mjs REPORT.html OUT.png [light|dark]
// Screenshot of an svmsim HTML report in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core; nothing is downloaded), 1280 px wide, from the top to the end of the range
// timeline. Used for docs/report.png.
import path from 'node:path';
import { launch } from './chromium.mjs';

const [file, out, scheme = 'light'] = process.argv.slice(2);
if (!file || !out) {
  console.error('usage: node scripts/report-screenshot.mjs REPORT.html OUT.png [light|dark]');
  process.exit(2);
}
const { ctx, close } = await launch({ width: 1280, height: 800 }, scheme);
try {
  const page = await ctx.newPage();
  await page.goto('file://' + path.resolve(file));
  await page.waitForFunction(() => window.__svmsim?.ready === true, null, { timeout: 60000 });
  const bottom = await page.evaluate(
    () => document.getElementById('lanes-section').getBoundingClientRect().bottom + window.scrollY,
  );
  await page.screenshot({
    path: out,
    clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) + 8 },
    fullPage: true,
  });
} finally {
  await close();
}
