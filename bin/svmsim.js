#!/usr/bin/env node
// svmsim command: runs the bundle built by `npm run build` (run automatically by `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/svmsim.js', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('svmsim: dist/svmsim.js is missing; run `npm run build` (or `npm ci`) first\n');
  process.exit(3);
}
await import(bundle);
