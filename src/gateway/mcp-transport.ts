import { BadRequestError } from '../errors.js';
import type { McpMirror } from './mcp-tool-catalog.js';
import { isObject } from '../object.js';

/** The MCP revisions this gateway speaks on Streamable HTTP, oldest first. */
export const MCP_PROTOCOL_VERSIONS: readonly string[] = ['2024-10-07', '2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'];
/** From this revision on, requests mirror their method, name and chosen parameters in headers the server checks. */
export const MIRRORING_VERSION = '2026-07-28';
/** The `_meta` key that carries a 2026-07-28 request's protocol version. */
export const META_VERSION = 'io.modelcontextprotocol/protocolVersion';

const VERSION_HEADER = 'mcp-protocol-version';
const METHOD_HEADER = 'mcp-method';
const NAME_HEADER = 'mcp-name';
const PARAM_PREFIX = 'mcp-param-';

export type HeadersDistinct = Readonly<Record<string, readonly string[] | undefined>>;

/** What the transport check needs of one MCP POST. */
export interface McpPost {
  /** `req.headersDistinct`: every header's values, so a repeated header is seen as such. */
  readonly headers: HeadersDistinct;
  /** The parsed JSON-RPC message. */
  readonly body: Record<string, unknown>;
  readonly kind: 'request' | 'notification' | 'response';
  /** For tools/call: the called tool's mirrored parameters as the service listed them; undefined when never listed. */
  readonly mirrors?: ReadonlyMap<string, McpMirror> | undefined;
}

export const headerMismatch = (message: string) => new BadRequestError('mcp_header_mismatch', `Header mismatch: ${message}`);

/** The one value of a header, undefined when absent; a header sent twice is refused (two readers could pick different ones). */
function single(headers: HeadersDistinct, name: string): string | undefined {
  const values = headers[name];
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw headerMismatch(`${name} was sent ${values.length} times; send it once.`);
  return values[0];
}

/**
 * A mirrored header's value as text: plain visible ASCII, space and tab as sent, or the spec's base64 form
 * `=?base64?...?=` decoded (strictly: canonical base64 of well-formed UTF-8). Anything else is refused.
 */
export function decodeMirror(header: string, value: string): string {
  const b64 = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(value);
  if (b64) {
    const bytes = Buffer.from(b64[1]!, 'base64');
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    if (bytes.toString('base64') !== b64[1]) throw headerMismatch(`${header} is not canonical base64 inside =?base64?...?=.`);
    try {
      return text.decode(bytes);
    } catch {
      throw headerMismatch(`${header}'s base64 value is not UTF-8.`);
    }
  }
  if (!/^[\x21-\x7e \t]*$/.test(value)) throw headerMismatch(`${header} carries characters outside visible ASCII, space and tab; send them as =?base64?...?=.`);
  return value;
}

/** The checked protocol version of a request: the header's, or undefined for a pre-2025-06-18 client that sent none. */
export function protocolVersion(headers: HeadersDistinct, supported: readonly string[] = MCP_PROTOCOL_VERSIONS): string | undefined {
  const version = single(headers, VERSION_HEADER);
  if (version === undefined) return undefined;
  if (!supported.includes(version)) {
    throw new BadRequestError(
      'mcp_protocol_version_unsupported',
      `MCP-Protocol-Version ${JSON.stringify(version.slice(0, 40))} is not one this gateway speaks; use one of ${supported.join(', ')}.`,
      { supported: [...supported], requested: version.slice(0, 40) },
    );
  }
  return version;
}

/**
 * The transport rules of one MCP POST, checked before anything is decided: the protocol version is one the gateway
 * speaks; from 2026-07-28 on the body's `_meta` version equals the header, `Mcp-Method` and `Mcp-Name` are present
 * and equal the body's method and name (or uri), and every parameter the tool marks `x-mcp-header` that has a
 * value is mirrored; at any version a mirror that is sent must agree with the body, and a tools/call's
 * `Mcp-Param-*` headers must be ones the tool declares (the gateway cannot check others, and the service may act
 * on them). So the policy and the service never judge two different calls. Throws 400 `mcp_header_mismatch`
 * (JSON-RPC -32020), `mcp_protocol_version_unsupported` (-32022) or `mcp_invalid_params` (-32602).
 */
export function checkMcpPost(post: McpPost, supported: readonly string[] = MCP_PROTOCOL_VERSIONS): void {
  const { headers, body } = post;
  const version = protocolVersion(headers, supported);
  const params = isObject(body.params) ? body.params : undefined;
  const meta = params && isObject(params._meta) ? params._meta : undefined;
  const metaVersion = meta?.[META_VERSION];
  const modern = version !== undefined && version >= MIRRORING_VERSION;
  if (metaVersion !== undefined && metaVersion !== version) {
    throw headerMismatch(`MCP-Protocol-Version ${version === undefined ? 'is missing' : JSON.stringify(version)} but params._meta says ${JSON.stringify(String(metaVersion).slice(0, 40))}; send the same version in both.`);
  }
  if (modern && post.kind === 'response') {
    throw new BadRequestError('mcp_invalid_request', `Clients do not POST JSON-RPC responses in MCP ${version}; answer the server's input requests by retrying the call with params.inputResponses.`);
  }
  if (modern && post.kind === 'request' && metaVersion === undefined) {
    throw new BadRequestError('mcp_invalid_params', `An MCP ${version} request carries params._meta["${META_VERSION}"], equal to the MCP-Protocol-Version header; add it.`);
  }
  const method = typeof body.method === 'string' ? body.method : undefined;
  const sentMethod = single(headers, METHOD_HEADER);
  if (sentMethod !== undefined) {
    if (decodeMirror('Mcp-Method', sentMethod) !== method) throw headerMismatch(`Mcp-Method ${JSON.stringify(sentMethod.slice(0, 64))} does not match the body's method ${JSON.stringify(method ?? null)}.`);
  } else if (modern && post.kind === 'request') {
    throw headerMismatch(`MCP ${version} requests carry Mcp-Method (the body's method); add it.`);
  }
  const nameField = method === 'resources/read' ? 'uri' : method === 'tools/call' || method === 'prompts/get' ? 'name' : undefined;
  const sentName = single(headers, NAME_HEADER);
  if (sentName !== undefined || (modern && nameField !== undefined)) {
    const name = nameField !== undefined && typeof params?.[nameField] === 'string' ? (params[nameField] as string) : undefined;
    if (sentName === undefined) throw headerMismatch(`MCP ${version} ${method} requests carry Mcp-Name (params.${nameField}); add it.`);
    if (name === undefined || decodeMirror('Mcp-Name', sentName) !== name) {
      throw headerMismatch(`Mcp-Name does not match the body's ${nameField === undefined ? 'method, which names nothing' : `params.${nameField}`}; send the same value in both.`);
    }
  }
  checkParamMirrors(post, method === 'tools/call' && isObject(params?.arguments) ? params.arguments : method === 'tools/call' ? {} : undefined, modern);
}

/** `Mcp-Param-*` headers against a tools/call's arguments and the tool's declared mirrors. */
function checkParamMirrors(post: McpPost, args: Record<string, unknown> | undefined, modern: boolean): void {
  const sent = Object.keys(post.headers).filter((h) => h.startsWith(PARAM_PREFIX));
  if (args === undefined) {
    // Only a tools/call has tool parameters; elsewhere a mirror names nothing the gateway judged.
    if (sent.length > 0) throw headerMismatch(`${sent[0]} mirrors a tool parameter, but this message is not a tools/call.`);
    return;
  }
  const mirrors = post.mirrors;
  if (mirrors === undefined) {
    if (sent.length > 0) throw headerMismatch(`the gateway has not seen this tool listed, so it cannot check ${sent[0]}; call tools/list, then retry.`);
    return;
  }
  for (const header of sent) {
    const mirror = mirrors.get(header.slice(PARAM_PREFIX.length));
    if (!mirror) throw headerMismatch(`${header} mirrors no parameter the tool declares (x-mcp-header); call tools/list for its current definition, then retry.`);
  }
  for (const [name, mirror] of mirrors) {
    const header = `${PARAM_PREFIX}${name}`;
    const value = valueAt(args, mirror.path);
    const expected = value === undefined || value === null ? undefined : encodeForCompare(value, mirror.type);
    const raw = single(post.headers, header);
    if (raw === undefined) {
      if (modern && value !== undefined && value !== null) throw headerMismatch(`Mcp-Param-${mirror.header} is missing; it mirrors ${pointer(mirror.path)}, which the call sets.`);
      continue;
    }
    const text = decodeMirror(`Mcp-Param-${mirror.header}`, raw);
    if (expected === undefined || !sameValue(text, expected, mirror.type)) {
      throw headerMismatch(`Mcp-Param-${mirror.header} does not match ${pointer(mirror.path)} in the arguments; send the same value in both.`);
    }
  }
}

function valueAt(args: Record<string, unknown>, path: readonly string[]): unknown {
  let at: unknown = args;
  for (const key of path) {
    if (!isObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** The argument as the header must spell it; a value of another type than declared matches no header. */
function encodeForCompare(value: unknown, type: McpMirror['type']): string | undefined {
  if (type === 'string') return typeof value === 'string' ? value : undefined;
  if (type === 'boolean') return typeof value === 'boolean' ? String(value) : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/** Integers compare numerically (`42.0` is `42`), everything else exactly. */
function sameValue(text: string, expected: string, type: McpMirror['type']): boolean {
  if (type !== 'integer') return text === expected;
  if (!/^-?\d+(\.0+)?$/.test(text)) return false;
  return Number(text) === Number(expected);
}

const pointer = (path: readonly string[]) => `/arguments/${path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;

/**
 * An MCP Origin check (both revisions: a present, invalid Origin gets 403): the request's Origin, if any, must be
 * one of `allowed` exactly. Agents do not send one; a browser does, and must be let in by name.
 */
export function checkOrigin(headers: HeadersDistinct, allowed: ReadonlySet<string>): void {
  const values = headers.origin;
  if (values === undefined || values.length === 0) return;
  if (values.length === 1 && allowed.has(values[0]!)) return;
  const shown = JSON.stringify(values.join(', ').slice(0, 120));
  throw new BadRequestError('mcp_origin_forbidden', `Origin ${shown} may not use this MCP endpoint; ask the operator to add it to mcpAllowedOrigins (TOOLGATE_MCP_ALLOWED_ORIGINS), or call without a browser.`);
}
