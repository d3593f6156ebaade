import { readFileSync } from 'node:fs';
import { verify, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { hasPrivateMembers, importPublicKey, jwkThumbprint, type Jwk } from '../identity/jwk.js';
import type { JwksDocument } from '../identity/types.js';
import type { BreakGlassFacts } from '../policy/types.js';
import { decodePayload, splitToken } from './token.js';
import type { BreakGlassCheck, BreakGlassError, BreakGlassVerifier, BreakGlassVerifierOptions } from './types.js';

const KNOWN = ['adminJwks', 'maxTtlS', 'clockSkewS', 'maxTokenBytes', 'revokedJtis', 'now'];
const WHERE = 'createBreakGlassVerifier()';

/**
 * Checks `Toolgate-Break-Glass` header values against the admin keys. Keys are imported once here; check() is
 * pure CPU (one Ed25519 verify) and never throws, whatever it is given.
 *
 * Tokens are bearer tokens, reusable until `exp` by design (an incident needs many calls): keep maxTtlS short,
 * and revoke a leaked one by its jti (`revokedJtis`) or by dropping the admin key.
 */
export function createBreakGlassVerifier(options: Readonly<BreakGlassVerifierOptions>): BreakGlassVerifier {
  if (options === null || typeof options !== 'object') throw invalid('needs an options object: { adminJwks }');
  const unknown = Object.keys(options).find((k) => !KNOWN.includes(k));
  if (unknown !== undefined) throw new ConfigError('break_glass_option_unknown', `${WHERE}: unknown option "${unknown}"; known options: ${KNOWN.join(', ')}.`);
  const keys = loadKeys(options.adminJwks);
  const maxTtlS = positive('maxTtlS', options.maxTtlS, 14_400);
  const skewS = positive('clockSkewS', options.clockSkewS, 60, true);
  const maxTokenBytes = positive('maxTokenBytes', options.maxTokenBytes, 8192);
  if (options.revokedJtis !== undefined && (!Array.isArray(options.revokedJtis) || !options.revokedJtis.every((j) => typeof j === 'string'))) {
    throw invalid('revokedJtis must be a list of jti strings');
  }
  const revoked = new Set(options.revokedJtis ?? []);
  if (options.now !== undefined && typeof options.now !== 'function') throw invalid('now must be a function returning epoch ms');
  const now = options.now ?? Date.now;

  function refuse(error: BreakGlassError): BreakGlassFacts {
    return { valid: false, error };
  }

  function inspectToken(token: unknown): BreakGlassCheck {
    if (typeof token !== 'string' || token.length > maxTokenBytes) return { facts: refuse('malformed') };
    const parts = splitToken(token.trim());
    if (parts === null) return { facts: refuse('malformed') };
    const payload = decodePayload(parts.payloadPart);
    if (typeof payload === 'string') return { facts: refuse(payload) };
    const key = keys.get(payload.kid);
    if (key === undefined) return { facts: refuse('key_unknown') };
    if (!verify(null, Buffer.from(parts.signingInput, 'ascii'), key, parts.signature)) return { facts: refuse('signature_invalid') };
    // From here the claims are the admin's: report them with the refusal's payload for the audit trail.
    const nowS = Math.floor(now() / 1000);
    let error: BreakGlassError | null = null;
    if (payload.exp - payload.iat > maxTtlS) error = 'ttl_too_long';
    else if (payload.iat > nowS + skewS) error = 'not_yet_valid';
    else if (nowS >= payload.exp) error = 'expired';
    else if (revoked.has(payload.jti)) error = 'revoked';
    // Which token this is, for the audit trail (revokedJtis names tokens by jti): also on a refusal, since the
    // signature was the admin's.
    const named = { who: payload.who, why: payload.why, jti: payload.jti, kid: payload.kid };
    if (error !== null) return { facts: { valid: false, error, ...named }, payload };
    return {
      facts: { valid: true, ...named, until: new Date(payload.exp * 1000).toISOString(), scopes: [...payload.scopes] },
      payload,
    };
  }

  function inspect(token: string | undefined): BreakGlassCheck | null {
    if (token === undefined) return null;
    try {
      return inspectToken(token);
    } catch {
      // Belt and braces: every path above is checked, but a header must never become a 500.
      return { facts: refuse('malformed') };
    }
  }

  return {
    inspect,
    check: (token) => inspect(token)?.facts ?? null,
  };
}

/** Whether valid break-glass facts cover `tool` (listed, or "*"). The policy makes the real call; this helps it. */
export function breakGlassCovers(facts: BreakGlassFacts | null, tool: string): boolean {
  return facts?.valid === true && (facts.scopes ?? []).some((s) => s === '*' || s === tool);
}

function loadKeys(source: BreakGlassVerifierOptions['adminJwks']): Map<string, KeyObject> {
  const docs: { doc: unknown; from: string }[] = [];
  if (typeof source === 'string' || Array.isArray(source)) {
    const files = typeof source === 'string' ? [source] : (source as readonly unknown[]);
    if (files.length === 0) throw invalid('adminJwks lists no files: give the JWKS written by `toolgate breakglass keygen`');
    for (const file of files) {
      if (typeof file !== 'string') throw invalid('adminJwks must be a JWKS document or a list of JWKS file paths');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError('break_glass_keys_unreadable', `${WHERE}: cannot read admin JWKS ${file} (${(error as Error).message}); check the path.`, { cause: error });
      }
      try {
        docs.push({ doc: JSON.parse(text), from: file });
      } catch (error) {
        throw new ConfigError('break_glass_keys_invalid', `${WHERE}: ${file} is not JSON; it should be a JWKS ({"keys":[…]}).`, { cause: error });
      }
    }
  } else {
    docs.push({ doc: source, from: 'adminJwks' });
  }
  const keys = new Map<string, KeyObject>();
  for (const { doc, from } of docs) {
    const list = (doc as JwksDocument | null)?.keys;
    if (!Array.isArray(list)) throw new ConfigError('break_glass_keys_invalid', `${WHERE}: ${from} must be a JWKS: {"keys":[…]}.`);
    for (const raw of list as unknown[]) {
      const jwk = raw as Jwk;
      if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') {
        throw new ConfigError('break_glass_keys_invalid', `${WHERE}: ${from}: admin keys must be Ed25519 public JWKs (kty OKP, crv Ed25519).`);
      }
      if (hasPrivateMembers(jwk)) {
        throw new ConfigError('break_glass_key_private', `${WHERE}: ${from} holds a private key ("d"); give the gateway only the public JWKS and keep the private key offline.`);
      }
      try {
        keys.set(jwkThumbprint(jwk), importPublicKey(jwk));
      } catch (error) {
        throw new ConfigError('break_glass_keys_invalid', `${WHERE}: ${from}: a key cannot be imported (${(error as Error).message}).`, { cause: error });
      }
    }
  }
  if (keys.size === 0) throw invalid('adminJwks holds no keys: add the public JWKS written by `toolgate breakglass keygen`');
  return keys;
}

function positive(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalid(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function invalid(message: string): ConfigError {
  return new ConfigError('break_glass_option_invalid', `${WHERE}: ${message}.`);
}
