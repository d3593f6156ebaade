import type { Response } from 'express';
import { BadRequestError } from '../../errors.js';
import { SESSION_HEADER, SESSION_ID } from '../mcp-sessions.js';
import { declaresUrlElicitation } from '../mcp-elicitation.js';
import { decisionRefusal } from '../respond.js';
import { filterToolsList } from './tool-list.js';
import type { Stage } from './context.js';

/**
 * MCP requests that are not tool calls. A session belongs to the agent that opened it: the id from anyone else,
 * or one the gateway never saw opened, is refused. GET (the session's stream), DELETE (its end) and the
 * configured JSON-RPC methods and the client's responses to the service's requests are let through signed, without a
 * policy decision; other methods are refused. A tools/list answer is filtered to the tools the agent may call.
 */
export const admitMcp: Stage = async (ctx, deps) => {
  const { req, res, route, decisionId } = ctx;
  const { config } = deps;
  if (route.kind === 'http') return;
  const agent = ctx.agent!;
  const revision = (ctx.engine ?? ctx.runtime?.engine)?.info.revision ?? '';
  const session = req.headers[SESSION_HEADER];
  if (session !== undefined) {
    if (typeof session !== 'string' || !SESSION_ID.test(session)) {
      throw new BadRequestError('mcp_session_invalid', 'Send one Mcp-Session-Id header of 1-256 visible ASCII characters, as the service issued it.');
    }
    const owner = await config.mcpSessions.owner(session, config.now());
    if (owner !== agent.id) {
      const reasons = [
        owner === null
          ? { code: 'mcp_session_unknown', message: 'This gateway does not know the MCP session (it ended, expired, or was opened elsewhere); start a new session with initialize.' }
          : { code: 'mcp_session_forbidden', message: 'The MCP session belongs to another agent; a session can only be used by the agent that opened it. Start your own session with initialize.' },
      ];
      const refusal = decisionRefusal('deny', reasons, decisionId, revision);
      return { kind: 'refuse', refusal: owner === null ? { ...refusal, status: 404 } : refusal, outcome: 'deny', reasons };
    }
  }
  const logError = (what: string) => (error?: unknown) => deps.logger.error(what, { decisionId, ...(error ? { error: String(error) } : {}) });
  // A client that can send its user to a URL says so when it opens the session (MCP 2025-11-25).
  const elicits = declaresUrlElicitation(ctx.message?.body);
  bindOpenedSession(res, session, (id) => {
    if (elicits) config.elicitations.declare(id, agent.id);
    Promise.resolve(config.mcpSessions.bind(id, agent.id, config.now()))
      .then((ok) => ok || logError('the MCP service issued a session id that another agent owns; not rebinding it')())
      .catch(logError('the owner of a new MCP session could not be recorded; the session will be refused'));
  });
  if (req.method === 'DELETE' && session !== undefined) {
    res.on('finish', () => {
      if (res.statusCode >= 200 && res.statusCode < 300) config.elicitations.end(session);
      if (res.statusCode >= 200 && res.statusCode < 300) Promise.resolve(config.mcpSessions.unbind(session)).catch(logError('an ended MCP session could not be forgotten; it expires on its own'));
    });
  }
  if (route.kind === 'mcp-session') {
    const reason = req.method === 'GET'
      ? { code: 'mcp_session_stream', message: 'A signed agent opens the server-to-client stream of its own MCP session.' }
      : { code: 'mcp_session_end', message: 'A signed agent ends its own MCP session.' };
    return { kind: 'pass', reason, body: undefined };
  }
  const message = ctx.message;
  if (!message) return; // tools/call: decided by the policy
  if (message.kind === 'response') {
    // The client answering the server's own request (ping, sampling, elicitation, roots): it asks for nothing.
    return { kind: 'pass', reason: { code: 'mcp_response', message: 'A signed agent\'s JSON-RPC response to a request of the service is passed to the service (no policy decision).' }, body: message.body };
  }
  if (!config.mcpMethods.has(message.method)) {
    // resources/read or prompts/get must not slip past the gateway unauthorized.
    const reasons = [{ code: 'mcp_method_not_allowed', message: `MCP method ${message.method.slice(0, 64)} is not let through this gateway; use tools/call (or ask the operator to allow the method).` }];
    return { kind: 'refuse', refusal: decisionRefusal('deny', reasons, decisionId, revision), outcome: 'deny', reasons };
  }
  const filtered = message.kind === 'request' && message.method === 'tools/list' && filterToolsList(ctx, deps);
  const how = filtered ? 'no policy decision; the answer lists only the tools toolgate/visible shows this agent' : 'no policy decision';
  return { kind: 'pass', reason: { code: 'mcp_passthrough', message: `MCP method ${message.method.slice(0, 64)} is let through to the service for a signed agent (${how}).` }, body: message.body };
};

/**
 * Calls `bind` with the session id the service sets on this response (a new one, not the one the request
 * carried), just before the head goes out: the owner is known before the client can use the id.
 */
function bindOpenedSession(res: Response, requested: string | undefined, bind: (sessionId: string) => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    // writeHead(status, headers) may carry the header in its arguments instead of setHeader.
    const inline = args.find((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && !Array.isArray(a));
    const fromArgs = inline ? Object.entries(inline).find(([k]) => k.toLowerCase() === SESSION_HEADER)?.[1] : undefined;
    const issued = fromArgs ?? this.getHeader(SESSION_HEADER);
    if (typeof issued === 'string' && issued !== requested && SESSION_ID.test(issued)) bind(issued);
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
}
