import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each of these runs alone, after the rest (make test): the outage test stops and restarts the shared Kafka
    // broker; the cluster test kills brokers of a 3-JVM cluster whose failure detection (2 s sessions) should not
    // compete with the other test files for the two cores. It can still stall alone (one of five runs on
    // 2026-11-28, right after a full run; the stall message now includes the cluster's view of the partition).
    exclude: ['node_modules/**', ...(process.env.TOOLGATE_DISRUPTIVE === '1' ? [] : ['test/integration/audit-outage.test.ts', 'test/integration/kafka-cluster.test.ts'])],
    // One temporary directory per run, removed at its end (test/helpers/tmp-root.ts).
    globalSetup: ['test/helpers/tmp-root.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files share real services; unit files are cheap. Run files in parallel, tests in order.
    fileParallelism: true,
    reporters: ['default'],
  },
});
