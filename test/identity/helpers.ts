import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateAgentKey, signRequest, type AgentKey, type SigningOptions } from '../../src/agent/index.js';
import type { IdentityError, RequestFacts, Verifier } from '../../src/identity/index.js';

export const T0 = 1_750_000_000_000;

export interface RequestSpec {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Signs a request and returns it as the verifier sees it (RequestFacts), without a network. */
export function signedFacts(key: AgentKey | { privateJwk: AgentKey['privateJwk'] }, spec: RequestSpec = {}, options: Partial<SigningOptions> = {}): RequestFacts {
  const method = spec.method ?? 'POST';
  const url = new URL(spec.url ?? 'https://gw.example/tools/email.send');
  const body = spec.body ?? (method === 'GET' ? '' : '{"to":"a@example.com"}');
  const headers: Record<string, string> = { ...(body.length > 0 ? { 'content-type': 'application/json' } : {}), ...spec.headers };
  const added = signRequest({ method, url, headers, body }, { privateJwk: key.privateJwk, now: () => T0, ...options });
  return facts({ method, url: url.href, headers: { ...headers, ...added }, body });
}

export function facts(spec: { method: string; url: string; headers: Record<string, string | string[]>; body?: string | Buffer }): RequestFacts {
  const url = new URL(spec.url);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(spec.headers)) headers[name.toLowerCase()] = value;
  headers.host ??= url.host;
  return {
    method: spec.method,
    target: `${url.pathname}${url.search}`,
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    authority: url.host,
    headers,
    rawBody: typeof spec.body === 'string' ? Buffer.from(spec.body) : (spec.body ?? Buffer.alloc(0)),
  };
}

export function registryFor(key: AgentKey, extra: Record<string, unknown> = {}): { keys: Record<string, unknown>[] } {
  return { keys: [{ ...key.publicJwk, agent: 'receipts-bot', labels: { team: 'finance' }, ...extra }] };
}

export function withHeaders(f: RequestFacts, change: Record<string, string | undefined>): RequestFacts {
  const headers: Record<string, string | string[] | undefined> = { ...f.headers };
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...f, headers };
}

export { generateAgentKey };

/** A server on a free loopback port that hands each request to `handle` as RequestFacts. */
export async function factsServer(handle: (facts: RequestFacts) => Promise<{ status: number; body: unknown }>): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const f: RequestFacts = { method: req.method ?? 'GET', target: req.url ?? '/', scheme: 'http', authority: req.headers.host ?? '', headers: req.headers, rawBody: Buffer.concat(chunks) };
      handle(f).then(
        ({ status, body }) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A server that verifies each request with `verifier`: 200 with the VerifiedAgent, or 401 with the reason. */
export function verifyingServer(verifier: Verifier): Promise<{ url: string; close: () => Promise<void> }> {
  return factsServer(async (f) => {
    try {
      return { status: 200, body: await verifier.verify(f) };
    } catch (error) {
      return { status: 401, body: { reason: (error as IdentityError).reason, message: (error as Error).message } };
    }
  });
}
