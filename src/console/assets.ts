import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request, Response } from 'express';
import { fail } from './respond.js';

/**
 * The console's Content-Security-Policy: only the page's own script and style, API calls to its own origin, no
 * inline script or style, no plugins, no framing, and Trusted Types required, so even a stray `innerHTML =` with
 * a string throws in the browser instead of parsing markup.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

export function securityHeaders(res: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

interface Asset {
  readonly type: string;
  readonly identity: Buffer;
  readonly br: Buffer | undefined;
  readonly gzip: Buffer | undefined;
}

/** Where `npm run build` puts the page: dist/console/assets, from src/ (tests) and dist/ (the package) alike. */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/console/assets/', import.meta.url));

/**
 * The built page, read once at start (three small files, with the .br and .gz the build wrote). A missing build is
 * not fatal: the page answers 503 console_not_built, which names the fix.
 */
export function loadAssets(dir: string): ReadonlyMap<string, Asset> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const out = new Map<string, Asset>();
  for (const [name, type] of Object.entries(TYPES)) {
    const read = (suffix: string): Buffer | undefined => (existsSync(join(dir, name + suffix)) ? readFileSync(join(dir, name + suffix)) : undefined);
    const identity = read('');
    if (identity === undefined) return null;
    out.set(name, { type, identity, br: read('.br'), gzip: read('.gz') });
  }
  return out;
}

export function serveAsset(assets: ReadonlyMap<string, Asset> | null, name: string, req: Request, res: Response): void {
  securityHeaders(res);
  if (assets === null) {
    return fail(res, 503, 'unavailable', 'console_not_built', 'The console page is not built: run `npm run build` (it writes dist/console/assets), then restart the gateway.');
  }
  const asset = assets.get(name);
  if (asset === undefined) return fail(res, 404, 'not_found', 'console_asset_unknown', 'No such console file; open /console/.');
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const [body, encoding] = asset.br && /\bbr\b/.test(accepts) ? [asset.br, 'br'] : asset.gzip && /\bgzip\b/.test(accepts) ? [asset.gzip, 'gzip'] : [asset.identity, undefined];
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Vary', 'Accept-Encoding');
  // The page is tiny and changes with each build: always revalidate rather than hash file names.
  res.setHeader('Cache-Control', 'no-cache');
  if (encoding !== undefined) res.setHeader('Content-Encoding', encoding);
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}
