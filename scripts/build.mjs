// Bundle the CLI into dist/svmsim.js (ESM, Node 20). Run by `npm run build` and by `prepare`.
import { build } from 'esbuild';

await build({
  // The CLI and the worker-thread entry of `compare`; code they share goes into chunks.
  entryPoints: { svmsim: 'src/cli/index.ts', 'compare-worker': 'src/cli/compare-worker.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  banner: { js: "import { createRequire as __svmsimCreateRequire } from 'node:module'; const require = __svmsimCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
