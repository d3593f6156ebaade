/**
 * `make bench`: measures DESIGN.md's performance targets on this machine in one run and writes
 * <out>/results.md and <out>/results.json. Exits 1 on errors (a server that fails, refused bench calls), never
 * on a missed target: those are marked MISSED in the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_USAGE, parseBenchOptions } from './options.js';
import { toMarkdown } from './report.js';
import { updateReadme } from './readme.js';
import { runBench } from './run.js';

async function main(argv: readonly string[]): Promise<number> {
  const options = parseBenchOptions(argv);
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const { help: _help, readme, ...bench } = options;
  const results = await runBench(bench, (line) => process.stderr.write(`[bench] ${line}\n`));
  const markdown = toMarkdown(results);
  mkdirSync(bench.outDir, { recursive: true });
  writeFileSync(join(bench.outDir, 'results.md'), markdown);
  writeFileSync(join(bench.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  // A run whose soak stopped on a refused call keeps its results but is not the README's table: it failed.
  const failed = results.soakFailed !== undefined;
  const readmeWritten = !failed && readme !== '' && updateReadme(readme, markdown.replace(/^## .*\n+/, ''));
  process.stdout.write(`${markdown}\nwritten: ${join(bench.outDir, 'results.md')}, ${join(bench.outDir, 'results.json')}${readmeWritten ? `, ${readme} (between the bench markers)` : ''}\n`);
  if (failed) {
    process.stderr.write(`[bench] error: the soak stopped (the results above are kept; README not updated): ${results.soakFailed}\n`);
    return 1;
  }
  return 0;
}

// Signals end the run through process.exit, so the exit hooks stop OPA and remove the scratch directory
// (server children exit by themselves when their IPC channel closes).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[bench] error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
