/* global module */
/**
 * Import rules for src/, checked by `npm run deps:check` in `make test`. Layers, bottom to top: the stages and
 * their helpers (identity, policy, limits, redis, logger.ts, ...), then the gateway (src/gateway, the
 * composition of the stages), then the server (src/server: the app `toolgate serve` runs), then the programs
 * (src/cli, src/demo, src/bench) and the package index. Imports point down only, and never round in a circle:
 * a cycle makes module load order matter and turns a small change into a change everywhere.
 */

// The layers above the stages; a new stage folder is constrained without being listed.
const COMPOSITION = '^src/(gateway|server|cli|demo|bench)/|^src/index\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycle: move the shared piece (a type, a constant) into a leaf module both sides import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'stages-not-upward',
      severity: 'error',
      comment: 'A stage imports the gateway, server or a program: move what it needs (a type, a helper) down into the stage or a leaf module (src/logger.ts, src/errors.ts).',
      from: { path: '^src/', pathNot: COMPOSITION },
      to: { path: COMPOSITION },
    },
    {
      name: 'gateway-not-upward',
      severity: 'error',
      comment: 'The gateway imports the server or a program: the gateway is a library; pass what it needs in through its options.',
      from: { path: '^src/gateway/' },
      to: { path: '^src/(server|cli|demo|bench)/|^src/index\\.ts$' },
    },
    {
      name: 'server-not-upward',
      severity: 'error',
      comment: 'The production server imports a program (the demo, the CLI, the bench): move the shared piece into src/server/.',
      from: { path: '^src/server/' },
      to: { path: '^src/(cli|demo|bench)/|^src/index\\.ts$' },
    },
    {
      name: 'nothing-imports-the-demo',
      severity: 'error',
      // The bench measures the demo's own scenario (its agents against the shipped policy data); it is a
      // development program, never loaded by `toolgate serve`.
      comment: 'Only the demo (and the bench, which measures its scenario) may import src/demo: move what the server or CLI needs into src/server/.',
      from: { path: '^src/', pathNot: '^src/(demo|bench)/' },
      to: { path: '^src/demo/' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'Shipped code imports a test file: move the shared piece into src/.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // Type-only imports count: a cycle through types is still a cycle in the design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
