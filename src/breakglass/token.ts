import type { BreakGlassError, BreakGlassPayload } from './types.js';

/** Token prefix and version; the signature covers `tgbg1.` + the payload part, so the version is signed too. */
export const TOKEN_PREFIX = 'tgbg1';

export const LIMITS = {
  who: 256,
  why: 2000,
  scopes: 64,
  scope: 200,
  jti: 128,
  kid: 128,
} as const;

const B64URL = /^[A-Za-z0-9_-]+$/;

export function encodePart(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Splits a compact token; null for anything not shaped `tgbg1.<b64url>.<b64url>`. */
export function splitToken(token: string): { signingInput: string; payloadPart: string; signature: Buffer } | null {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return null;
  if (token.slice(0, first) !== TOKEN_PREFIX) return null;
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  if (!B64URL.test(payloadPart) || !B64URL.test(signaturePart)) return null;
  const signature = Buffer.from(signaturePart, 'base64url');
  // Ed25519 signatures are 64 bytes; a non-canonical encoding of them is refused too.
  if (signature.length !== 64 || signature.toString('base64url') !== signaturePart) return null;
  return { signingInput: `${TOKEN_PREFIX}.${payloadPart}`, payloadPart, signature };
}

/** Decodes and type-checks a payload part. Returns the payload or the error code; never throws. */
export function decodePayload(payloadPart: string): BreakGlassPayload | BreakGlassError {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return 'malformed';
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'malformed';
  const p = doc as Record<string, unknown>;
  if (p.v !== 1) return 'unsupported_version';
  return payloadProblem(p) === null ? (p as unknown as BreakGlassPayload) : 'malformed';
}

/** What is wrong with a payload's members, as a sentence, or null when every member is well-typed. */
export function payloadProblem(p: Record<string, unknown>): string | null {
  if (!text(p.who, LIMITS.who)) return `who must be a non-empty string of at most ${LIMITS.who} characters`;
  if (!text(p.why, LIMITS.why)) return `why must be a non-empty string of at most ${LIMITS.why} characters`;
  if (!seconds(p.iat) || !seconds(p.exp)) return 'iat and exp must be whole epoch seconds';
  if ((p.exp as number) <= (p.iat as number)) return 'exp must be after iat';
  if (!Array.isArray(p.scopes) || p.scopes.length === 0 || p.scopes.length > LIMITS.scopes) return `scopes must list 1 to ${LIMITS.scopes} tool names (or "*")`;
  if (!p.scopes.every((s) => text(s, LIMITS.scope))) return `each scope must be a non-empty string of at most ${LIMITS.scope} characters`;
  if (!text(p.jti, LIMITS.jti)) return 'jti must be a non-empty string';
  if (!text(p.kid, LIMITS.kid)) return 'kid must be a non-empty string';
  return null;
}

function text(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && value.trim() !== '' && !hasControl(value);
}

// No control characters: these strings end up in logs, spans and terminals.
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function seconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
