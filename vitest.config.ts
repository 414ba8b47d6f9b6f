import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full-kernel lane boots a VM per test and has its own config (npm run test:kernel-vm).
    exclude: [...configDefaults.exclude, 'test/kernel-vm/**'],
    // Kernel tests share one sandbox per file; files run in parallel, tests within a file in order.
    // Most of a kernel test's time is spent waiting (on ip, ping, a carrier), not computing: more
    // files at once than cores, where vitest's default (cores - 1) would run them one by one on two.
    maxWorkers: Number(process.env.NETLAB_TEST_WORKERS) || Math.max(3, availableParallelism()),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
