import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyDirectory, generateAgentKey, serveKeyDirectory, signRequest, type AgentKey } from '../../src/agent/index.js';
import { createVerifier, IdentityError, type IdentityOptions, type WebBotAuthOptions } from '../../src/identity/index.js';
import type { Jwk } from '../../src/identity/jwk.js';
import { facts, T0 } from './helpers.js';
import { eventually } from './nonce-store-contract.js';

const agent = generateAgentKey();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const LOCAL: WebBotAuthOptions = { allowHttp: true, allowAddresses: ['127.0.0.1'] };

async function directoryServer(keys: AgentKey[], options: { now?: () => number; maxAge?: number } = {}) {
  const served = await serveKeyDirectory(createKeyDirectory(keys.map((k) => k.privateJwk), { now: options.now ?? (() => T0), ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }) }));
  closers.push(served.close);
  return served.url;
}

/** A directory server whose every answer we script, counting fetches. */
async function scriptedServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

function botRequest(key: AgentKey, signatureAgent: string, extra: { now?: number; path?: string } = {}) {
  const spec = { method: 'POST', url: `https://gw.example${extra.path ?? '/tools/search'}`, headers: { 'content-type': 'application/json' }, body: '{"q":"x"}' };
  const added = signRequest(spec, { privateJwk: key.privateJwk, signatureAgent, now: () => extra.now ?? T0 });
  return facts({ ...spec, headers: { ...spec.headers, ...added } });
}

async function verifier(options: Partial<WebBotAuthOptions> = {}, top: Partial<IdentityOptions> = {}, now: () => number = () => T0) {
  return createVerifier({ webBotAuth: { ...LOCAL, ...options }, now, ...top });
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(IdentityError);
  return (error as IdentityError).reason;
}

describe('Web Bot Auth', () => {
  it('verifies a dictionary-form Signature-Agent against the signed directory at its origin', async () => {
    const url = await directoryServer([agent]);
    const v = await verifier();
    const verified = await v.verify(botRequest(agent, url));
    expect(verified).toMatchObject({ scheme: 'web-bot-auth', id: url, signatureAgent: url, keyId: agent.thumbprint, thumbprint: agent.thumbprint });
    expect(verified.covered).toContain('"signature-agent";key="sig1"');
  });

  it('accepts the older string form, covered as the whole field', async () => {
    const url = await directoryServer([agent]);
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: { 'signature-agent': `"${url}"` } };
    const added = signRequest(spec, { privateJwk: agent.privateJwk, tag: 'web-bot-auth', now: () => T0 });
    expect(added['signature-input']).toContain('"signature-agent"');
    await expect((await verifier()).verify(facts({ ...spec, headers: { ...spec.headers, ...added } }))).resolves.toMatchObject({ id: url });
  });

  it('requires each signature to cover its own Signature-Agent member', async () => {
    const url = await directoryServer([agent]);
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: { 'signature-agent': `sig1="${url}"` } };
    const added = signRequest(spec, { privateJwk: agent.privateJwk, tag: 'web-bot-auth', now: () => T0, components: ['@method', '@authority', '@path', '@query'] });
    expect(await reasonOf((await verifier()).verify(facts({ ...spec, headers: { ...spec.headers, ...added } })))).toBe('coverage_insufficient');
    const otherMember = { ...spec.headers, 'signature-agent': `other="${url}"` };
    const added2 = signRequest({ ...spec, headers: otherMember }, { privateJwk: agent.privateJwk, tag: 'web-bot-auth', now: () => T0, components: ['@method', '@authority', '@path', '@query', '"signature-agent";key="other"'] });
    expect(await reasonOf((await verifier()).verify(facts({ ...spec, headers: { ...otherMember, ...added2 } })))).toBe('key_unknown');
  });

  it('looks keys up by (directory, keyid): a key from one directory cannot speak for another', async () => {
    const attacker = generateAgentKey();
    const victimUrl = await directoryServer([agent]);
    await directoryServer([attacker]);
    const v = await verifier();
    expect(await reasonOf(v.verify(botRequest(attacker, victimUrl)))).toBe('key_unknown');
  });

  it('requires tag web-bot-auth, expires, and the gateway policy (body digest) on bot signatures', async () => {
    const url = await directoryServer([agent]);
    const v = await verifier();
    const spec = { method: 'POST', url: 'https://gw.example/tools/x', headers: { 'content-type': 'application/json' }, body: '{}' };
    const added = signRequest(spec, { privateJwk: agent.privateJwk, signatureAgent: url, now: () => T0, components: ['@method', '@authority', '@path', '@query', '"signature-agent";key="sig1"'] });
    expect(await reasonOf(v.verify(facts({ ...spec, headers: { ...spec.headers, ...added } })))).toBe('coverage_insufficient');
  });

  it('refuses loopback and private directories unless allowlisted (SSRF)', async () => {
    const url = await directoryServer([agent]);
    expect(await reasonOf((await verifier({ allowAddresses: [] })).verify(botRequest(agent, url)))).toBe('directory_unavailable');
    expect(await reasonOf((await verifier({ allowAddresses: [] })).verify(botRequest(agent, 'http://10.1.2.3')))).toBe('directory_unavailable');
    expect(await reasonOf((await verifier({ allowAddresses: [] })).verify(botRequest(agent, 'http://169.254.169.254')))).toBe('directory_unavailable');
    const viaName = url.replace('127.0.0.1', 'localhost');
    expect(await reasonOf((await verifier({ allowAddresses: [] })).verify(botRequest(agent, viaName)))).toBe('directory_unavailable');
  });

  it('refuses a loopback directory however its origin spells the address, and dials the allowlisted one', async () => {
    const url = new URL(await directoryServer([agent]));
    const spellings = [`http://0x7f.1:${url.port}`, `http://2130706433:${url.port}`, `http://0177.0.0.1:${url.port}`, `http://[::ffff:127.0.0.1]:${url.port}`, `http://[::ffff:7f00:1]:${url.port}`];
    for (const origin of spellings) {
      const v = await verifier({ allowAddresses: [] });
      const error = await v.verify(botRequest(agent, origin)).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ reason: 'directory_unavailable', message: expect.stringMatching(/not a public address/) });
    }
    // Allowlisting 127.0.0.1 covers its other spellings (the URL parser turns them into 127.0.0.1 anyway).
    await expect((await verifier()).verify(botRequest(agent, `http://0x7f.1:${url.port}`))).resolves.toMatchObject({ verified: true });
  });

  it('refuses non-https directories unless allowHttp, and Signature-Agent values that are not origins', async () => {
    const url = await directoryServer([agent]);
    expect(await reasonOf((await verifier({ allowHttp: false })).verify(botRequest(agent, url)))).toBe('signature_malformed');
    expect(await reasonOf((await verifier()).verify(botRequest(agent, `${url}/keys.json`)))).toBe('signature_malformed');
    expect(await reasonOf((await verifier()).verify(botRequest(agent, 'not a url')))).toBe('signature_malformed');
  });

  it.each<[string, (res: ServerResponse, directory: ReturnType<typeof createKeyDirectory>, authority: string) => void]>([
    ['a redirect', (res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()],
    ['a 500', (res) => res.writeHead(500).end()],
    ['a wrong media type', (res, d, a) => res.writeHead(200, { ...d.headersFor(a, 'http'), 'content-type': 'application/json' }).end(d.body)],
    ['an unsigned directory', (res, d) => res.writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' }).end(d.body)],
    ['a signature made for another authority', (res, d) => res.writeHead(200, d.headersFor('elsewhere.example', 'http')).end(d.body)],
    ['a body that does not match its digest', (res, d, a) => res.writeHead(200, d.headersFor(a, 'http')).end(d.body.replace('sig', 'sag'))],
    ['an oversized body', (res, d, a) => res.writeHead(200, d.headersFor(a, 'http')).end(d.body + ' '.repeat(70_000))],
    ['not JSON', (res, d, a) => res.writeHead(200, d.headersFor(a, 'http')).end('{')],
  ])('treats %s as directory_unavailable', async (_name, answer) => {
    const directory = createKeyDirectory([agent.privateJwk], { now: () => T0 });
    const server = await scriptedServer((req, res) => answer(res, directory, req.headers.host ?? ''));
    expect(await reasonOf((await verifier()).verify(botRequest(agent, server.url)))).toBe('directory_unavailable');
  });

  it('an unsigned directory is usable when requireDirectorySignature is false', async () => {
    const directory = createKeyDirectory([agent.privateJwk], { now: () => T0 });
    const server = await scriptedServer((_req, res) => res.writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' }).end(directory.body));
    await expect((await verifier({ requireDirectorySignature: false })).verify(botRequest(agent, server.url))).resolves.toMatchObject({ id: server.url });
  });

  it('bounds key count and fetch time', async () => {
    const many = Array.from({ length: 3 }, () => generateAgentKey());
    const url = await directoryServer([agent, ...many]);
    expect(await reasonOf((await verifier({ maxKeys: 2 })).verify(botRequest(agent, url)))).toBe('directory_unavailable');
    const silent = await scriptedServer(() => undefined);
    const started = Date.now();
    expect(await reasonOf((await verifier({ fetchTimeoutMs: 200 })).verify(botRequest(agent, silent.url)))).toBe('directory_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('caches per Cache-Control, coalesces concurrent fetches, and refetches when stale', async () => {
    const directory = createKeyDirectory([agent.privateJwk], { now: () => T0, maxAge: 120 });
    const server = await scriptedServer((req, res) => res.writeHead(200, directory.headersFor(req.headers.host ?? '', 'http')).end(directory.body));
    let now = T0;
    const v = await verifier({}, {}, () => now);
    await Promise.all(Array.from({ length: 10 }, (_, i) => v.verify(botRequest(agent, server.url, { path: `/tools/t${i}` }))));
    expect(server.hits()).toBe(1);
    now = T0 + 60_000;
    await v.verify(botRequest(agent, server.url, { now, path: '/tools/again' }));
    expect(server.hits()).toBe(1);
    now = T0 + 121_000;
    await v.verify(botRequest(agent, server.url, { now, path: '/tools/later' }));
    expect(server.hits()).toBe(2);
  });

  it.each<[string, (now: number) => Record<string, string>, number]>([
    // The server's clock is an hour behind ours: Expires counts from its Date, so our skew does not matter.
    ['Expires relative to Date', (now) => ({ date: new Date(now - 3_600_000).toUTCString(), expires: new Date(now - 3_600_000 + 120_000).toUTCString() }), 120_000],
    ['Expires without Date (our clock)', (now) => ({ expires: new Date(now + 120_000).toUTCString() }), 120_000],
    ['an invalid Expires (already expired; clamped to minTtlMs)', () => ({ expires: '0' }), 60_000],
    ['Cache-Control without max-age, and Expires', (now) => ({ 'cache-control': 'public', expires: new Date(now + 300_000).toUTCString() }), 300_000],
    ['max-age over Expires', (now) => ({ 'cache-control': 'max-age=90', expires: new Date(now + 3_000_000).toUTCString() }), 90_000],
  ])('honours %s', async (_name, freshness, ttl) => {
    const directory = createKeyDirectory([agent.privateJwk], { now: () => T0 });
    const server = await scriptedServer((req, res) => {
      const { 'cache-control': _cc, ...headers } = directory.headersFor(req.headers.host ?? '', 'http');
      // Node adds Date (the real clock) unless told not to; each case says which Date it sends.
      res.sendDate = false;
      res.writeHead(200, { ...headers, ...freshness(T0) }).end(directory.body);
    });
    let now = T0;
    const v = await verifier({}, {}, () => now);
    await v.verify(botRequest(agent, server.url));
    now = T0 + ttl - 1000;
    await v.verify(botRequest(agent, server.url, { now, path: '/fresh' }));
    expect(server.hits()).toBe(1);
    now = T0 + ttl + 1000;
    await v.verify(botRequest(agent, server.url, { now, path: '/stale' }));
    expect(server.hits()).toBe(2);
  });

  it('slow directories hold one fetch slot each (per origin): another origin\'s first call still completes', async () => {
    // 20 origins that accept the request and never answer, each named by 5 requests at once.
    const slow = await Promise.all(Array.from({ length: 20 }, () => scriptedServer(() => undefined)));
    const v = await verifier({ fetchTimeoutMs: 30_000 });
    const hanging = slow.flatMap((server) => Array.from({ length: 5 }, (_, i) => v.verify(botRequest(agent, server.url, { path: `/tools/t${i}` })).catch(() => undefined)));
    await eventually(async () => expect(slow.every((server) => server.hits() === 1)).toBe(true));
    const fast = await directoryServer([agent]);
    await expect(v.verify(botRequest(agent, fast))).resolves.toMatchObject({ verified: true, id: fast });
    expect(slow.every((server) => server.hits() === 1)).toBe(true);
    void hanging;
  });

  it('the global cap on fetches in flight fails fast with a reason naming the option', async () => {
    const slow = await scriptedServer(() => undefined);
    const v = await verifier({ fetchTimeoutMs: 30_000, maxConcurrentFetches: 1 });
    void v.verify(botRequest(agent, slow.url)).catch(() => undefined);
    await eventually(async () => expect(slow.hits()).toBe(1));
    const fast = await directoryServer([agent]);
    const error = await v.verify(botRequest(agent, fast)).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ reason: 'directory_unavailable', message: expect.stringMatching(/maxConcurrentFetches/) });
  });

  it('negative-caches failures, and a failed refresh keeps the last good copy', async () => {
    let healthy = false;
    const directory = createKeyDirectory([agent.privateJwk], { now: () => T0, maxAge: 60 });
    const server = await scriptedServer((req, res) => (healthy ? res.writeHead(200, directory.headersFor(req.headers.host ?? '', 'http')).end(directory.body) : res.writeHead(503).end()));
    let now = T0;
    const v = await verifier({ negativeTtlMs: 30_000 }, {}, () => now);
    expect(await reasonOf(v.verify(botRequest(agent, server.url)))).toBe('directory_unavailable');
    healthy = true;
    expect(await reasonOf(v.verify(botRequest(agent, server.url, { path: '/b' })))).toBe('directory_unavailable');
    expect(server.hits()).toBe(1);
    now = T0 + 31_000;
    await expect(v.verify(botRequest(agent, server.url, { now, path: '/c' }))).resolves.toBeTruthy();
    expect(server.hits()).toBe(2);
    healthy = false;
    now = T0 + 31_000 + 61_000;
    await expect(v.verify(botRequest(agent, server.url, { now, path: '/d' }))).resolves.toBeTruthy();
    expect(server.hits()).toBe(3);
  });

  it('a key removed from a freshly fetched directory stops verifying', async () => {
    let keys = [agent.privateJwk];
    const next = generateAgentKey();
    const server = await scriptedServer((req, res) => {
      const d = createKeyDirectory(keys, { now: () => T0, maxAge: 60 });
      res.writeHead(200, d.headersFor(req.headers.host ?? '', 'http')).end(d.body);
    });
    let now = T0;
    const v = await verifier({}, {}, () => now);
    await v.verify(botRequest(agent, server.url));
    keys = [next.privateJwk];
    now = T0 + 61_000;
    expect(await reasonOf(v.verify(botRequest(agent, server.url, { now, path: '/x' })))).toBe('key_unknown');
    await expect(v.verify(botRequest(next, server.url, { now, path: '/y' }))).resolves.toMatchObject({ thumbprint: next.thumbprint });
  });

  it('trustedDirectories, revocation and production mode apply to directory keys', async () => {
    const url = await directoryServer([agent]);
    expect(await reasonOf((await verifier({ trustedDirectories: ['https://bots.example'] })).verify(botRequest(agent, url)))).toBe('key_unknown');
    await expect((await verifier({ trustedDirectories: [url] })).verify(botRequest(agent, url))).resolves.toBeTruthy();
    expect(await reasonOf((await verifier({}, { revokedThumbprints: [agent.thumbprint] })).verify(botRequest(agent, url)))).toBe('key_revoked');
    const rfc = JSON.parse(readFileSync(new URL('../fixtures/identity/rfc9421-keys.json', import.meta.url), 'utf8')).keys['test-key-ed25519'].private as Jwk;
    const { kid: _kid, ...rfcJwk } = rfc;
    const rfcKey: AgentKey = { privateJwk: rfcJwk, publicJwk: rfcJwk, thumbprint: 'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U' };
    const testUrl = await directoryServer([rfcKey]);
    await expect((await verifier()).verify(botRequest(rfcKey, testUrl))).resolves.toBeTruthy();
    expect(await reasonOf((await verifier({}, { production: true })).verify(botRequest(rfcKey, testUrl)))).toBe('key_revoked');
  });

  it('replays are refused per (directory, key)', async () => {
    const url = await directoryServer([agent]);
    const v = await verifier();
    const request = botRequest(agent, url);
    await v.verify(request);
    expect(await reasonOf(v.verify(request))).toBe('replayed');
  });

  it('bad webBotAuth options are ConfigErrors naming the fix', async () => {
    await expect(createVerifier({ webBotAuth: { negativeTtl: 5 } as never })).rejects.toThrow(/did you mean "negativeTtlMs"/);
    await expect(createVerifier({ webBotAuth: { negativeTtlMs: 600_000 } })).rejects.toThrow(/five minutes/);
    await expect(createVerifier({ webBotAuth: { trustedDirectories: ['nope'] } })).rejects.toThrow(/origin/);
  });
});
