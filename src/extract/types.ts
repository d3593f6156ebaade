import type { ToolProtocol } from '../policy/types.js';

/** A tool call as the agent asked for it, before any decision. */
export interface ToolCall {
  readonly tool: string;
  readonly protocol: ToolProtocol;
  readonly args: Record<string, unknown>;
  /** JSON-RPC id for MCP calls (echoed in the error response), undefined for plain HTTP. */
  readonly rpcId?: string | number | null;
  /** The parsed JSON body, handed to the tool route as `req.body`. */
  readonly body: unknown;
}

/**
 * An MCP JSON-RPC message that is not a tool call: a request (initialize, tools/list...), a notification, or the
 * client's response to a request of the server (ping, sampling, elicitation, roots).
 */
export interface McpMessage {
  readonly kind: 'request' | 'notification' | 'response';
  /** The method; a response has none and is labelled `(response)`. */
  readonly method: string;
  readonly rpcId?: string | number | null;
  readonly body: unknown;
}
