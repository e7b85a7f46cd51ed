// Bundle the CLI into dist/svmsim.js (ESM, Node 20), and the HTML report's page script and styles
// into dist/report-page.js / dist/report-page.css (browser; inlined by the CLI into every report).
// Run by `npm run build` and by `prepare`. Source maps (dist/*.js.map, without the sources' text):
// `NODE_OPTIONS=--enable-source-maps svmsim ...` makes an internal error's stack name src/ files
// and lines. Not on by default: parsing the maps adds about 0.4 s to every run.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * zod's `locales` namespace (every language's error messages, 370 KB of the 760 KB of zod in the
 * bundle) reduced to English, the one zod itself installs and the only one svmsim uses: every
 * command that reads a trace loads zod, and compiling the other languages cost ~20 ms of each
 * start-up (`svmsim replay` of a 1-line trace: 0.23 -> 0.21 s CPU).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(a.importer)
        ? { path: join(dirname(a.importer), a.path), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(a.path),
      loader: 'js',
    }));
  },
};

/**
 * Modules loaded at their first use: each `file` (src/trace/schemas.ts, src/trace/decompressor.ts)
 * is, as written, a plain import of `target` and a function `fn` returning it (what vitest and tsc
 * compile); in the bundle its body becomes a require() of dist/`own` — the target built as a CJS
 * file of its own — at the first call. Nothing else imports the targets (test/architecture.test.ts),
 * so a command that never calls `fn` never even compiles them:
 * - schema.ts (the zod schemas and zod, 450 KB): the rows, headers and flags the fast paths do not
 *   take; a clean canonical CSV trace without platform flags never calls it (~30 ms of CPU a
 *   start-up). Only plain data crosses between it and the bundle (parse results, zod issues, plain
 *   objects): its own copies of rules.ts and values.ts are never compared by identity with the
 *   bundle's;
 * - decompress.ts (fflate and fzstd, 85 KB, which build their tables when evaluated): compressed
 *   traces. It imports nothing of the trace layer (its caller gives it the error to throw).
 */
const LAZY = [
  { file: 'schemas.ts', fn: 'schemas', target: './schema.ts', own: 'schema.cjs' },
  { file: 'decompressor.ts', fn: 'decompressor', target: './decompress.ts', own: 'decompress.cjs' },
];
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    for (const { file, fn, own } of LAZY) {
      b.onLoad({ filter: new RegExp(`[\\\\/]src[\\\\/]trace[\\\\/]${file.replace('.', '\\.')}$`) }, () => ({
        contents: `let m; export function ${fn}() { return (m ??= require('./${own}')); }`,
        loader: 'js',
      }));
      b.onResolve({ filter: new RegExp(`^\\./${own.replace('.', '\\.')}$`) }, (a) => ({
        path: a.path,
        external: true,
      }));
    }
  },
};
for (const { target, own } of LAZY) {
  await build({
    entryPoints: [join('src/trace', target)],
    outfile: join('dist', own),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  });
}

await build({
  entryPoints: { 'report-page': 'src/report/html/page.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'browser',
  target: ['chrome100', 'firefox113', 'safari16.4'],
  format: 'iife',
  minify: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
await build({
  entryPoints: { 'report-page': 'src/report/html/page.css' },
  outdir: 'dist',
  bundle: true,
  minify: true,
  logLevel: 'warning',
});

const page = { script: readFileSync('dist/report-page.js', 'utf8'), css: readFileSync('dist/report-page.css', 'utf8') };
const cli = await build({
  // The CLI and the worker-thread entry of `compare`; commands are loaded on demand (code
  // splitting: dist/*-HASH.js chunks), so `--version` and `--help` load almost nothing.
  entryPoints: { svmsim: 'src/cli/index.ts', 'compare-worker': 'src/cli/compare-worker.ts' },
  define: { __SVMSIM_REPORT_PAGE__: JSON.stringify(page) },
  outdir: 'dist',
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  legalComments: 'none',
  banner: {
    js: "import { createRequire as __svmsimCreateRequire } from 'node:module'; const require = __svmsimCreateRequire(import.meta.url);",
  },
  // Native addon (svmsim import --from nsys-sqlite): loaded from node_modules at run time.
  external: ['better-sqlite3'],
  plugins: [zodEnglishOnly, lazyModules],
  logLevel: 'warning',
});

// Chunks of earlier builds (other hashes) would ship in the package: remove what this build did not
// write. Files of the current build are never removed, so a test running dist/ meanwhile is safe.
const written = new Set(Object.keys(cli.metafile.outputs).map((f) => f.replace(/^dist\//, '')));
for (const f of readdirSync('dist')) {
  if (/^[\w-]+-[A-Z0-9]{8}\.js(\.map)?$/.test(f) && !written.has(f)) rmSync(`dist/${f}`, { force: true });
}
