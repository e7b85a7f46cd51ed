import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default'],
    // Spawning tests share 2 cores with other work: a generous timeout (not a timing assertion).
    testTimeout: 60_000,
  },
});
