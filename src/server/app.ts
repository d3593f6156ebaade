import express, { type Express, type Router } from 'express';
import type { Toolgate } from '../gateway/middleware.js';
import { mcpRouter } from './mcp-router.js';
import { toolsRouter } from './tools.js';
import type { Logger } from '../logger.js';
import type { ToolHandler } from './types.js';

/**
 * The gateway service (`toolgate serve` and the demo), mounted the way README tells service developers to: health
 * endpoints, toolgate as a global guard (it refuses other spellings of the protected routes), then the tool and MCP
 * routes wrapped by the gate, so they are reachable only through a decision. toolgate comes before any body parser so signatures and
 * Content-Digest are checked over the bytes the agent sent.
 */
export function createApp(gate: Toolgate, tools: Record<string, ToolHandler>, extra: readonly Router[] = [], logger: Logger = console): Express {
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
  // Errors that escape a route still answer in the contract's JSON, never an HTML page. A client's error that Express
  // or a parser raised (a target that does not percent-decode, say) keeps its 4xx; anything else is 500, logged.
  app.use((error: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    const status = clientErrorStatus(error);
    if (status !== undefined) {
      res.status(status).json({ error: 'bad_request', reason: 'request_malformed', message: `${req.method} ${req.path.slice(0, 100)} could not be read (${(error as Error).message.slice(0, 200)}); fix the request: percent-encode the target as RFC 3986 says.` });
      return;
    }
    logger.error('a route failed', { method: req.method, path: req.path.slice(0, 200), error: error instanceof Error ? error.stack ?? error.message : String(error) });
    res.status(500).json({ error: 'internal', reason: 'internal_error', message: 'The service failed; nothing more is known here. Check the service logs.' });
  });
  return app;
}

/** The 4xx status an error from Express or one of its parsers carries (http-errors: `status`, `expose`), if any. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 ? code : undefined;
}
