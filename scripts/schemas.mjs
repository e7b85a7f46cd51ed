// Write schemas/trace.schema.json and schemas/result.schema.json from the zod schemas
// (src/trace/json-schema.ts). Run by `npm run schemas`; test/trace/json-schema.test.ts fails when
// the committed files differ from what this writes.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'svmsim-schemas-'));
try {
  const out = join(dir, 'json-schema.mjs');
  await build({
    entryPoints: ['src/trace/json-schema.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  const { schemaFiles } = await import(pathToFileURL(out).href);
  mkdirSync('schemas', { recursive: true });
  for (const [file, text] of Object.entries(schemaFiles())) {
    writeFileSync(file, text);
    console.log(`wrote ${file} (${text.length} bytes)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
