import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full-kernel lane boots a VM per test and has its own config (npm run test:kernel-vm).
    exclude: [...configDefaults.exclude, 'test/kernel-vm/**'],
    // Kernel tests share one sandbox per file; files run in parallel, tests within a file in order.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
