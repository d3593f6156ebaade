import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The outage test stops and restarts the shared Kafka broker: it runs alone, after the rest (make test).
    exclude: ['node_modules/**', ...(process.env.TOOLGATE_DISRUPTIVE === '1' ? [] : ['test/integration/audit-outage.test.ts'])],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files share real services; unit files are cheap. Run files in parallel, tests in order.
    fileParallelism: true,
    reporters: ['default'],
  },
});
