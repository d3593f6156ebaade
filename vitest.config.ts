import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files share real services; unit files are cheap. Run files in parallel, tests in order.
    fileParallelism: true,
    reporters: ['default'],
  },
});
