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
  logLevel: 'warning',
});
