import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { directory, jwks, keygen, request, sign } from '../../src/cli/identity.js';
import { UsageError } from '../../src/cli/audit.js';
import { createVerifier, IdentityError } from '../../src/identity/index.js';
import { facts, factsServer } from './helpers.js';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

async function tempKey(agent = 'cli-bot'): Promise<{ dir: string; file: string; thumbprint: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'toolgate-cli-'));
  const file = join(dir, 'agent.key.json');
  const c = capture();
  expect(await keygen(['--out', file, '--agent', agent, '--json'], c.out)).toBe(0);
  return { dir, file, thumbprint: JSON.parse(c.text()).thumbprint };
}

describe('identity CLI handlers', () => {
  it('keygen writes a private JWK (mode 600), prints the registry entry, and refuses to overwrite', async () => {
    const { file, thumbprint } = await tempKey();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: thumbprint });
    await expect(keygen(['--out', file], capture().out)).rejects.toThrow(UsageError);
    const c = capture();
    expect(await keygen(['--out', file, '--force', '--alg', 'ecdsa-p256-sha256'], c.out)).toBe(0);
    expect(c.text()).toMatch(/thumbprint \(keyid\): \S{43}/);
    await expect(keygen(['--out', file, '--alg', 'hmac-sha256', '--force'], capture().out)).rejects.toThrow(/--alg/);
  });

  it('jwks prints a registry the verifier accepts; signing with sign/request verifies', async () => {
    const { file } = await tempKey();
    const c = capture();
    expect(await jwks([file, '--agent', 'cli-bot', '--label', 'team=ops'], c.out)).toBe(0);
    const registry = JSON.parse(c.text());
    expect(registry.keys[0]).not.toHaveProperty('d');
    const v = await createVerifier({ jwks: registry });

    const s = capture();
    expect(await sign(['https://gw.example/tools/email.send', '--key', file, '-d', '{"to":"a@example.com"}'], s.out)).toBe(0);
    const lines = s.text().split('\n');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1, lines.indexOf(''))) headers[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2);
    expect(await v.verify(facts({ method: 'POST', url: 'https://gw.example/tools/email.send', headers, body: '{"to":"a@example.com"}' }))).toMatchObject({ id: 'cli-bot', labels: { team: 'ops' } });

    const server = await factsServer(async (f) => {
      try {
        return { status: 200, body: { agent: (await v.verify(f)).id } };
      } catch (error) {
        return { status: 401, body: { error: 'unauthenticated', reason: (error as IdentityError).reason } };
      }
    });
    try {
      const ok = capture();
      expect(await request([`${server.url}/tools/email.send`, '--key', file, '-d', '{"to":"a@example.com"}'], ok.out)).toBe(0);
      expect(ok.text()).toMatch(/^HTTP 200 OK\n\{"agent":"cli-bot"\}/);
      const other = await tempKey('stranger');
      const refused = capture();
      expect(await request([`${server.url}/tools/email.send`, '--key', other.file, '-X', 'POST', '-d', '{}'], refused.out)).toBe(1);
      expect(refused.text()).toContain('"reason":"key_unknown"');
    } finally {
      await server.close();
    }
  });

  it('request/sign refuse bad usage with a message that names the fix', async () => {
    const { file } = await tempKey();
    await expect(sign(['https://gw.example/x'], capture().out)).rejects.toThrow(/--key/);
    await expect(sign(['https://gw.example/x', '--key', file, '-d', '{nope'], capture().out)).rejects.toThrow(/not JSON/);
    await expect(sign(['not a url', '--key', file], capture().out)).rejects.toThrow(/not a URL/);
    const pub = capture();
    await jwks([file], pub.out);
    const { writeFile } = await import('node:fs/promises');
    const pubFile = `${file}.pub`;
    await writeFile(pubFile, JSON.stringify(JSON.parse(pub.text()).keys[0]));
    await expect(sign(['https://gw.example/x', '--key', pubFile], capture().out)).rejects.toThrow(/private key/);
  });

  it('directory prints a signed directory for an authority, and serves one a Web Bot Auth verifier trusts', async () => {
    const { file, thumbprint } = await tempKey();
    const printed = capture();
    expect(await directory([file, '--authority', 'bots.example'], printed.out)).toBe(0);
    const doc = JSON.parse(printed.text());
    expect(doc.body.keys[0].kid).toBe(thumbprint);
    expect(doc.headers['signature-input']).toContain('tag="http-message-signatures-directory"');

    const abort = new AbortController();
    const served = capture();
    const running = directory([file, '--serve'], served.out, { signal: abort.signal });
    while (!served.text().includes('serving')) await new Promise((resolve) => setImmediate(resolve));
    const origin = /serving (\S+)\/\.well-known/.exec(served.text())?.[1] ?? '';
    try {
      const s = capture();
      await sign(['https://gw.example/tools/search', '--key', file, '--signature-agent', origin], s.out);
      const lines = s.text().trim().split('\n').slice(1);
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      const v = await createVerifier({ webBotAuth: { allowHttp: true, allowAddresses: ['127.0.0.1'] } });
      expect(await v.verify(facts({ method: 'GET', url: 'https://gw.example/tools/search', headers }))).toMatchObject({ scheme: 'web-bot-auth', id: origin });
    } finally {
      abort.abort();
      expect(await running).toBe(0);
    }
  });
});
