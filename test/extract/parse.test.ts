import { describe, expect, it } from 'vitest';
import { parseHttpCall, parseMcpCall } from '../../src/extract/index.js';
import { BadRequestError } from '../../src/errors.js';

const buf = (s: string) => Buffer.from(s, 'utf8');

describe('parseHttpCall', () => {
  it('takes the body as the arguments object', () => {
    expect(parseHttpCall('email.send', buf('{"to":["a@b.c"]}')).args).toEqual({ to: ['a@b.c'] });
  });
  it('treats an empty body as no arguments', () => {
    expect(parseHttpCall('t', Buffer.alloc(0)).args).toEqual({});
  });
  it.each([
    ['{', 'invalid_json'],
    ['[1,2]', 'args_not_object'],
    ['"x"', 'args_not_object'],
    ['null', 'args_not_object'],
    ['42', 'args_not_object'],
    ['\u0000', 'invalid_json'],
    ['[' .repeat(100_000), 'invalid_json'],
  ])('refuses %j with %s', (body, reason) => {
    const run = () => parseHttpCall('t', buf(body));
    expect(run).toThrow(BadRequestError);
    expect(run).toThrow(expect.objectContaining({ reason }));
  });
  it('keeps __proto__ as data, never as a prototype', () => {
    const { args } = parseHttpCall('t', buf('{"__proto__":{"polluted":true}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
  });
});

describe('parseMcpCall', () => {
  const rpc = (o: unknown) => buf(JSON.stringify(o));
  it('extracts tools/call name and arguments', () => {
    const call = parseMcpCall(rpc({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'email.send', arguments: { to: ['x@y.z'] } } }));
    expect(call).toMatchObject({ tool: 'email.send', protocol: 'mcp', args: { to: ['x@y.z'] }, rpcId: 7 });
  });
  it('returns other methods as messages, not tool calls', () => {
    expect(parseMcpCall(rpc({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).toMatchObject({ kind: 'request', method: 'tools/list', rpcId: 1 });
    expect(parseMcpCall(rpc({ jsonrpc: '2.0', method: 'notifications/initialized' }))).toMatchObject({ kind: 'notification', method: 'notifications/initialized' });
  });
  it.each([
    { jsonrpc: '2.0', id: 3, result: {} },
    { jsonrpc: '2.0', id: 'srv-1', result: { roots: [] } },
    { jsonrpc: '2.0', id: 4, error: { code: -32601, message: 'no sampling here' } },
  ])('returns the client response %j to a server request as a response message', (body) => {
    expect(parseMcpCall(rpc(body))).toMatchObject({ kind: 'response', rpcId: body.id, body });
  });
  it.each([
    [[{ jsonrpc: '2.0', method: 'tools/call' }], 'mcp_batch_unsupported'],
    [{ method: 'tools/call' }, 'mcp_invalid_request'],
    [{ jsonrpc: '1.0', method: 'tools/call' }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: 1 }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: null, result: {} }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'm' } }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: 1, error: { code: 'x', message: 'm' } }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: 1, method: 5 }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', method: 'tools/call' }, 'mcp_invalid_params'],
    [{ jsonrpc: '2.0', method: 'tools/call', params: { name: 5 } }, 'mcp_invalid_params'],
    [{ jsonrpc: '2.0', method: 'tools/call', params: { name: '../x' } }, 'mcp_invalid_params'],
    [{ jsonrpc: '2.0', method: 'tools/call', params: { name: 'a', arguments: [1] } }, 'args_not_object'],
    // An id the answer could not be matched by: the tools/list filter and the refusal's id go by it.
    [{ jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list' }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: [1], method: 'tools/list' }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: true, method: 'tools/list' }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: null, method: 'tools/list' }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: {}, method: 'tools/call', params: { name: 'a' } }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', id: null, method: 'tools/call', params: { name: 'a' } }, 'mcp_invalid_request'],
    [{ jsonrpc: '2.0', method: 'tools/list' }, 'mcp_invalid_request'],
  ])('refuses %j with %s', (body, reason) => {
    expect(() => parseMcpCall(rpc(body))).toThrow(expect.objectContaining({ reason }));
  });
});
