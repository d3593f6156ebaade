import express, { type Request, type Response, type Router } from 'express';
import { mcpRouter } from './mcp-router.js';
import type { ToolHandler } from './types.js';

/**
 * The tool routes, unprotected on their own: mount them only through the gate, as createApp does with
 * `app.use('/tools', gate.tools(toolsRouter(tools)))` and `app.use('/mcp', gate.mcp(mcpRouter(tools)))`.
 */
export function toolRoutes(tools: Record<string, ToolHandler>): Router {
  const router = express.Router();
  router.use('/tools', toolsRouter(tools));
  router.use('/mcp', mcpRouter(tools));
  return router;
}

/** `POST /{name}` relative to where it is mounted: runs the tool on the (already authorized) arguments. */
export function toolsRouter(tools: Record<string, ToolHandler>): Router {
  const router = express.Router();
  router.post('/:name', async (req: Request, res: Response) => {
    // Own properties only: a tool named "constructor" or "__proto__" is not a tool.
    const name = String(req.params.name);
    const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
    if (!tool) {
      res.status(404).json({ error: 'not_found', reason: 'tool_unknown', message: `No tool named ${name} here.` });
      return;
    }
    try {
      res.json(await tool((req.body ?? {}) as Record<string, unknown>, req));
    } catch (error) {
      res.status(500).json({ error: 'tool_failed', message: error instanceof Error ? error.message : String(error) });
    }
  });
  return router;
}
