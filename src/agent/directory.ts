import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serializeInnerList, type BareItem, type Item } from 'structured-headers';
import { normalizeAuthority } from '../identity/components.js';
import { contentDigest } from '../identity/content-digest.js';
import { JOSE_NAMES } from '../identity/algorithms.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_TAG } from '../identity/directory.js';
import { publicJwk, type Jwk } from '../identity/jwk.js';
import { signatureBaseBytes, signatureBaseFrom } from '../identity/signature-base.js';
import { importSigningKey } from './keys.js';

export interface KeyDirectoryOptions {
  /** Lifetime of each response signature, in seconds. Default 86400. */
  readonly expiresIn?: number;
  /** Cache-Control max-age sent with the directory, in seconds. Default 3600. */
  readonly maxAge?: number;
  /** Clock in ms, for tests. Default Date.now. */
  readonly now?: () => number;
}

export interface KeyDirectory {
  /** The JWKS body: public keys only, kid = RFC 7638 thumbprint. */
  readonly body: string;
  /** Response headers for a fetch made to `authority`, each key signing the response (proof of possession). */
  headersFor(authority: string, scheme?: 'http' | 'https'): Record<string, string>;
}

/** A Web Bot Auth key directory (draft-ietf-webbotauth-httpsig-protocol) for the given private keys. */
export function createKeyDirectory(privateJwks: readonly Jwk[], options: KeyDirectoryOptions = {}): KeyDirectory {
  if (privateJwks.length === 0) throw new TypeError('a key directory needs at least one key');
  const signers = privateJwks.map((jwk) => importSigningKey(jwk));
  if (signers.some((s) => s.alg === 'hmac-sha256')) throw new TypeError('a key directory publishes public keys: shared secrets cannot go in one');
  const body = JSON.stringify({ keys: privateJwks.map((jwk, i) => ({ ...publicJwk(jwk), kid: signers[i]!.thumbprint, alg: JOSE_NAMES[signers[i]!.alg], use: 'sig' })) });
  const digest = contentDigest(Buffer.from(body));
  const now = options.now ?? Date.now;
  const expiresIn = options.expiresIn ?? 86_400;
  const components: Item[] = [['@authority', new Map([['req', true]])], ['content-digest', new Map()]];
  const ids = ['"@authority";req', '"content-digest"'];
  return {
    body,
    headersFor(authority, scheme = 'https') {
      const created = Math.floor(now() / 1000);
      const inputs: string[] = [];
      const signatures: string[] = [];
      signers.forEach((signer, i) => {
        const params = new Map<string, BareItem>([['created', created], ['expires', created + expiresIn], ['keyid', signer.thumbprint], ['tag', DIRECTORY_TAG]]);
        const signatureParams = serializeInnerList([components, params]);
        const base = signatureBaseFrom((name) => (name === '@authority' ? normalizeAuthority(authority, scheme) : digest), ids, signatureParams);
        inputs.push(`binding${i}=${signatureParams}`);
        signatures.push(`binding${i}=:${signer.sign(signatureBaseBytes(base)).toString('base64')}:`);
      });
      return {
        'content-type': DIRECTORY_MEDIA_TYPE,
        'cache-control': `max-age=${options.maxAge ?? 3600}`,
        'content-digest': digest,
        'signature-input': inputs.join(', '),
        'signature': signatures.join(', '),
      };
    },
  };
}

/** Serves a key directory at its well-known path (404 elsewhere). For the CLI and tests; bind to loopback by default. */
export async function serveKeyDirectory(directory: KeyDirectory, options: { port?: number; host?: string } = {}): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if ((req.url ?? '').split('?')[0] !== DIRECTORY_PATH) return res.writeHead(404).end();
    res.writeHead(200, directory.headersFor(req.headers.host ?? '', 'http')).end(req.method === 'HEAD' ? undefined : directory.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return { url: `http://${host}:${port}`, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
