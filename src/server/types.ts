import type { Request } from 'express';

/** A tool: takes the (already authorized) arguments, returns a JSON result or throws. */
export type ToolHandler = (args: Record<string, unknown>, req: Request) => unknown;
