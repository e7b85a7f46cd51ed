// Bundle the CLI into dist/svmsim.js (ESM, Node 20). Run by `npm run build` and by `prepare`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/index.ts'],
  outfile: 'dist/svmsim.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  banner: { js: "import { createRequire as __svmsimCreateRequire } from 'node:module'; const require = __svmsimCreateRequire(import.meta.url);" },
  // Native addon (svmsim import --from nsys-sqlite): loaded from node_modules at run time.
  external: ['better-sqlite3'],
  logLevel: 'warning',
});
