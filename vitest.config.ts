import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default'],
    // The machine is shared: tests that spawn the CLI can take longer than the 5 s default.
    testTimeout: 30_000,
  },
});
