// The full-kernel lane (npm run test:kernel-vm): each test boots Debian's stock kernel under qemu.
// One VM at a time: each wants both of a 2-core machine's cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../../', import.meta.url).pathname,
    include: ['test/kernel-vm/**/*.test.ts'],
    globalSetup: ['test/kernel-vm/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 60_000,
  },
});
