import { randomBytes } from 'node:crypto';
import { isValidKeyStr, parseItem, serializeDictionary, serializeInnerList, type BareItem, type Item } from 'structured-headers';
import type { MessageView } from '../identity/components.js';
import { contentDigest, type DigestAlgorithm } from '../identity/content-digest.js';
import type { Jwk } from '../identity/jwk.js';
import { signatureBase, signatureBaseBytes } from '../identity/signature-base.js';
import { importSigningKey } from './keys.js';

export interface RequestToSign {
  readonly method: string;
  readonly url: string | URL;
  /** Headers that will be sent (any case). Content-Type is required with a body: it is signed. */
  readonly headers?: Readonly<Record<string, string>> | Headers;
  readonly body?: string | Uint8Array;
}

export interface SigningOptions {
  readonly privateJwk: Jwk;
  /** keyid to send. Default: the JWK's kid, else its RFC 7638 thumbprint. */
  readonly keyId?: string;
  /** Signature label. Default "sig1". */
  readonly label?: string;
  /** `tag` parameter, e.g. "web-bot-auth". Default none. */
  readonly tag?: string;
  /** Seconds until `expires`. Default 60. */
  readonly expiresIn?: number;
  /** Nonce to send; `false` sends none. Default: 16 random bytes, base64url. */
  readonly nonce?: string | false;
  /** Send the `alg` parameter. Default false (the verifier takes the algorithm from its registry). */
  readonly includeAlg?: boolean;
  /**
   * Components to cover. Default @method, @authority, @path, @query, plus content-digest and content-type with a
   * body, plus signature-agent when that header is sent.
   */
  readonly components?: readonly string[];
  /** Content-Digest algorithm. Default sha-256. */
  readonly digest?: DigestAlgorithm;
  /** Clock in ms, for tests. Default Date.now. */
  readonly now?: () => number;
  /**
   * Web Bot Auth: the origin of this agent's key directory. Adds `Signature-Agent: <label>="<origin>"`, covers that
   * member, and sets tag "web-bot-auth" unless `tag` says otherwise. keyId should then be the key's thumbprint (the
   * default when the JWK has no kid).
   */
  readonly signatureAgent?: string;
}

/** Headers a signed request adds: Signature-Input, Signature, and Content-Digest when there is a body. */
export type SignatureHeaders = Record<'signature-input' | 'signature', string> & { 'content-digest'?: string; 'signature-agent'?: string };

export type RequestSigner = (request: RequestToSign) => SignatureHeaders;

/** Imports the key once; the returned function signs each request (RFC 9421, with RFC 9530 Content-Digest). */
export function createRequestSigner(options: SigningOptions): RequestSigner {
  const { alg, sign, thumbprint } = importSigningKey(options.privateJwk);
  const keyId = options.keyId ?? options.privateJwk.kid ?? thumbprint;
  const label = options.label ?? 'sig1';
  if (!isValidKeyStr(label)) throw new TypeError(`label "${label}" is not a structured-field key (lower-case letters, digits, _-.*)`);
  const expiresIn = options.expiresIn ?? 60;
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw new TypeError('expiresIn must be a positive number of seconds');
  const now = options.now ?? Date.now;
  const signatureAgent = options.signatureAgent === undefined ? undefined : serializeDictionary(new Map([[label, [options.signatureAgent, new Map()]]]));

  return (request) => {
    const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
    const scheme = url.protocol.slice(0, -1);
    if (scheme !== 'http' && scheme !== 'https') throw new TypeError(`cannot sign a ${url.protocol} URL: use http or https`);
    const headers = lowerCase(request.headers);
    const body = request.body === undefined ? new Uint8Array() : typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    const added: Partial<SignatureHeaders> = {};
    if (body.length > 0) {
      if (headers['content-type'] === undefined) throw new TypeError('a request with a body needs a Content-Type header: it is covered by the signature');
      added['content-digest'] = contentDigest(body, options.digest);
      headers['content-digest'] = added['content-digest'];
    }
    if (signatureAgent !== undefined) {
      added['signature-agent'] = signatureAgent;
      headers['signature-agent'] = signatureAgent;
    }
    const components = options.components ?? [
      ...defaultComponents(body.length > 0, signatureAgent === undefined && headers['signature-agent'] !== undefined),
      ...(signatureAgent === undefined ? [] : [`"signature-agent";key="${label}"`]),
    ];
    const items: Item[] = components.map((c) => parseItem(c.startsWith('"') ? c : JSON.stringify(c)));
    const created = Math.floor(now() / 1000);
    const params = new Map<string, BareItem>([['created', created], ['expires', created + Math.ceil(expiresIn)], ['keyid', keyId]]);
    if (options.includeAlg === true) params.set('alg', alg);
    const nonce = options.nonce === undefined ? randomBytes(16).toString('base64url') : options.nonce;
    if (nonce !== false) params.set('nonce', nonce);
    const tag = options.tag ?? (signatureAgent === undefined ? undefined : 'web-bot-auth');
    if (tag !== undefined) params.set('tag', tag);
    const signatureParams = serializeInnerList([items, params]);
    const view: MessageView = { method: normalizeMethod(request.method), scheme, authority: url.host, target: `${url.pathname}${url.search}`, headers };
    const base = signatureBase(view, items.map((item) => serializeItemId(item)), signatureParams);
    const signature = sign(signatureBaseBytes(base));
    return {
      ...added,
      'signature-input': `${label}=${signatureParams}`,
      'signature': `${label}=:${signature.toString('base64')}:`,
    };
  };
}

/** One-off signing (imports the key on every call: use createRequestSigner for many requests). */
export function signRequest(request: RequestToSign, options: SigningOptions): SignatureHeaders {
  return createRequestSigner(options)(request);
}

// fetch upper-cases only these methods (Fetch standard "normalize a method"); anything else goes out as given.
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

function defaultComponents(hasBody: boolean, hasSignatureAgent: boolean): string[] {
  return ['@method', '@authority', '@path', '@query', ...(hasBody ? ['content-digest', 'content-type'] : []), ...(hasSignatureAgent ? ['signature-agent'] : [])];
}

function serializeItemId(item: Item): string {
  return serializeInnerList([[item], new Map()]).slice(1, -1);
}

function lowerCase(headers: RequestToSign['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) out[name.toLowerCase()] = value;
  return out;
}
