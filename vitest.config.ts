import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kernel tests share one sandbox per file; files run in parallel, tests within a file in order.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
