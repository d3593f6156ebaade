import { readFile } from 'node:fs/promises';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { algorithmForJwk, isAlgorithm, signatureCheck, type Algorithm, type SignatureCheck } from './algorithms.js';
import { hasPrivateMembers, importPublicKey, jwkThumbprint, type Jwk, type Jwks } from './jwk.js';
import { invalid } from './options-check.js';
import { RFC9421_TEST_KEY_THUMBPRINTS } from './rfc-test-keys.js';

/** A verifying key, imported once, with what the registry says about its holder. */
export interface RegisteredKey {
  readonly kid: string | undefined;
  readonly thumbprint: string;
  readonly agent: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly alg: Algorithm;
  readonly check: SignatureCheck;
  /** The imported key (public, or the secret for hmac), for schemes that verify with other libraries (cavage). */
  readonly key: KeyObject;
  /** Validity window in seconds since the epoch (JWT NumericDate), when the registry sets one. */
  readonly nbf: number | undefined;
  readonly exp: number | undefined;
  readonly source: string;
  /** hmac-sha256 secret: found by kid only, and its thumbprint is never shown (it is a hash of the secret). */
  readonly sharedSecret: boolean;
}

export type KeyLookup =
  | { readonly ok: true; readonly key: RegisteredKey }
  | { readonly ok: false; readonly reason: 'key_unknown' | 'key_revoked'; readonly message: string };

export interface RegistrySource {
  readonly jwks: Jwks;
  /** Where the set came from, for error messages (a file path or "jwks[0]"). */
  readonly source: string;
  /** Shared secrets (kty "oct") are only accepted from sources marked as such. */
  readonly sharedSecrets?: boolean;
}

export interface RegistryOptions {
  readonly revoked: readonly string[];
  readonly production: boolean;
}

const WHERE = 'identity key registry';

/** Local key registry: keys by kid and by RFC 7638 thumbprint, with validity windows and revocation. */
export class KeyRegistry {
  readonly #byId = new Map<string, RegisteredKey>();
  readonly #revoked: ReadonlySet<string>;
  readonly size: number;

  constructor(sources: readonly RegistrySource[], options: RegistryOptions) {
    this.#revoked = new Set(options.revoked);
    const keys: RegisteredKey[] = [];
    for (const { jwks, source, sharedSecrets } of sources) {
      if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw invalid(WHERE, `${source} is not a JWKS: expected {"keys": [...]}`);
      jwks.keys.forEach((jwk, i) => keys.push(registeredKey(jwk, `${source} keys[${i}]`, sharedSecrets === true, options.production)));
    }
    for (const key of keys) {
      for (const id of keyIds(key)) {
        const other = this.#byId.get(id);
        // One keyid must name one key: an ambiguous id would let the request pick which key (and agent) applies.
        if (other !== undefined) throw invalid(WHERE, `keyid "${id}" names two keys (${other.source} and ${key.source}): give each key a unique kid`);
        this.#byId.set(id, key);
      }
    }
    this.size = keys.length;
  }

  static async load(files: readonly string[], inline: readonly RegistrySource[], options: RegistryOptions): Promise<KeyRegistry> {
    const fromFiles = await Promise.all(files.map(async (file) => ({ jwks: await readJwksFile(file), source: file })));
    return new KeyRegistry([...fromFiles, ...inline], options);
  }

  /** Every registered key (each once). */
  keys(): RegisteredKey[] {
    return [...new Set(this.#byId.values())];
  }

  isRevoked(thumbprint: string): boolean {
    return this.#revoked.has(thumbprint);
  }

  /** Resolves a keyid (kid, or the key's thumbprint) at time `nowMs`. */
  lookup(keyId: string, nowMs: number): KeyLookup {
    const key = this.#byId.get(keyId);
    if (key === undefined) return { ok: false, reason: 'key_unknown', message: `keyid "${truncate(keyId)}" is not in the key registry: register the agent's public JWK (toolgate jwks prints it)` };
    if (this.#revoked.has(key.thumbprint)) return { ok: false, reason: 'key_revoked', message: `key ${key.thumbprint} of agent ${key.agent} is revoked: sign with a new key` };
    const now = nowMs / 1000;
    if (key.nbf !== undefined && now < key.nbf) return { ok: false, reason: 'key_unknown', message: `key ${key.thumbprint} of agent ${key.agent} is not valid before ${new Date(key.nbf * 1000).toISOString()}` };
    if (key.exp !== undefined && now >= key.exp) return { ok: false, reason: 'key_revoked', message: `key ${key.thumbprint} of agent ${key.agent} expired at ${new Date(key.exp * 1000).toISOString()}: sign with the agent's current key` };
    return { ok: true, key };
  }
}

function keyIds(key: RegisteredKey): string[] {
  if (key.sharedSecret) return key.kid === undefined ? [] : [key.kid];
  return key.kid === undefined || key.kid === key.thumbprint ? [key.thumbprint] : [key.kid, key.thumbprint];
}

export function truncate(value: string, max = 80): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

async function readJwksFile(file: string): Promise<Jwks> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw invalid(WHERE, `cannot read JWKS file ${file}: ${(cause as Error).message}`, cause);
  }
  try {
    return JSON.parse(text) as Jwks;
  } catch (cause) {
    throw invalid(WHERE, `JWKS file ${file} is not JSON: ${(cause as Error).message}`, cause);
  }
}

function registeredKey(jwk: Jwk, source: string, sharedSecrets: boolean, production: boolean): RegisteredKey {
  if (typeof jwk !== 'object' || jwk === null) throw invalid(WHERE, `${source} is not a JWK object`);
  if (jwk.kty === 'oct' && !sharedSecrets) throw invalid(WHERE, `${source} is a shared secret (kty "oct"): put it in the sharedSecrets option, never in a public key set`);
  if (jwk.kty !== 'oct' && hasPrivateMembers(jwk)) throw invalid(WHERE, `${source} holds private key material: register the public JWK only (toolgate jwks prints it)`);
  if (sharedSecrets && jwk.kty !== 'oct') throw invalid(WHERE, `${source}: sharedSecrets takes kty "oct" keys only`);
  const alg = algorithmForJwk(jwk);
  if (!isAlgorithm(alg)) throw invalid(WHERE, `${source}: ${alg}`);
  let thumbprint: string;
  try {
    thumbprint = jwkThumbprint(jwk);
  } catch (cause) {
    throw invalid(WHERE, `${source}: ${(cause as Error).message}`, cause);
  }
  if (production && RFC9421_TEST_KEY_THUMBPRINTS.has(thumbprint)) throw invalid(WHERE, `${source} is a published RFC 9421 test key, refused in production mode: generate a real key (toolgate keygen)`);
  const agent = jwk.agent;
  if (typeof agent !== 'string' || agent === '') throw invalid(WHERE, `${source} needs an "agent" member naming the agent that holds the key`);
  const kid = jwk.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw invalid(WHERE, `${source}: "kid" must be a non-empty string`);
  if (sharedSecrets && kid === undefined) throw invalid(WHERE, `${source}: a shared secret needs a "kid" (its thumbprint is never used as a keyid)`);
  const labels = jwk.labels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw invalid(WHERE, `${source}: "labels" must be an object of string values`);
  }
  const nbf = numericDate(jwk.nbf, 'nbf', source);
  const exp = numericDate(jwk.exp, 'exp', source);
  let check: SignatureCheck;
  let keyObject: KeyObject;
  try {
    keyObject = jwk.kty === 'oct' ? createSecretKey(Buffer.from(String(jwk.k), 'base64url')) : importPublicKey(jwk);
    check = signatureCheck(keyObject, alg);
  } catch (cause) {
    throw invalid(WHERE, `${source}: cannot import key: ${(cause as Error).message}`, cause);
  }
  return { kid, thumbprint: sharedSecrets ? `secret:${kid}` : thumbprint, agent, labels: { ...(labels as Record<string, string>) }, alg, check, key: keyObject, nbf, exp, source, sharedSecret: sharedSecrets };
}

function numericDate(value: unknown, name: string, source: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(WHERE, `${source}: "${name}" must be seconds since the epoch (a number)`);
  return value;
}
