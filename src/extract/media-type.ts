import { BadRequestError } from '../errors.js';

/** `application/json` and structured-syntax `+json` types (RFC 6839), e.g. `application/merge-patch+json`. */
const JSON_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/**
 * A tool call's body is parsed as JSON only when the agent declared it JSON (the declared type is signed with the
 * body): refuses any other Content-Type with 415 `unsupported_media_type`, and a charset other than UTF-8.
 * A request with no body needs no Content-Type (no arguments); a body with none is refused as well.
 */
export function requireJsonMediaType(contentType: string | undefined, bodyLength: number): void {
  if (contentType === undefined || contentType.trim() === '') {
    if (bodyLength === 0) return;
    throw new BadRequestError('unsupported_media_type', 'The request has a body but no Content-Type: send the arguments with Content-Type: application/json.');
  }
  const [essence = '', ...params] = contentType.split(';');
  const type = essence.trim().toLowerCase();
  if (!JSON_TYPE.test(type)) {
    throw new BadRequestError('unsupported_media_type', `Content-Type ${JSON.stringify(contentType.slice(0, 100))} is not JSON: send tool calls with Content-Type: application/json.`);
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new BadRequestError('unsupported_media_type', `The body is declared as charset ${JSON.stringify(charset.slice(0, 40))}; JSON is UTF-8 (RFC 8259): send it as UTF-8 and drop the charset or set charset=utf-8.`);
    }
  }
}
