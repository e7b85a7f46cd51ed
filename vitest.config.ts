import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default'],
    // Spawning tests share 2 cores with other work: a generous timeout (not a timing assertion).
    testTimeout: 60_000,
    // Line coverage (V8's own counters), measured only when asked: `npm test` runs the suite with
    // --coverage and fails below the thresholds; `npx vitest run test/x` while iterating does not.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: [
        // The HTML report's browser script: it runs only inside Chromium (test/browser drives it
        // through playwright), where Node's V8 coverage cannot see it.
        'src/report/html/page.ts',
        // The benchmark's worker: run by `npm run bench` (scripts/bench.mjs), not by the tests.
        'src/bench/**',
      ],
      reporter: ['text-summary', ['json-summary', { file: 'coverage-summary.json' }]],
      reportsDirectory: 'coverage',
      thresholds: {
        // overall: every file of src/ but the two above
        lines: 90,
        // the model: every reachable path has a test
        'src/core/**': { lines: 95 },
        // floors a few points under today's figures (the fuzz tests draw a random seed per run,
        // so some directories move by a point or two): coverage must not slide as code is added
        'src/trace/**': { lines: 94 },
        'src/report/**': { lines: 94 },
        'src/gen/**': { lines: 95 },
        'src/import/**': { lines: 90 },
        'src/validate/**': { lines: 93 },
        'src/replay/**': { lines: 90 },
        // thin commands, much of them run in child processes (bin/svmsim.js, worker threads) that
        // V8 coverage of the test workers cannot see: node-io.ts, index.ts, compare-worker.ts
        'src/cli/**': { lines: 75 },
      },
    },
  },
});
