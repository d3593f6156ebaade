import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { declaredMirrors } from '../../src/gateway/mcp-tool-catalog.js';
import { checkMcpPost, checkOrigin, decodeMirror, META_VERSION, type McpPost } from '../../src/gateway/mcp-transport.js';

const V26 = '2026-07-28';
const h = (headers: Record<string, string | string[]>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    count: { type: 'integer', 'x-mcp-header': 'Count' },
    dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
    nested: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
    note: { type: 'string' },
  },
};
const mirrors = declaredMirrors(schema);

/** `version` null: a client of a revision before 2025-06-18, which sends no version at all. */
function call(args: Record<string, unknown>, headers: Record<string, string | string[]>, versionOrNone: string | null = V26, name = 'deploy'): McpPost {
  const version = versionOrNone ?? undefined;
  const meta = version === undefined ? {} : { _meta: { [META_VERSION]: version } };
  return {
    headers: h({ ...(version !== undefined ? { 'MCP-Protocol-Version': version } : {}), ...headers }),
    body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, ...meta } },
    kind: 'request',
    mirrors,
  };
}
const ok = { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'deploy' };

function refusal(fn: () => void): { reason: string; message: string; details?: unknown } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    const e = error as BadRequestError;
    return { reason: e.reason, message: e.message, details: e.details };
  }
  throw new Error('expected a refusal');
}

describe('MCP transport rules of one POST', () => {
  it('accepts a 2026-07-28 tools/call whose headers mirror the body, base64 and numeric forms included', () => {
    checkMcpPost(call({ region: 'us-west1', count: 3, dry: false, nested: { tenant: 'Ünïcode' } }, {
      ...ok,
      'Mcp-Param-Region': 'us-west1',
      'Mcp-Param-Count': '3.0',
      'Mcp-Param-Dry': 'false',
      'mcp-param-tenant': `=?base64?${Buffer.from('Ünïcode').toString('base64')}?=`,
    }));
    // A parameter without a value has no header.
    checkMcpPost(call({ note: 'x' }, ok));
  });

  it.each([
    ['the method header is missing', call({}, { 'Mcp-Name': 'deploy' }), /Mcp-Method/],
    ['the method header says another method', call({}, { 'Mcp-Method': 'tools/list', 'Mcp-Name': 'deploy' }), /Mcp-Method/],
    ['the name header is missing', call({}, { 'Mcp-Method': 'tools/call' }), /Mcp-Name/],
    ['the name header names another tool', call({}, { ...ok, 'Mcp-Name': 'delete' }), /Mcp-Name/],
    ['the name header differs in case', call({}, { ...ok, 'Mcp-Name': 'Deploy' }), /Mcp-Name/],
    ['the name header is sent twice', call({}, { ...ok, 'Mcp-Name': ['deploy', 'delete'] }), /twice|2 times/],
    ['a mirrored parameter is missing', call({ region: 'eu' }, ok), /Mcp-Param-Region is missing/],
    ['a mirrored parameter disagrees', call({ region: 'eu' }, { ...ok, 'Mcp-Param-Region': 'us' }), /Mcp-Param-Region does not match/],
    ['a mirror is sent for a parameter the call does not set', call({}, { ...ok, 'Mcp-Param-Region': 'us' }), /does not match/],
    ['a mirror names no declared parameter', call({}, { ...ok, 'Mcp-Param-Note': 'x' }), /declares/],
    ['an integer mirror is not an integer', call({ count: 3 }, { ...ok, 'Mcp-Param-Count': '3e0' }), /Count/],
    ['a boolean mirror differs in case', call({ dry: true }, { ...ok, 'Mcp-Param-Dry': 'True' }), /Dry/],
    ['a value of the wrong type is mirrored', call({ count: '3' }, { ...ok, 'Mcp-Param-Count': '3' }), /Count/],
    ['base64 that is not canonical', call({ region: 'eu' }, { ...ok, 'Mcp-Param-Region': '=?base64?ZXU?=' }), /canonical/],
    ['a raw value with a control character', call({ region: 'e\u0001u' }, { ...ok, 'Mcp-Param-Region': 'e\u0001u' }), /visible ASCII/],
    ['the body version differs from the header', { ...call({}, ok), body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy', _meta: { [META_VERSION]: '2025-11-25' } } } }, /params._meta/],
  ])('refuses with mcp_header_mismatch when %s', (_what, post, message) => {
    const r = refusal(() => checkMcpPost(post));
    expect(r.reason).toBe('mcp_header_mismatch');
    expect(r.message).toMatch(message);
  });

  it('refuses a version it does not speak with the list it does', () => {
    const r = refusal(() => checkMcpPost(call({}, ok, '2099-01-01')));
    expect(r).toMatchObject({ reason: 'mcp_protocol_version_unsupported', details: { requested: '2099-01-01', supported: expect.arrayContaining([V26, '2025-11-25']) } });
  });

  it('a 2026-07-28 request must carry its version in _meta; a 2026 client never POSTs a response', () => {
    const noMeta: McpPost = { headers: h({ 'MCP-Protocol-Version': V26, ...ok }), body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'deploy' } }, kind: 'request', mirrors };
    expect(refusal(() => checkMcpPost(noMeta)).reason).toBe('mcp_invalid_params');
    const response: McpPost = { headers: h({ 'MCP-Protocol-Version': V26 }), body: { jsonrpc: '2.0', id: 4, result: {} }, kind: 'response' };
    expect(refusal(() => checkMcpPost(response)).reason).toBe('mcp_invalid_request');
    // A body that claims 2026 without the header is a mismatch, not a legacy request.
    const claimed: McpPost = { headers: h(ok), body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [META_VERSION]: V26 } } }, kind: 'request' };
    expect(refusal(() => checkMcpPost(claimed)).reason).toBe('mcp_header_mismatch');
  });

  it('older revisions need no mirrors, but a mirror they send must agree', () => {
    checkMcpPost(call({ region: 'eu' }, {}, '2025-11-25'));
    checkMcpPost(call({ region: 'eu' }, {}, null));
    expect(refusal(() => checkMcpPost(call({ region: 'eu' }, { 'Mcp-Name': 'other' }, '2025-11-25'))).reason).toBe('mcp_header_mismatch');
    expect(refusal(() => checkMcpPost(call({ region: 'eu' }, { 'Mcp-Param-Region': 'us' }, '2025-06-18'))).reason).toBe('mcp_header_mismatch');
  });

  it('a mirror for a tool the gateway never saw listed cannot be checked and is refused', () => {
    const post = { ...call({ region: 'eu' }, { ...ok, 'Mcp-Param-Region': 'eu' }), mirrors: undefined };
    expect(refusal(() => checkMcpPost(post)).message).toMatch(/tools\/list/);
    checkMcpPost({ ...call({ region: 'eu' }, ok), mirrors: undefined });
  });

  it('a parameter mirror on a message that is not a tools/call is refused', () => {
    const list: McpPost = { headers: h({ 'Mcp-Param-Region': 'eu' }), body: { jsonrpc: '2.0', id: 2, method: 'tools/list' }, kind: 'request' };
    expect(refusal(() => checkMcpPost(list)).reason).toBe('mcp_header_mismatch');
  });

  it('property: a header a correct client writes for any string is accepted, and any other string is refused', () => {
    const encode = (v: string) => (/^[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?$/.test(v) && !/^=\?base64\?.*\?=$/.test(v) ? v : `=?base64?${Buffer.from(v).toString('base64')}?=`);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (value, other) => {
        fc.pre(!/[\ud800-\udfff]/.test(value) && value.length > 0);
        checkMcpPost(call({ region: value }, { ...ok, 'Mcp-Param-Region': encode(value) }));
        if (other !== value && other.length > 0 && !/[\ud800-\udfff]/.test(other)) {
          expect(refusal(() => checkMcpPost(call({ region: value }, { ...ok, 'Mcp-Param-Region': encode(other) }))).reason).toBe('mcp_header_mismatch');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decodes only the spec base64 form, and refuses malformed UTF-8', () => {
    expect(decodeMirror('X', '=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界');
    expect(decodeMirror('X', '=?BASE64?SGk=?=')).toBe('=?BASE64?SGk=?='); // markers are case-sensitive: a plain value
    expect(() => decodeMirror('X', '=?base64?/w==?=')).toThrow(/UTF-8/);
    expect(() => decodeMirror('X', 'caf\u00e9')).toThrow(/visible ASCII/);
  });
});

describe('declared mirrors', () => {
  it('counts only token names on string, integer or boolean properties reached through properties alone', () => {
    const found = declaredMirrors({
      type: 'object',
      'x-mcp-header': 'Root',
      properties: {
        a: { type: 'number', 'x-mcp-header': 'A' },
        b: { type: 'array', items: { type: 'string', 'x-mcp-header': 'B' } },
        c: { oneOf: [{ type: 'string', 'x-mcp-header': 'C' }] },
        d: { type: 'string', 'x-mcp-header': 'Bad Name' },
        e: { type: ['string', 'null'], 'x-mcp-header': 'E' },
        f: { type: 'object', properties: { g: { type: 'boolean', 'x-mcp-header': 'G' } } },
      },
    });
    expect([...found.keys()]).toEqual(['g']);
    expect(found.get('g')).toEqual({ header: 'G', path: ['f', 'g'], type: 'boolean' });
  });

  it('a name declared twice, in any case, mirrors neither parameter', () => {
    const found = declaredMirrors({ properties: { a: { type: 'string', 'x-mcp-header': 'Id' }, b: { type: 'string', 'x-mcp-header': 'ID' }, c: { type: 'string', 'x-mcp-header': 'Other' } } });
    expect([...found.keys()]).toEqual(['other']);
  });

  it('stays linear on a deep schema', () => {
    let deep: Record<string, unknown> = { type: 'string', 'x-mcp-header': 'Deep' };
    for (let i = 0; i < 100_000; i += 1) deep = { type: 'object', properties: { p: deep } };
    const started = performance.now();
    expect(declaredMirrors(deep).size).toBe(0); // beyond the depth the gateway looks at
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('Origin', () => {
  const allowed = new Set(['https://console.example']);
  it('lets requests without an Origin and allowed origins in, refuses any other', () => {
    checkOrigin(h({}), allowed);
    checkOrigin(h({ Origin: 'https://console.example' }), allowed);
    for (const origin of ['https://evil.example', 'null', 'https://console.example.evil', 'HTTPS://CONSOLE.EXAMPLE']) {
      expect(refusal(() => checkOrigin(h({ Origin: origin }), allowed)).reason).toBe('mcp_origin_forbidden');
    }
    expect(refusal(() => checkOrigin(h({ Origin: ['https://console.example', 'https://evil.example'] }), allowed)).reason).toBe('mcp_origin_forbidden');
  });
});
