// Headless Chromium for the report's browser tests, bench and screenshots: Debian's `chromium`
// (/usr/bin/chromium, or SVMSIM_CHROMIUM) driven by playwright-core, which never downloads a
// browser. Every launch gets a fresh profile directory and no network features.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.SVMSIM_CHROMIUM ?? '/usr/bin/chromium';

export function haveChromium() {
  return existsSync(CHROMIUM);
}

export async function launch(viewport = { width: 1280, height: 800 }, colorScheme = 'light') {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'svmsim-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    colorScheme,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
