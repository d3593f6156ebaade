import { base64, base64url, sha256, utf8 } from './encoding.js';
import type { StoredKey } from './keys.js';

/** What every console call covers, as toolgate's agents sign (src/agent/sign-request.ts): RFC 9421 components. */
const BASE_COMPONENTS = ['@method', '@authority', '@path', '@query'];
const BODY_COMPONENTS = ['content-digest', 'content-type'];
/** Seconds a signature is valid, like the agents' default. */
const EXPIRES_IN = 60;

/** How far this computer's clock is from the gateway's, learnt from a refusal's Date header (see api.ts). */
let clockOffsetMs = 0;

export function setClockOffset(ms: number): void {
  clockOffsetMs = ms;
}

export interface Body {
  readonly text: string;
  readonly type: string;
}

/**
 * The headers that sign one request: Signature-Input and Signature (label sig1; created, expires, keyid and a
 * fresh nonce), and Content-Digest (RFC 9530, SHA-256) with a body. Same base as the gateway rebuilds.
 */
export async function signatureHeaders(key: StoredKey, method: string, url: URL, body?: Body): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  const bytes = body === undefined ? undefined : utf8(body.text);
  const components = bytes !== undefined && bytes.length > 0 ? [...BASE_COMPONENTS, ...BODY_COMPONENTS] : BASE_COMPONENTS;
  if (bytes !== undefined && bytes.length > 0 && body !== undefined) {
    headers['content-type'] = body.type;
    headers['content-digest'] = `sha-256=:${base64(await sha256(bytes))}:`;
  }
  const created = Math.floor((Date.now() + clockOffsetMs) / 1000);
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const params = `(${components.map((c) => `"${c}"`).join(' ')});created=${created};expires=${created + EXPIRES_IN};keyid=${sfString(key.keyId)};nonce=${sfString(nonce)}`;
  const values: Record<string, string> = {
    '@method': method.toUpperCase(),
    '@authority': url.host.toLowerCase(),
    '@path': url.pathname === '' ? '/' : url.pathname,
    '@query': `?${url.search.slice(1)}`,
    ...headers,
  };
  const base = `${components.map((c) => `"${c}": ${values[c] ?? ''}`).join('\n')}\n"@signature-params": ${params}`;
  const algorithm = key.alg === 'ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  // WebCrypto's ECDSA signature is r||s (IEEE P1363), which is what RFC 9421 §3.3.4 sends.
  const signature = await crypto.subtle.sign(algorithm, key.privateKey, utf8(base));
  headers['signature-input'] = `sig1=${params}`;
  headers.signature = `sig1=:${base64(signature)}:`;
  return headers;
}

/** RFC 9651 sf-string. */
function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error('a key id must be printable ASCII');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
