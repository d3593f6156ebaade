import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/*
 * Builds the console page into dist/console/assets: app.js (src/console/web/main.ts bundled and minified by
 * esbuild), app.css and index.html, each with a .br and .gz beside it that the gateway sends to browsers that take
 * them. `npm run build` runs it compiled (dist/console/build.js) after tsc; the browser tests import it to build a
 * missing page before they start.
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const CONSOLE_ASSETS_OUT = join(root, 'dist', 'console', 'assets');

export async function buildConsole(outDir: string = CONSOLE_ASSETS_OUT): Promise<void> {
  const web = join(root, 'src', 'console', 'web');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(web, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(web, 'styles.css'), join(outDir, 'app.css'));
  copyFileSync(join(web, 'index.html'), join(outDir, 'index.html'));
  for (const name of ['app.js', 'app.css', 'index.html']) {
    const bytes = readFileSync(join(outDir, name));
    writeFileSync(join(outDir, `${name}.br`), brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    writeFileSync(join(outDir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole();
}
