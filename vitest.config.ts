import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default'],
    // Tests that spawn the CLI take seconds on a loaded shared machine: no test is a timing test.
    testTimeout: 60_000,
  },
});
