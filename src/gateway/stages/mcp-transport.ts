import { checkMcpPost, checkOrigin, protocolVersion } from '../mcp-transport.js';
import type { Stage } from './context.js';

/**
 * MCP's transport rules, before anything is decided: an Origin the operator let in (or none), a protocol version
 * the gateway speaks, and (2026-07-28) the `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers equal to the body,
 * checked against the tool's listed definition. The policy judges the body; a header that says something else is
 * refused here, so the service can never act on a call the policy did not see.
 */
export const checkTransport: Stage = async (ctx, deps) => {
  const { req, route } = ctx;
  if (route.kind === 'http') return;
  const { config } = deps;
  const headers = req.headersDistinct;
  checkOrigin(headers, config.mcpAllowedOrigins);
  if (route.kind === 'mcp-session') {
    protocolVersion(headers);
    return;
  }
  const call = ctx.call;
  const message = ctx.message;
  const body = (call?.body ?? message?.body) as Record<string, unknown>;
  checkMcpPost({
    headers,
    body,
    kind: call ? (call.rpcId === undefined ? 'notification' : 'request') : message!.kind,
    ...(call ? { mirrors: config.toolCatalog.mirrors(call.tool, ctx.agent!.id) } : {}),
  });
};
