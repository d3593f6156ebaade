import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBreakGlassVerifier } from '../../src/breakglass/index.js';
import { UsageError } from '../../src/cli/audit.js';
import { breakGlassIssue, breakGlassKeygen, parseDuration } from '../../src/cli/breakglass.js';

function sink(): { out: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    out: new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

describe('toolgate breakglass CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bg-cli-'));
  const key = join(dir, 'admin.jwk');
  const jwks = join(dir, 'admin.jwks.json');

  it('keygen writes a private JWK (0600) and a public JWKS, and will not overwrite them', async () => {
    const s = sink();
    expect(await breakGlassKeygen(['--key', key, '--jwks', jwks], s.out)).toBe(0);
    expect(s.text()).toMatch(/thumbprint: +[A-Za-z0-9_-]{43}/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(key, 'utf8'))).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String) });
    const pub = JSON.parse(readFileSync(jwks, 'utf8')) as { keys: Record<string, unknown>[] };
    expect(pub.keys).toHaveLength(1);
    expect(pub.keys[0]?.d).toBeUndefined();
    await expect(breakGlassKeygen(['--key', key, '--jwks', jwks], sink().out)).rejects.toThrow(UsageError);
  });

  it('issue prints a token the gateway verifier accepts', async () => {
    const s = sink();
    expect(await breakGlassIssue(['--key', key, '--who', 'alice', '--why', 'incident 42', '--ttl', '1h', '--scope', 'trade.place', '--scope', 'trade.cancel'], s.out)).toBe(0);
    const token = s.text().trim();
    const facts = createBreakGlassVerifier({ adminJwks: [jwks] }).check(token);
    expect(facts).toMatchObject({ valid: true, who: 'alice', why: 'incident 42', scopes: ['trade.place', 'trade.cancel'] });
    expect(Date.parse(facts?.until ?? '') - Date.now()).toBeGreaterThan(3500_000);
  });

  it('issue --json prints the token and its payload', async () => {
    const s = sink();
    await breakGlassIssue(['--key', key, '--who', 'bob', '--why', 'INC-7', '--scope', '*', '--json'], s.out);
    expect(JSON.parse(s.text())).toMatchObject({ token: expect.stringMatching(/^tgbg1\./), payload: { who: 'bob', scopes: ['*'], exp: expect.any(Number) } });
  });

  it.each([
    [['--who', 'a', '--why', 'b', '--scope', 'x'], /--key/],
    [['--key', key, '--why', 'b', '--scope', 'x'], /--who/],
    [['--key', key, '--who', 'a', '--scope', 'x'], /--why/],
    [['--key', key, '--who', 'a', '--why', 'b'], /--scope/],
    [['--key', key, '--who', 'a', '--why', 'b', '--scope', 'x', '--ttl', 'soon'], /--ttl/],
  ])('issue %j refuses with a usage error naming %s', async (argv, message) => {
    await expect(breakGlassIssue(argv, sink().out)).rejects.toThrow(message);
  });

  it('issue names the fix for a missing key file', async () => {
    await expect(breakGlassIssue(['--key', join(dir, 'nope.jwk'), '--who', 'a', '--why', 'b', '--scope', 'x'], sink().out)).rejects.toMatchObject({ reason: 'break_glass_key_unreadable' });
  });

  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['4h', 14_400],
    ['1d', 86_400],
  ])('parses duration %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
});
