import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAgentKey } from '../../src/agent/index.js';
import { breakGlassCovers, createBreakGlassVerifier, generateBreakGlassKey, issueBreakGlass } from '../../src/breakglass/index.js';
import { ConfigError } from '../../src/errors.js';
import { signRaw, T0, T0_S } from './helpers.js';

const admin = generateBreakGlassKey();
const other = generateBreakGlassKey();
const at = (ms: number) => () => ms;
const verifier = createBreakGlassVerifier({ adminJwks: admin.publicJwks, now: at(T0 + 60_000) });

function issue(over: Partial<Parameters<typeof issueBreakGlass>[0]> = {}) {
  return issueBreakGlass({ privateJwk: admin.privateJwk, who: 'alice@example.com', why: 'incident 42: payments down', ttlS: 3600, scopes: ['trade.place'], now: at(T0), ...over });
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, who: 'alice', why: 'incident 42', iat: T0_S, exp: T0_S + 3600, scopes: ['trade.place'], jti: 'j-1', kid: admin.thumbprint, ...over };
}

describe('break-glass tokens', () => {
  it('issues a tgbg1 token the verifier accepts', () => {
    const { token, payload } = issue();
    expect(token).toMatch(/^tgbg1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(payload).toMatchObject({ v: 1, who: 'alice@example.com', iat: T0_S, exp: T0_S + 3600, kid: admin.thumbprint, scopes: ['trade.place'] });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(verifier.check(token)).toEqual({
      valid: true,
      who: 'alice@example.com',
      why: 'incident 42: payments down',
      until: new Date((T0_S + 3600) * 1000).toISOString(),
      scopes: ['trade.place'],
      jti: payload.jti,
      kid: admin.thumbprint,
    });
    expect(verifier.inspect(token)).toMatchObject({ payload: { jti: payload.jti, kid: admin.thumbprint } });
  });

  it('answers null when no header was sent', () => {
    expect(verifier.check(undefined)).toBeNull();
    expect(verifier.inspect(undefined)).toBeNull();
  });

  it('is reusable until exp by design, and refused from exp on', () => {
    const { token } = issue();
    for (let i = 0; i < 3; i += 1) expect(verifier.check(token)?.valid).toBe(true);
    const end = (T0_S + 3600) * 1000;
    expect(createBreakGlassVerifier({ adminJwks: admin.publicJwks, now: at(end - 1) }).check(token)?.valid).toBe(true);
    expect(createBreakGlassVerifier({ adminJwks: admin.publicJwks, now: at(end) }).check(token)).toMatchObject({ valid: false, error: 'expired', who: 'alice@example.com' });
  });

  const tampered = (() => {
    const { token } = issue();
    const [, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...issue().payload, scopes: ['*'] })).toString('base64url');
    return `tgbg1.${forged}.${sig}`;
  })();

  it.each([
    ['empty', '', 'malformed'],
    ['garbage', 'hello', 'malformed'],
    ['two parts', 'tgbg1.abc', 'malformed'],
    ['four parts', `${issue().token}.x`, 'malformed'],
    ['other prefix', issue().token.replace(/^tgbg1/, 'tgbg2'), 'malformed'],
    ['bad base64', 'tgbg1.ab$c.def', 'malformed'],
    ['short signature', `tgbg1.${Buffer.from('{}').toString('base64url')}.AAAA`, 'malformed'],
    ['payload not JSON', signRaw(null, admin.privateJwk, 'not json'), 'malformed'],
    ['payload an array', signRaw([1], admin.privateJwk), 'malformed'],
    ['who missing', signRaw(claims({ who: undefined }), admin.privateJwk), 'malformed'],
    ['who a number', signRaw(claims({ who: 7 }), admin.privateJwk), 'malformed'],
    ['why blank', signRaw(claims({ why: '   ' }), admin.privateJwk), 'malformed'],
    ['why with a newline', signRaw(claims({ why: 'a\nb' }), admin.privateJwk), 'malformed'],
    ['scopes empty', signRaw(claims({ scopes: [] }), admin.privateJwk), 'malformed'],
    ['scopes a string', signRaw(claims({ scopes: '*' }), admin.privateJwk), 'malformed'],
    ['exp a string', signRaw(claims({ exp: String(T0_S + 60) }), admin.privateJwk), 'malformed'],
    ['exp fractional', signRaw(claims({ exp: T0_S + 60.5 }), admin.privateJwk), 'malformed'],
    ['exp before iat', signRaw(claims({ exp: T0_S - 1 }), admin.privateJwk), 'malformed'],
    ['version 2', signRaw(claims({ v: 2 }), admin.privateJwk), 'unsupported_version'],
    ['unknown admin key', issueBreakGlass({ privateJwk: other.privateJwk, who: 'mallory', why: 'x', ttlS: 60, scopes: ['*'], now: at(T0) }).token, 'key_unknown'],
    ['signed by another key under our kid', signRaw(claims(), other.privateJwk), 'signature_invalid'],
    ['payload changed after signing', tampered, 'signature_invalid'],
    ['ttl over maxTtlS (4 h)', issue({ ttlS: 4 * 3600 + 1 }).token, 'ttl_too_long'],
    ['issued in the future', signRaw(claims({ iat: T0_S + 3600, exp: T0_S + 7200 }), admin.privateJwk), 'not_yet_valid'],
    ['expired', signRaw(claims({ iat: T0_S - 7200, exp: T0_S - 3600 }), admin.privateJwk), 'expired'],
  ])('refuses %s as %s', (_what, token, error) => {
    const facts = verifier.check(token)!;
    expect(facts).toMatchObject({ valid: false, error });
    // A token whose signature verified is named (who, why, jti, kid) for the audit trail; anything else is not.
    const signedByAdmin = ['ttl_too_long', 'not_yet_valid', 'expired'].includes(error);
    expect(Object.keys(facts).sort()).toEqual(signedByAdmin ? ['error', 'jti', 'kid', 'valid', 'who', 'why'] : ['error', 'valid']);
  });

  it('tolerates clock skew for iat (60 s by default)', () => {
    const token = signRaw(claims({ iat: T0_S + 60 + 50, exp: T0_S + 3600 }), admin.privateJwk);
    expect(verifier.check(token)?.valid).toBe(true);
  });

  it('refuses a revoked jti', () => {
    const { token, payload } = issue();
    const v = createBreakGlassVerifier({ adminJwks: admin.publicJwks, revokedJtis: [payload.jti], now: at(T0) });
    expect(v.check(token)).toMatchObject({ valid: false, error: 'revoked', jti: payload.jti, kid: admin.thumbprint });
    expect(v.inspect(token)?.payload?.jti).toBe(payload.jti);
  });

  it('honours maxTtlS', () => {
    const token = issue({ ttlS: 8 * 3600 }).token;
    expect(createBreakGlassVerifier({ adminJwks: admin.publicJwks, maxTtlS: 8 * 3600, now: at(T0) }).check(token)?.valid).toBe(true);
    expect(createBreakGlassVerifier({ adminJwks: admin.publicJwks, maxTtlS: 600, now: at(T0) }).check(issue({ ttlS: 601 }).token)).toMatchObject({ valid: false, error: 'ttl_too_long' });
  });

  it('says which tools valid facts cover', () => {
    const facts = verifier.check(issue({ scopes: ['trade.place', 'trade.cancel'] }).token);
    expect(breakGlassCovers(facts, 'trade.place')).toBe(true);
    expect(breakGlassCovers(facts, 'email.send')).toBe(false);
    expect(breakGlassCovers(verifier.check(issue({ scopes: ['*'] }).token), 'email.send')).toBe(true);
    expect(breakGlassCovers({ valid: false, error: 'expired' }, 'trade.place')).toBe(false);
    expect(breakGlassCovers(null, 'trade.place')).toBe(false);
  });
});

describe('createBreakGlassVerifier options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bg-'));

  it('reads JWKS files (one path or a list)', () => {
    const a = join(dir, 'a.jwks.json');
    const b = join(dir, 'b.jwks.json');
    writeFileSync(a, JSON.stringify(admin.publicJwks));
    writeFileSync(b, JSON.stringify(other.publicJwks));
    const { token } = issue();
    expect(createBreakGlassVerifier({ adminJwks: a, now: at(T0) }).check(token)?.valid).toBe(true);
    const both = createBreakGlassVerifier({ adminJwks: [b, a], now: at(T0) });
    expect(both.check(token)?.valid).toBe(true);
    expect(both.check(issueBreakGlass({ privateJwk: other.privateJwk, who: 'bob', why: 'x', ttlS: 60, scopes: ['*'], now: at(T0) }).token)?.valid).toBe(true);
  });

  it.each([
    ['an unknown option', { adminJwks: admin.publicJwks, maxTTL: 5 }, /unknown option "maxTTL"/],
    ['a private key', { adminJwks: { keys: [admin.privateJwk] } }, /private key/],
    ['a non-Ed25519 key', { adminJwks: { keys: [generateAgentKey('ecdsa-p256-sha256').publicJwk] } }, /Ed25519/],
    ['no keys', { adminJwks: { keys: [] } }, /no keys/],
    ['not a JWKS', { adminJwks: { nope: 1 } }, /JWKS/],
    ['a missing file', { adminJwks: ['/nonexistent/admin.jwks.json'] }, /cannot read/],
    ['a bad maxTtlS', { adminJwks: admin.publicJwks, maxTtlS: 0 }, /maxTtlS/],
  ])('refuses %s with a ConfigError', (_what, options, message) => {
    expect(() => createBreakGlassVerifier(options as never)).toThrow(ConfigError);
    expect(() => createBreakGlassVerifier(options as never)).toThrow(message);
  });
});

describe('issueBreakGlass', () => {
  it.each([
    ['an agent (non-Ed25519) key', { privateJwk: generateAgentKey('ecdsa-p256-sha256').privateJwk }, 'break_glass_key_invalid'],
    ['a public key', { privateJwk: admin.publicJwks.keys[0] }, 'break_glass_key_invalid'],
    ['ttl 0', { ttlS: 0 }, 'break_glass_ttl_invalid'],
    ['ttl over 7 days', { ttlS: 8 * 86_400 }, 'break_glass_ttl_invalid'],
    ['no scopes', { scopes: [] }, 'break_glass_claims_invalid'],
    ['empty who', { who: '' }, 'break_glass_claims_invalid'],
    ['a control character in why', { why: 'a\u0007b' }, 'break_glass_claims_invalid'],
  ])('refuses %s', (_what, over, reason) => {
    expect(() => issue(over as never)).toThrow(expect.objectContaining({ reason }));
  });
});
