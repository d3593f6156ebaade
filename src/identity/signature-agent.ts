import { parseDictionary, parseItem, serializeItem, Token } from 'structured-headers';
import { fieldValue } from './signature-fields.js';
import { IdentityError } from './types.js';

/** What a Web Bot Auth signature claims about where its key is published. */
export interface AgentClaim {
  /** The Signature-Agent member value as sent. */
  readonly value: string;
  /** Its origin, where the key directory lives. */
  readonly origin: string;
  /** Component identifiers that cover this claim (any one suffices). */
  readonly coveredBy: readonly string[];
}

const WHOLE_FIELD = ['"signature-agent"', '"signature-agent";sf'];

/**
 * The Signature-Agent claim for signature `label`: the member keyed by the label (dictionary form, which that
 * signature must cover as `"signature-agent";key="<label>"`), or the whole field in the older string form.
 */
export function signatureAgentClaim(headers: Readonly<Record<string, string | string[] | undefined>>, label: string, maxBytes: number, allowHttp: boolean): AgentClaim {
  const fail = (reason: 'signature_malformed' | 'key_unknown', message: string) => new IdentityError(reason, `signature ${label}: ${message}`, { scheme: 'web-bot-auth' });
  const raw = fieldValue(headers, 'signature-agent', maxBytes, 'web-bot-auth');
  if (raw === undefined) throw fail('key_unknown', 'Web Bot Auth needs a Signature-Agent header naming the key directory');
  let value: unknown;
  let coveredBy: string[];
  try {
    if (raw.trimStart().startsWith('"')) {
      // Older drafts: one sf-string for the whole request.
      const [item, params] = parseItem(raw);
      if (params.size > 0) throw new Error('parameters on the string form');
      value = item;
      coveredBy = WHOLE_FIELD;
    } else {
      const member = parseDictionary(raw).get(label);
      if (member === undefined) throw fail('key_unknown', `Signature-Agent has no member "${label}" for this signature`);
      const [item, params] = member;
      const type = params.get('type');
      if (type !== undefined && !(type instanceof Token && type.toString() === 'directory')) {
        throw fail('key_unknown', `Signature-Agent type ${String(type)} is not supported (only directory)`);
      }
      value = item;
      coveredBy = [serializeItem(['signature-agent', new Map([['key', label]])]), ...WHOLE_FIELD];
    }
  } catch (error) {
    if (error instanceof IdentityError) throw error;
    throw fail('signature_malformed', `Signature-Agent is not a structured dictionary or string: ${(error as Error).message}`);
  }
  if (typeof value !== 'string') throw fail('signature_malformed', 'Signature-Agent member must be a string holding an https origin');
  return { value, origin: directoryOrigin(value, allowHttp, fail), coveredBy };
}

function directoryOrigin(value: string, allowHttp: boolean, fail: (reason: 'signature_malformed', message: string) => IdentityError): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail('signature_malformed', `Signature-Agent "${value.slice(0, 100)}" is not a URL`);
  }
  const schemeOk = url.protocol === 'https:' || (allowHttp && url.protocol === 'http:');
  // The directory type names an origin (an empty path "/" is tolerated); anything else could aim the fetch at an
  // arbitrary path on someone's host.
  if (!schemeOk || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw fail('signature_malformed', `Signature-Agent "${value.slice(0, 100)}" must be an https origin such as https://agent.example`);
  }
  return url.origin;
}
