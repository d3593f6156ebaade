import type { Request } from 'express';

/**
 * How the MCP endpoint lists a tool (tools/list): what the model reads and the annotations (hints such as
 * `destructiveHint`) the gateway hands to the policy.
 */
export interface ToolDescription {
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Partial<Record<'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint', boolean>>>;
}

/** A tool: takes the (already authorized) arguments, returns a JSON result or throws; optionally described for MCP. */
export type ToolHandler = ((args: Record<string, unknown>, req: Request) => unknown) & { readonly description?: ToolDescription };

/** `handler`, listed over MCP with `description`. */
export function describedTool(handler: (args: Record<string, unknown>, req: Request) => unknown, description: ToolDescription): ToolHandler {
  return Object.assign(handler, { description });
}
