import express, { type Express, type Router } from 'express';
import type { Toolgate } from '../gateway/middleware.js';
import { mcpRouter } from './mcp-router.js';
import { toolsRouter } from './tools.js';
import type { ToolHandler } from './types.js';

/**
 * The gateway service (`toolgate serve` and the demo), mounted the way README tells service developers to: health
 * endpoints, toolgate as a global guard (it refuses other spellings of the protected routes), then the tool and MCP
 * routes wrapped by the gate, so they are reachable only through a decision. toolgate comes before any body parser so signatures and
 * Content-Digest are checked over the bytes the agent sent.
 */
export function createApp(gate: Toolgate, tools: Record<string, ToolHandler>, extra: readonly Router[] = []): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const r = gate.readiness();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'not_ready', ...r });
  });
  for (const router of extra) app.use(router);
  app.use(gate);
  app.use('/tools', gate.tools(toolsRouter(tools)));
  app.use('/mcp', gate.mcp(mcpRouter(tools)));
  // Errors that escape a route still answer in the contract's JSON, never an HTML page.
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    res.status(500).json({ error: 'internal', reason: 'internal_error', message: 'The service failed; nothing more is known here. Check the service logs.' });
  });
  return app;
}
