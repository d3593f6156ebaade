import { isInnerList, parseDictionary, parseItem, parseList, serializeDictionary, serializeInnerList, serializeItem, serializeList } from 'structured-headers';

/**
 * The parts of a request that RFC 9421 components are derived from. The signer and the verifier both derive from
 * this one view, so they cannot disagree about what a component means.
 */
export interface MessageView {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** Host (or :authority) as sent; normalized here. */
  readonly authority: string;
  /** Request target as sent: origin-form `/path?query`, or absolute-form. */
  readonly target: string;
  /** Lower-case field names; repeated field lines as an array. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A covered component the message cannot supply (absent field, missing query parameter, unparseable sf). */
export class ComponentError extends Error {
  override readonly name = 'ComponentError';
}

/** RFC 9110 §4.2.3 normalization, which RFC 9421 §2.2.3 requires for @authority: lower case, default port dropped. */
export function normalizeAuthority(authority: string, scheme: 'http' | 'https'): string {
  const lower = authority.trim().toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

/** Splits a request target into path and query (`undefined` when there is no `?`). */
export function splitTarget(target: string): { path: string; query: string | undefined } {
  let rest = target;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest);
  if (absolute) rest = rest.slice(absolute[0].length);
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  return { path: path === '' ? '/' : path, query: q === -1 ? undefined : rest.slice(q + 1) };
}

// WHATWG application/x-www-form-urlencoded percent-encode set, which RFC 9421 §2.2.8 names for @query-param
// (space becomes %20, not +): everything but ASCII alphanumerics and *-._ is encoded.
function formEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9*\-._]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function queryParam(view: MessageView, encodedName: string): string {
  const { query } = splitTarget(view.target);
  // URLSearchParams implements the WHATWG urlencoded parser the RFC refers to (+ is space, lenient % decoding).
  const name = new URLSearchParams(`${encodedName}=`).keys().next().value ?? '';
  const values = new URLSearchParams(query ?? '').getAll(name);
  if (values.length === 0) throw new ComponentError(`query parameter ${JSON.stringify(encodedName)} is not in the request`);
  // RFC 9421 §2.2.8: a repeated parameter cannot be signed by name; refuse rather than pick one.
  if (values.length > 1) throw new ComponentError(`query parameter ${JSON.stringify(encodedName)} occurs ${values.length} times`);
  return formEncode(values[0] ?? '');
}

/** Value of a derived component (RFC 9421 §2.2) for a request. */
export function derivedValue(view: MessageView, name: string, params: ReadonlyMap<string, string | boolean>): string {
  switch (name) {
    case '@method':
      return view.method;
    case '@authority':
      return normalizeAuthority(view.authority, view.scheme);
    case '@scheme':
      return view.scheme;
    case '@target-uri': {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(view.target)) return view.target;
      return `${view.scheme}://${normalizeAuthority(view.authority, view.scheme)}${view.target}`;
    }
    case '@request-target':
      return view.target;
    case '@path':
      return splitTarget(view.target).path;
    case '@query':
      // RFC 9421 §2.2.7: no query means the lone "?".
      return `?${splitTarget(view.target).query ?? ''}`;
    case '@query-param':
      return queryParam(view, String(params.get('name')));
    default:
      throw new ComponentError(`component ${name} cannot be derived from a request`);
  }
}

function fieldLines(view: MessageView, name: string): string[] {
  const raw = view.headers[name];
  if (raw === undefined) throw new ComponentError(`covered field ${name} is not in the request`);
  const lines = Array.isArray(raw) ? raw : [raw];
  // RFC 9421 §2.1: strip leading/trailing whitespace per line, obsolete line folding becomes a space.
  return lines.map((line) => String(line).replace(/\r?\n[ \t]*/g, ' ').trim());
}

function strictSerialize(value: string): string {
  // The type of an arbitrary field is not known here: dictionary first (the common case: Content-Digest,
  // Signature-Agent), then list, then item. A value that parses as more than one serializes identically.
  try {
    return serializeDictionary(parseDictionary(value));
  } catch {
    try {
      return serializeList(parseList(value));
    } catch {
      try {
        return serializeItem(parseItem(value));
      } catch (cause) {
        throw new ComponentError(`field is not a structured field: ${(cause as Error).message}`);
      }
    }
  }
}

/** Value of an HTTP field component (RFC 9421 §2.1) with its sf, key or bs parameter. */
export function fieldValueOf(view: MessageView, name: string, params: ReadonlyMap<string, string | boolean>): string {
  const lines = fieldLines(view, name);
  if (params.has('bs')) return lines.map((line) => `:${Buffer.from(line, 'latin1').toString('base64')}:`).join(', ');
  const joined = lines.join(', ');
  const key = params.get('key');
  if (typeof key === 'string') {
    let dict;
    try {
      dict = parseDictionary(joined);
    } catch (cause) {
      throw new ComponentError(`field ${name} is not a structured dictionary: ${(cause as Error).message}`);
    }
    const member = dict.get(key);
    if (member === undefined) throw new ComponentError(`field ${name} has no member ${JSON.stringify(key)}`);
    return isInnerList(member) ? serializeInnerList(member) : serializeItem(member);
  }
  if (params.has('sf')) {
    try {
      return strictSerialize(joined);
    } catch (error) {
      throw new ComponentError(`field ${name}: ${(error as Error).message}`);
    }
  }
  return joined;
}

/** Any component's value. */
export function componentValue(view: MessageView, name: string, params: ReadonlyMap<string, string | boolean>): string {
  return name.startsWith('@') ? derivedValue(view, name, params) : fieldValueOf(view, name, params);
}
