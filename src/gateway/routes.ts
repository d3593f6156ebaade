import { BadRequestError, ToolgateError } from '../errors.js';
import { TOOL_NAME } from '../extract/parse.js';

/** The protected routes: the tools prefix and the MCP endpoint, as configured. */
export interface ProtectedPaths {
  readonly toolsPath: string;
  readonly mcpPath: string;
}

export type Route =
  | { readonly kind: 'http'; readonly tool: string }
  | { readonly kind: 'mcp' }
  /** GET opens a session's server-to-client stream, DELETE ends the session: signed, bound to their agent. */
  | { readonly kind: 'mcp-session'; readonly method: 'GET' | 'DELETE' }
  | { readonly kind: 'invalid'; readonly error: ToolgateError };

/** Methods a protected route accepts; anything else there is refused (HEAD would reach a GET handler). */
const MCP_METHODS: ReadonlySet<string> = new Set(['POST', 'GET', 'DELETE']);

/**
 * Which gateway route a request is, from method and the raw request target alone. A request whose target could
 * reach a protected route in any router's or proxy's reading (case, trailing or doubled slashes, percent-encoding,
 * dot segments, `;params`, absolute-form, a query) but is not spelled exactly as the gate's canonical form is
 * `invalid`: refused, never passed on. Everything else is `null` and not the gate's business.
 */
export function classifyRoute(method: string, target: string, paths: ProtectedPaths): Route | null {
  // The exact spellings agents use take the same answer the full reading gives them, without decoding anything.
  if (target === paths.mcpPath && method === 'POST') return { kind: 'mcp' };
  if (method === 'POST' && target.length > paths.toolsPath.length + 1 && target.startsWith(paths.toolsPath) && target.charCodeAt(paths.toolsPath.length) === 47 /* / */) {
    const tool = target.slice(paths.toolsPath.length + 1);
    if (TOOL_NAME.test(tool)) return { kind: 'http', tool }; // starts with a letter or digit: never a dot segment
  }
  const tools = configuredForm(paths.toolsPath);
  const mcp = configuredForm(paths.mcpPath);
  // Fast path for every other route: no reading can reach a protected route unless the decoded, folded target
  // contains the last segment of one (decoding and folding only ever add letters, the other steps only remove).
  const folded = decodeRepeatedly(target).normalize('NFKC').toLowerCase();
  if (!folded.includes(lastSegment(tools)) && !folded.includes(lastSegment(mcp))) return null;
  const aimed = looseForms(target).some((loose) => loose === mcp || loose === tools || loose.startsWith(`${tools}/`));
  if (!aimed) return null;

  if (target === paths.mcpPath) {
    if (method === 'POST') return { kind: 'mcp' };
    if (method === 'GET' || method === 'DELETE') return { kind: 'mcp-session', method };
    return invalid(methodNotAllowed(method, [...MCP_METHODS].join(', '), paths.mcpPath));
  }
  const prefix = `${paths.toolsPath}/`;
  if (target.startsWith(prefix) && TOOL_NAME.test(target.slice(prefix.length))) {
    if (method !== 'POST') return invalid(methodNotAllowed(method, 'POST', target));
    return { kind: 'http', tool: target.slice(prefix.length) };
  }
  return invalid(
    new BadRequestError(
      'path_noncanonical',
      `The request target is not spelled as the gateway's tool routes are: call POST ${paths.toolsPath}/<tool> (a tool name of letters, digits, ".", "_" and "-", exactly, without percent-encoding, trailing slash or query) or ${paths.mcpPath}, in origin-form.`,
    ),
  );
}

const invalid = (error: ToolgateError): Route => ({ kind: 'invalid', error });

function methodNotAllowed(method: string, allowed: string, path: string): ToolgateError {
  return new BadRequestError('method_not_allowed', `${method.slice(0, 16)} is not accepted on ${path.slice(0, 160)}; this route takes ${allowed}.`);
}

/**
 * The most permissive reading of a request target's path: what any component on the way (Express, a proxy, a
 * framework that decodes twice) might take it to mean. Used only to decide that a request is aimed at a protected
 * route; the canonical spelling is then checked exactly.
 */
export function looseForm(target: string, options: { readonly resolveDots?: boolean; readonly decode?: boolean } = {}): string {
  const resolveDots = options.resolveDots ?? true;
  let p = target;
  // absolute-form (`http://host/tools/x`) is routed by its path.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\\]*/.exec(p);
  if (authority) p = p.slice(authority[0].length);
  p = p.replace(/[?#].*$/s, '');
  if (options.decode ?? true) p = decodeRepeatedly(p);
  p = p.replace(/[?#].*$/s, '');
  const out: string[] = [];
  for (const raw of p.split(/[\\/]/)) {
    // `;params` are dropped by some routers; whitespace and controls are trimmed by others.
    let segment = trimControls(raw.split(';')[0]!);
    if (segment === '') continue;
    if (segment === '.' && resolveDots) continue;
    if (segment === '..' && resolveDots) {
      out.pop();
      continue;
    }
    // Trailing dots are dropped by file-system-minded servers.
    segment = segment.replace(/\.+$/, '');
    if (segment !== '') out.push(segment);
  }
  // NFKC then lower case: the Kelvin sign and the long s fold to ASCII letters in case-insensitive matchers.
  return `/${out.join('/')}`.normalize('NFKC').toLowerCase();
}

/**
 * Every reading of a target: decoded or not (Express matches the raw path, others decode first), dot segments
 * resolved or not (Express does not resolve them: `/tools/%2e%2e/x` is under its `/tools` mount), and `//host/path`
 * as a path or as an authority and a path.
 */
function looseForms(target: string): string[] {
  const schemeRelative = /^[\\/]{2}[^/?#\\]*/.exec(target);
  const targets = schemeRelative ? [target, target.slice(schemeRelative[0].length) || '/'] : [target];
  const forms: string[] = [];
  for (const t of targets) {
    for (const decode of [true, false]) for (const resolveDots of [true, false]) forms.push(looseForm(t, { decode, resolveDots }));
  }
  return forms;
}

// The configured paths' loose forms, computed once per path rather than on every request.
const configured = new Map<string, string>();
function configuredForm(path: string): string {
  let form = configured.get(path);
  if (form === undefined) configured.set(path, (form = looseForm(path)));
  return form;
}

/** Trims whitespace and C0/DEL controls at both ends (a loop: a regex class of control characters trips lint). */
function trimControls(s: string): string {
  const junk = (c: number) => c <= 0x20 || c === 0x7f || c === 0xa0 || c === 0xfeff || (c >= 0x2000 && c <= 0x200b) || c === 0x3000;
  let start = 0;
  let end = s.length;
  while (start < end && junk(s.charCodeAt(start))) start++;
  while (end > start && junk(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

const lastSegment = (loose: string) => loose.slice(loose.lastIndexOf('/') + 1);

/** Decodes until stable (bounded): `%252F` is `/` to a component that decodes twice. */
function decodeRepeatedly(s: string): string {
  let p = s;
  for (let i = 0; i < 4; i++) {
    const decoded = decodeLenient(p);
    if (decoded === p) break;
    p = decoded;
  }
  return p;
}

/** percent-decodes what is valid and leaves the rest (a lone `%` or a bad UTF-8 sequence) as it was. */
function decodeLenient(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run.replace(/%[0-9A-Fa-f]{2}/g, (h) => {
          const c = parseInt(h.slice(1), 16);
          return c < 0x80 ? String.fromCharCode(c) : h;
        });
      }
    });
  }
}
