import { base64url, sha256, utf8 } from './encoding.js';

/** RFC 9421 algorithm names the page can sign with (what the gateway's registry maps Ed25519 and P-256 keys to). */
export type SigningAlg = 'ed25519' | 'ecdsa-p256-sha256';

/**
 * The signed-in key as IndexedDB holds it: the private half is a non-extractable CryptoKey, so neither this page's
 * script nor anything injected into it can read the key material back out; it can only ask the browser to sign.
 */
export interface StoredKey {
  readonly privateKey: CryptoKey;
  readonly alg: SigningAlg;
  /** keyid to send: the key file's `kid`, else the thumbprint (as the CLI's signer does). */
  readonly keyId: string;
  /** RFC 7638 JWK thumbprint, as the gateway computes key ids. */
  readonly thumbprint: string;
  /** The public JWK, to register (never a private member). */
  readonly publicJwk: JsonWebKey;
  readonly source: 'file' | 'generated';
}

const DB = 'toolgate-console';
const STORE = 'keys';
const SLOT = 'current';

function db(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is unavailable'));
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const conn = await db();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = run(conn.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    conn.close();
  }
}

export const loadKey = (): Promise<StoredKey | undefined> => tx<StoredKey | undefined>('readonly', (s) => s.get(SLOT));
export const saveKey = (key: StoredKey): Promise<unknown> => tx('readwrite', (s) => s.put(key, SLOT));
export const forgetKey = (): Promise<unknown> => tx('readwrite', (s) => s.delete(SLOT));

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

const PUBLIC_MEMBERS: Readonly<Record<SigningAlg, readonly string[]>> = { ed25519: ['crv', 'kty', 'x'], 'ecdsa-p256-sha256': ['crv', 'kty', 'x', 'y'] };

export async function thumbprint(jwk: JsonWebKey, alg: SigningAlg): Promise<string> {
  const canonical: Record<string, unknown> = {};
  for (const m of PUBLIC_MEMBERS[alg]) canonical[m] = (jwk as Record<string, unknown>)[m];
  return base64url(await sha256(utf8(JSON.stringify(canonical))));
}

function publicOnly(jwk: JsonWebKey, alg: SigningAlg): JsonWebKey {
  const out: Record<string, unknown> = {};
  for (const m of PUBLIC_MEMBERS[alg]) out[m] = (jwk as Record<string, unknown>)[m];
  return out as JsonWebKey;
}

function algOf(jwk: JsonWebKey): SigningAlg {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'ed25519';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ecdsa-p256-sha256';
  throw new KeyFileError(`This key is ${String(jwk.kty)} ${String(jwk.crv ?? '')}: the console signs with Ed25519 or ECDSA P-256 keys (toolgate keygen --alg ed25519).`);
}

function importParams(alg: SigningAlg): AlgorithmIdentifier | EcKeyImportParams {
  return alg === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
}

/**
 * Reads the key file `toolgate keygen` writes (a private JWK) or a PKCS#8 PEM, and imports the private key as
 * non-extractable. The file's text is not kept.
 */
export async function importKeyFile(text: string): Promise<StoredKey> {
  const trimmed = text.trim();
  let jwk: JsonWebKey & { kid?: string };
  if (trimmed.startsWith('-----BEGIN PRIVATE KEY-----')) {
    jwk = await pemToJwk(trimmed);
  } else {
    try {
      jwk = JSON.parse(trimmed) as JsonWebKey & { kid?: string };
    } catch {
      throw new KeyFileError('The file is neither a JWK (what toolgate keygen writes) nor a PKCS#8 PEM private key.');
    }
  }
  if (jwk === null || typeof jwk !== 'object' || typeof jwk.d !== 'string') throw new KeyFileError('The file holds no private key (a JWK with "d"): load the private key file toolgate keygen wrote, not the public JWKS.');
  const alg = algOf(jwk);
  const { kid, alg: _jose, key_ops: _ops, use: _use, ext: _ext, ...material } = jwk as JsonWebKey & { kid?: string };
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('jwk', material, importParams(alg), false, ['sign']);
  } catch (error) {
    throw new KeyFileError(`This browser cannot import the key (${error instanceof Error ? error.message : String(error)}); for Ed25519 use a current Chromium, Firefox or Safari, or make a P-256 key: toolgate keygen --alg ecdsa-p256-sha256.`);
  }
  const print = await thumbprint(jwk, alg);
  return { privateKey, alg, keyId: typeof kid === 'string' && kid !== '' ? kid : print, thumbprint: print, publicJwk: publicOnly(jwk, alg), source: 'file' };
}

async function pemToJwk(pem: string): Promise<JsonWebKey> {
  const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  // Extractable only for the moment it takes to read its public half as a JWK; the stored key is imported again.
  for (const params of [{ name: 'Ed25519' }, { name: 'ECDSA', namedCurve: 'P-256' }]) {
    try {
      const key = await crypto.subtle.importKey('pkcs8', der, params, true, ['sign']);
      return await crypto.subtle.exportKey('jwk', key);
    } catch {
      // try the next algorithm
    }
  }
  throw new KeyFileError('The PEM is not an Ed25519 or P-256 PKCS#8 private key.');
}

/** A new key made in this browser: Ed25519, or ECDSA P-256 where the browser has no Ed25519. Never extractable. */
export async function generateKey(): Promise<StoredKey> {
  let pair: CryptoKeyPair;
  let alg: SigningAlg;
  try {
    pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    alg = 'ed25519';
  } catch {
    pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    alg = 'ecdsa-p256-sha256';
  }
  const pub = publicOnly(await crypto.subtle.exportKey('jwk', pair.publicKey), alg);
  const print = await thumbprint(pub, alg);
  return { privateKey: pair.privateKey, alg, keyId: print, thumbprint: print, publicJwk: pub, source: 'generated' };
}

/** The registry entry an operator adds to the gateway's JWKS file (TOOLGATE_AGENT_KEYS) for this key. */
export function registryEntry(key: StoredKey, agent = '<your name>'): string {
  const entry = { ...key.publicJwk, kid: key.keyId, alg: key.alg === 'ed25519' ? 'EdDSA' : 'ES256', agent, labels: { kind: 'human', role: 'approver' } };
  return JSON.stringify({ keys: [entry] }, null, 2);
}
