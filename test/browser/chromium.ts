/**
 * A real headless Chromium for the browser tests: Debian's `chromium` (/usr/bin/chromium, or
 * SVMSIM_CHROMIUM), driven by playwright-core, which never downloads a browser (scripts/chromium.mjs,
 * shared with the bench and the screenshot script).
 */
export { haveChromium, launch } from '../../scripts/chromium.mjs';
