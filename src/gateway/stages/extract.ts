import { BadRequestError, UnavailableError } from '../../errors.js';
import { isMcpMessage, parseHttpCall, parseMcpCall, readRawBody, requireJsonMediaType, type ToolCall } from '../../extract/index.js';
import * as A from '../../telemetry/attributes.js';
import { parentFromMeta } from '../../telemetry/decision-span.js';
import { elapsedNs, headerValue } from './util.js';
import type { Stage } from './context.js';

/** The gateway is started, and the route is one it decides (a mis-spelled protected route is refused here). */
export const ready: Stage = async (ctx, deps) => {
  const runtime = deps.runtime();
  if (!runtime) {
    const why = deps.startError();
    throw new UnavailableError('policy_unavailable', `The gateway is not ready (${why instanceof Error ? why.message : 'starting'}); nothing was executed. Check /readyz and the gateway logs.`);
  }
  ctx.runtime = runtime; // the span names its revision when it ends (outcome.ts)
  if (ctx.route.kind === 'invalid') throw ctx.route.error;
};

/** The exact bytes the agent sent, and the call (or MCP message) they carry. Malformed input is a 4xx here. */
export const extract: Stage = async (ctx, deps) => {
  const t = performance.now();
  const { req, route } = ctx;
  const { config } = deps;
  ctx.raw = await readRawBody(req, config.bodyLimit);
  ctx.nowMs = config.now(); // the request is complete: it is judged as of now, not of when its headers came
  if (route.kind === 'mcp-session') {
    if (ctx.raw.length > 0) throw new BadRequestError('body_unexpected', `${req.method} ${config.mcpPath} takes no body; send JSON-RPC messages with POST.`);
    ctx.span.updateName(`${A.SPAN_AUTHORIZE} mcp ${req.method}`);
  } else {
    requireJsonMediaType(headerValue(req.headers['content-type']), ctx.raw.length);
    const parsed = route.kind === 'http' ? parseHttpCall(route.tool, ctx.raw, config.json) : parseMcpCall(ctx.raw, config.json);
    if (route.kind !== 'http') ctx.parent = parentFromMeta(ctx.parent, metaOf(parsed.body));
    const span = ctx.span; // opened here, under the parent the message names
    if (isMcpMessage(parsed)) {
      ctx.message = parsed;
      span.updateName(`${A.SPAN_AUTHORIZE} mcp ${parsed.method.slice(0, 64)}`);
    } else {
      const call: ToolCall = parsed;
      ctx.call = call;
      span.updateName(`${A.SPAN_AUTHORIZE} ${call.tool}`);
      span.setAttribute(A.ATTR_GEN_AI_TOOL_NAME, call.tool);
    }
  }
  ctx.span.setAttribute(A.ATTR_TOOL_PROTOCOL, route.kind === 'http' ? 'http' : 'mcp');
  ctx.timers.timer_extract_ns = elapsedNs(t);
};

/** `params._meta` of a JSON-RPC message, if any. */
function metaOf(body: unknown): unknown {
  const params = typeof body === 'object' && body !== null ? (body as { params?: unknown }).params : undefined;
  return typeof params === 'object' && params !== null ? (params as { _meta?: unknown })._meta : undefined;
}
