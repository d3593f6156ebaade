import { isInnerList, parseDictionary, serializeInnerList, serializeItem, type BareItem, type Item, type Parameters } from 'structured-headers';
import { parseCanonicalDictionary, type CanonicalMember } from './sf-canonical.js';
import { IdentityError, type IdentityScheme } from './types.js';

/** A covered component as the signer wrote it: lower-case name plus its parameters (RFC 9421 §2.1, §2.2). */
export interface ComponentId {
  readonly name: string;
  readonly params: ReadonlyMap<string, string | boolean>;
  /** Serialized identifier exactly as it goes into the signature base, e.g. `"content-digest";sf`. */
  readonly id: string;
}

export interface SignatureParams {
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly alg?: string;
  readonly keyid?: string;
  readonly tag?: string;
}

/** One signature offered by the request, parsed but not yet trusted. */
export interface SignatureCandidate {
  readonly label: string;
  readonly components: readonly ComponentId[];
  readonly params: SignatureParams;
  /** `@signature-params` value: the re-serialized Signature-Input member (serialization is canonical, RFC 9651). */
  readonly signatureParams: string;
  readonly signature: Buffer;
}

export interface FieldLimits {
  readonly maxHeaderBytes: number;
  readonly maxSignatures: number;
  readonly maxComponents: number;
  /** Parse a response's signatures: `req` (RFC 9421 §2.4) and @status become legal. Default false. */
  readonly response?: boolean;
}

const DERIVED = new Set(['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query', '@query-param']);
const FIELD_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const STRING_PARAMS = ['nonce', 'alg', 'keyid', 'tag'] as const;
/**
 * Longest nonce accepted, in bytes (sf-strings are ASCII). The replay store keeps every nonce for the signature's
 * lifetime, so without a cap one agent could park kilobytes per request there; 256 is far above any real nonce
 * (the agent library sends 22 characters, web-bot-auth 88).
 */
export const MAX_NONCE_BYTES = 256;

/** Joins repeated field lines the way RFC 9110 §5.3 allows, refusing oversized values before any parsing. */
export function fieldValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string, maxBytes: number, scheme: IdentityScheme): string | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (typeof value !== 'string') throw malformed(`${name} is not a string`, scheme);
  if (value.length > maxBytes) throw malformed(`${name} is longer than ${maxBytes} bytes`, scheme);
  return value;
}

function malformed(message: string, scheme: IdentityScheme, keyId?: string): IdentityError {
  return new IdentityError('signature_malformed', message, keyId === undefined ? { scheme } : { scheme, keyId });
}

/** A dictionary member, with its serialisation when the fast path read it (the library's members are serialised when needed). */
type Member = Pick<CanonicalMember, 'value'> & Partial<CanonicalMember>;

/** A signer's canonical field takes the fast path (sf-canonical.ts); any other text the library's parser. */
function parseDict(value: string, name: string, scheme: IdentityScheme): ReadonlyMap<string, Member> {
  const canonical = parseCanonicalDictionary(value);
  if (canonical) return canonical;
  try {
    return new Map([...parseDictionary(value)].map(([key, member]) => [key, { value: member }]));
  } catch (cause) {
    throw new IdentityError('signature_malformed', `${name} is not a structured-field dictionary (RFC 9651): ${(cause as Error).message}`, { scheme }, { cause });
  }
}

/** A label whose member could not be parsed: its failure counts only if that label is one that counts. */
export interface MalformedCandidate {
  readonly label: string;
  readonly error: IdentityError;
}

/**
 * Parses Signature-Input and Signature into candidates, in Signature-Input order. A broken field throws; a broken
 * member becomes a MalformedCandidate, so an unrelated label (say, a proxy's) cannot break the one that counts.
 * Throws only IdentityError.
 */
export function parseSignatureFields(signatureInput: string, signature: string | undefined, limits: FieldLimits, scheme: IdentityScheme): (SignatureCandidate | MalformedCandidate)[] {
  const inputs = parseDict(signatureInput, 'Signature-Input', scheme);
  if (signature === undefined) throw malformed('Signature-Input is present but Signature is missing', scheme);
  const signatures = parseDict(signature, 'Signature', scheme);
  if (inputs.size === 0) throw malformed('Signature-Input has no members', scheme);
  if (inputs.size > limits.maxSignatures) throw malformed(`more than ${limits.maxSignatures} signatures on one request`, scheme);
  const out: (SignatureCandidate | MalformedCandidate)[] = [];
  for (const [label, member] of inputs) {
    try {
      out.push(parseCandidate(label, member, signatures.get(label), limits, scheme));
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      out.push({ label, error });
    }
  }
  return out;
}

function parseCandidate(label: string, { value: member, text, itemTexts }: Member, sig: Member | undefined, limits: FieldLimits, scheme: IdentityScheme): SignatureCandidate {
  if (!isInnerList(member)) throw malformed(`Signature-Input member ${label} is not an inner list`, scheme);
  const params = parseParams(label, member[1], scheme);
  const keyId = params.keyid;
  const [items] = member;
  if (items.length > limits.maxComponents) throw malformed(`signature ${label} covers more than ${limits.maxComponents} components`, scheme, keyId);
  const components: ComponentId[] = [];
  const seen = new Set<string>();
  for (const [k, item] of items.entries()) {
    const component = parseComponent(label, item, itemTexts?.[k], scheme, keyId, limits.response === true);
    if (seen.has(component.id)) throw malformed(`signature ${label} covers ${component.id} twice`, scheme, keyId);
    seen.add(component.id);
    components.push(component);
  }
  const sigMember = sig?.value;
  if (sigMember === undefined) throw malformed(`Signature has no member ${label} for Signature-Input ${label}`, scheme, keyId);
  if (isInnerList(sigMember) || !isBytes(sigMember[0])) throw malformed(`Signature member ${label} is not a byte sequence`, scheme, keyId);
  const signatureParams = text ?? serializeInnerList(member);
  return { label, components, params, signatureParams, signature: Buffer.from(toUint8(sigMember[0])) };
}

function parseParams(label: string, params: Parameters, scheme: IdentityScheme): SignatureParams {
  const out: { -readonly [K in keyof SignatureParams]: SignatureParams[K] } = {};
  for (const name of STRING_PARAMS) {
    const value = params.get(name);
    if (value === undefined) continue;
    if (typeof value !== 'string') throw malformed(`signature ${label}: parameter ${name} must be a string`, scheme);
    if (name === 'nonce' && value.length > MAX_NONCE_BYTES) throw malformed(`signature ${label}: nonce is ${value.length} bytes, longer than the ${MAX_NONCE_BYTES} allowed: send a short random nonce (e.g. 16 random bytes, base64)`, scheme);
    out[name] = value;
  }
  for (const name of ['created', 'expires'] as const) {
    const value = params.get(name);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw malformed(`signature ${label}: parameter ${name} must be a non-negative integer (seconds since the epoch)`, scheme, out.keyid);
    out[name] = value;
  }
  return out;
}

function parseComponent(label: string, item: Item, itemText: string | undefined, scheme: IdentityScheme, keyId: string | undefined, response: boolean): ComponentId {
  const [name, params] = item;
  if (typeof name !== 'string') throw malformed(`signature ${label}: component identifiers must be strings`, scheme, keyId);
  const derived = name.startsWith('@');
  const bound = response && params.get('req') === true;
  const knownDerived = DERIVED.has(name) ? !response || bound : response && name === '@status' && !bound;
  if (derived ? !knownDerived : !FIELD_NAME.test(name)) {
    throw malformed(`signature ${label}: unsupported component ${JSON.stringify(name.slice(0, 64))}${derived ? ' for a request' : ' (field names are lower-case tokens)'}`, scheme, keyId);
  }
  const out = new Map<string, string | boolean>();
  for (const [param, value] of params) {
    const allowed = (bound && param === 'req') || (derived ? name === '@query-param' && param === 'name' : param === 'sf' || param === 'key' || param === 'bs');
    if (!allowed) throw malformed(`signature ${label}: parameter ${param} is not supported on ${name} (req and tr do not apply to requests)`, scheme, keyId);
    if (param === 'name' || param === 'key') {
      if (typeof value !== 'string') throw malformed(`signature ${label}: ${name};${param} must be a string`, scheme, keyId);
      out.set(param, value);
    } else {
      if (value !== true) throw malformed(`signature ${label}: ${name};${param} must be a bare flag`, scheme, keyId);
      out.set(param, true);
    }
  }
  if (name === '@query-param' && !out.has('name')) throw malformed(`signature ${label}: @query-param needs a name parameter`, scheme, keyId);
  if (out.has('bs') && (out.has('sf') || out.has('key'))) throw malformed(`signature ${label}: ${name} cannot combine bs with sf or key`, scheme, keyId);
  return { name, params: out, id: itemText ?? serializeItem(item) };
}

function isBytes(value: BareItem): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function toUint8(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

export function isMalformed(candidate: SignatureCandidate | MalformedCandidate): candidate is MalformedCandidate {
  return 'error' in candidate;
}
