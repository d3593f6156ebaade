import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, errors as joseErrors } from 'jose';
import { ConfigError } from '../errors.js';
import { opaFileDigest } from './opa-hash.js';

/** How signed bundles are checked: OPA's `bundles[_].signing` with one public key. */
export interface BundleVerification {
  readonly publicKey: KeyObject;
  /** When set, the signature's key id (JWS `kid` or the payload's `keyid`) must be this one. */
  readonly keyId?: string;
  /** When set, the payload's `scope` must be this one (OPA's `signing.scope`). */
  readonly scope?: string;
}

export const SIGNATURES_FILE = '.signatures.json';

/** The JWS algorithms a public key of each type may verify: the header cannot pick a weaker pairing. */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'prime256v1' ? ['ES256'] : curve === 'secp384r1' ? ['ES384'] : curve === 'secp521r1' ? ['ES512'] : [];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** Reads a PEM public key (RSA, EC P-256/384/521 or Ed25519) for bundle verification, once, at start-up. */
export function loadVerificationKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (cause) {
    throw new ConfigError('policy_verification_key_invalid', `Cannot read a PEM public key from ${path}: export the public half of the bundle signing key (openssl pkey -in key.pem -pubout).`, { cause });
  }
  if (algorithmsFor(key).length === 0) {
    throw new ConfigError('policy_verification_key_invalid', `The bundle verification key ${path} is ${key.asymmetricKeyType}; use an RSA, EC (P-256, P-384, P-521) or Ed25519 public key.`);
  }
  return key;
}

interface SignedFile {
  readonly name: string;
  readonly hash: string;
  readonly algorithm: string;
}

function refuse(code: string, message: string, cause?: unknown): ConfigError {
  return new ConfigError(code, message, cause === undefined ? undefined : { cause });
}

/**
 * Checks a bundle's `.signatures.json` as OPA does: one JWS, verified with the configured key, whose payload lists
 * every file with its digest. `complete` (archives): every file in the bundle must be listed and every listed
 * file present, so nothing can be added or removed. For a directory the gateway reads only the files it loads,
 * so each of those must be listed and match. Returns the signing key id.
 */
export async function verifySignatures(files: ReadonlyMap<string, Buffer>, verification: BundleVerification, where: string, complete: boolean): Promise<string> {
  const raw = files.get(SIGNATURES_FILE);
  if (!raw) {
    throw refuse('bundle_signature_missing', `The policy bundle ${where} has no ${SIGNATURES_FILE} but signed bundles are required: build it with opa build --signing-key (TOOLGATE_POLICY_SIGNING_KEY=... make policy).`);
  }
  let jws: string;
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { signatures?: unknown };
    const list = parsed.signatures;
    if (!Array.isArray(list) || list.length !== 1 || typeof list[0] !== 'string') throw new Error('signatures must be a list of exactly one JWS');
    jws = list[0];
  } catch (cause) {
    throw refuse('bundle_signature_invalid', `The policy bundle ${where} has a malformed ${SIGNATURES_FILE} (${cause instanceof Error ? cause.message : String(cause)}): re-sign it with opa build --signing-key.`, cause);
  }
  let payload: { files?: unknown; keyid?: unknown; scope?: unknown };
  let kid: unknown;
  try {
    const verified = await compactVerify(jws, verification.publicKey, { algorithms: algorithmsFor(verification.publicKey) });
    kid = verified.protectedHeader.kid;
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as typeof payload;
  } catch (cause) {
    const why = cause instanceof joseErrors.JWSSignatureVerificationFailed ? 'the signature does not verify with the configured key' : cause instanceof Error ? cause.message : String(cause);
    throw refuse('bundle_signature_invalid', `The policy bundle ${where} is not signed by the configured verification key (${why}): sign it with the matching private key, or configure the public key it was signed with.`, cause);
  }
  const keyId = typeof payload.keyid === 'string' ? payload.keyid : typeof kid === 'string' ? kid : 'default';
  if (verification.keyId !== undefined && keyId !== verification.keyId) {
    throw refuse('bundle_signature_invalid', `The policy bundle ${where} is signed with key id ${JSON.stringify(keyId)}, not the configured ${JSON.stringify(verification.keyId)}: sign with that key id (opa build --signing-key … with a claims file) or change the configured key id.`);
  }
  if (verification.scope !== undefined && payload.scope !== verification.scope) {
    throw refuse('bundle_signature_invalid', `The policy bundle ${where} is signed for scope ${JSON.stringify(payload.scope ?? null)}, not ${JSON.stringify(verification.scope)}: sign it with that scope in the claims file.`);
  }
  const listed = signedFiles(payload.files, where);
  for (const [name, bytes] of files) {
    if (name === SIGNATURES_FILE) continue;
    const entry = listed.get(name);
    if (!entry) {
      throw refuse('bundle_file_tampered', `The policy bundle ${where} holds ${name}, which its signature does not list: the bundle was changed after signing. Rebuild and re-sign it.`);
    }
    let digest: string;
    try {
      digest = opaFileDigest(name, bytes, entry.algorithm);
    } catch (cause) {
      throw refuse('bundle_file_tampered', `The policy bundle ${where}'s ${name} cannot be hashed as signed (${cause instanceof Error ? cause.message : String(cause)}): rebuild and re-sign the bundle.`, cause);
    }
    if (digest !== entry.hash.toLowerCase()) {
      throw refuse('bundle_file_tampered', `The policy bundle ${where}'s ${name} does not match its signed digest: the bundle was changed after signing. Rebuild and re-sign it.`);
    }
  }
  if (complete) {
    for (const name of listed.keys()) {
      if (!files.has(name)) throw refuse('bundle_file_tampered', `The policy bundle ${where} lacks ${name}, which its signature lists: the bundle was changed after signing. Rebuild and re-sign it.`);
    }
  }
  return keyId;
}

function signedFiles(value: unknown, where: string): Map<string, SignedFile> {
  const out = new Map<string, SignedFile>();
  if (!Array.isArray(value)) throw refuse('bundle_signature_invalid', `The policy bundle ${where}'s signature lists no files: re-sign it with opa build --signing-key.`);
  for (const f of value as { name?: unknown; hash?: unknown; algorithm?: unknown }[]) {
    if (typeof f?.name !== 'string' || typeof f.hash !== 'string' || typeof f.algorithm !== 'string') {
      throw refuse('bundle_signature_invalid', `The policy bundle ${where}'s signature has a malformed file entry: re-sign it with opa build --signing-key.`);
    }
    out.set(f.name.replace(/^\/+/, ''), { name: f.name, hash: f.hash, algorithm: f.algorithm });
  }
  return out;
}
