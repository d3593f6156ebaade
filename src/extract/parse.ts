import { BadRequestError } from '../errors.js';
import type { McpMessage, ToolCall } from './types.js';
import { parseJsonBody } from './json-body.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './json-limits.js';
import { isObject } from '../object.js';

/**
 * A bad request in a JSON-RPC message whose id could be read: the refusal answers that id (JSON-RPC 2.0 answers
 * null only when the id itself could not be read).
 */
export class McpRequestError extends BadRequestError {
  constructor(
    reason: string,
    message: string,
    readonly rpcId: string | number | undefined,
  ) {
    super(reason, message);
  }
}

/** Tool names: letters, digits, ".", "_" and "-", 1-128 characters, spelled exactly (no percent-encoding). */
export const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** POST /tools/{tool}: the body is the arguments object (empty body means no arguments). */
export function parseHttpCall(tool: string, raw: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): ToolCall {
  const body = parseJsonBody(raw, limits);
  const args = body === undefined ? {} : body;
  if (!isObject(args)) {
    throw new BadRequestError('args_not_object', 'Tool arguments must be a JSON object, e.g. {"to": ["a@b.c"]}.');
  }
  return { tool, protocol: 'http', args, body: args };
}

/**
 * POST /mcp: one JSON-RPC 2.0 message. Only a `tools/call` request is a tool call; any other request, a
 * notification, or the client's response to a server request comes back as an McpMessage, which the gateway
 * passes on (signed; requests and notifications only for the methods it is configured to let through).
 */
export function parseMcpCall(raw: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): ToolCall | McpMessage {
  const body = parseJsonBody(raw, limits);
  if (Array.isArray(body)) {
    throw new BadRequestError('mcp_batch_unsupported', 'JSON-RPC batches are not supported on /mcp (MCP removed them): send one message per POST.');
  }
  if (!isObject(body) || body.jsonrpc !== '2.0') throw invalidMessage();
  const id = body.id;
  if (body.method === undefined) {
    if (!isResponse(body)) throw invalidMessage();
    return { kind: 'response', method: '(response)', rpcId: id as string | number, body };
  }
  if (typeof body.method !== 'string') throw invalidMessage();
  // The id is what the answer is matched by (the tools/list filter, the refusal's id): an id of another type would
  // leave the answer unmatched, and a message without one is a notification, which MCP never answers.
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
    throw new BadRequestError('mcp_invalid_request', `A JSON-RPC request id must be a string or a number (MCP: not null), not ${id === null ? 'null' : Array.isArray(id) ? 'an array' : typeof id}: send e.g. "id": 1.`);
  }
  const rpcId = id;
  if (rpcId === undefined && ANSWERED_METHODS.has(body.method)) {
    throw new BadRequestError('mcp_invalid_request', `${body.method} is a request and needs an id to be answered by: send e.g. "id": 1.`);
  }
  if (body.method !== 'tools/call') return { kind: rpcId === undefined ? 'notification' : 'request', method: body.method, rpcId, body };
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string' || !TOOL_NAME.test(params.name)) {
    throw new McpRequestError('mcp_invalid_params', 'tools/call needs params.name, a tool name of letters, digits, ".", "_" and "-", and params.arguments as an object.', rpcId);
  }
  const args = params.arguments === undefined ? {} : params.arguments;
  if (!isObject(args)) {
    throw new McpRequestError('args_not_object', 'params.arguments must be a JSON object.', rpcId);
  }
  return { tool: params.name, protocol: 'mcp', args, rpcId, body };
}

/**
 * Methods whose answer the gateway must read: tools/list's is filtered to what the agent may see. Sent without an id,
 * a service that answers notifications anyway would answer with an id the filter cannot match.
 */
const ANSWERED_METHODS: ReadonlySet<string> = new Set(['tools/list']);

const invalidMessage = () =>
  new BadRequestError('mcp_invalid_request', 'The /mcp body must be one JSON-RPC 2.0 message with "jsonrpc":"2.0": a request or notification with a "method", or a response with an "id" and either "result" or "error" {code, message}.');

/** A JSON-RPC response: an id the server's request carried, and exactly one of a result or a well-formed error. */
function isResponse(body: Record<string, unknown>): boolean {
  if (typeof body.id !== 'string' && typeof body.id !== 'number') return false;
  const hasResult = Object.hasOwn(body, 'result');
  const error = body.error;
  if (hasResult === (error !== undefined)) return false;
  return hasResult || (isObject(error) && Number.isInteger(error.code) && typeof error.message === 'string');
}

export function isMcpMessage(parsed: ToolCall | McpMessage): parsed is McpMessage {
  return 'method' in parsed;
}
