import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { scan } from '../classify/scan.js';
import { toolRoutes } from '../server/tools.js';
import type { ToolHandler } from '../server/types.js';
import { ToolgateError, UnavailableError } from '../errors.js';
import { parseHttpCall, readRawBody } from '../extract/index.js';
import { decisionRefusal, errorRefusal, sendRefusal } from '../gateway/respond.js';
import { createVerifier } from '../identity/index.js';
import { IdentityError, type IdentityOptions, type VerifiedAgent } from '../identity/types.js';
import { buildInput, timeFacts } from '../input/index.js';
import { parseDecision, type PolicyInput } from '../policy/index.js';
import { sha256Hex } from '../audit/index.js';

/** Baseline 1: the demo tool routes alone, with the body parser toolgate otherwise stands in for. */
export function createBareApp(tools: Record<string, ToolHandler>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.use(toolRoutes(tools));
  return app;
}

export interface SidecarAppOptions {
  /** OPA's base URL, e.g. http://127.0.0.1:8181. */
  readonly opaUrl: string;
  readonly jwksFile: string;
  readonly environment: string;
  readonly timezone: string;
  readonly gatewayId: string;
  readonly tools: Record<string, ToolHandler>;
}

const BODY_LIMIT = 1024 * 1024;
const DECISION_PATH = '/v1/data/toolgate/decision';

/**
 * Baseline 2, the architecture toolgate replaces: the service verifies the agent and builds the same input
 * document as toolgate (same verifier, extractor, detectors and input builder), asks an OPA sidecar over REST,
 * and enforces the answer. Left out on purpose, so the baseline is the cheapest honest sidecar: audit records,
 * decision spans and metrics (OPA's decision logs are off). The bench request carries no attachments, so the
 * upload-store lookup toolgate does is an empty list here too.
 */
export async function createSidecarApp(options: SidecarAppOptions): Promise<{ app: Express; close(): Promise<void> }> {
  const verifier = await createVerifier({ jwksFiles: [options.jwksFile] } as IdentityOptions);
  const clock = timeFacts(options.timezone);
  // Keep-alive, as a sidecar client would be configured: a new TCP connection per decision would be a straw man.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const opa = new URL(DECISION_PATH, options.opaUrl);

  const decide = (input: PolicyInput): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify({ input }));
      const req = httpRequest(opa, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new UnavailableError('policy_unavailable', `OPA answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
          try {
            resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown }).result);
          } catch (cause) {
            reject(new UnavailableError('policy_unavailable', 'OPA answered with a body that is not JSON.', { cause }));
          }
        });
        res.on('error', reject);
      });
      req.on('error', (cause) => reject(new UnavailableError('policy_unavailable', `OPA is unreachable: ${cause.message}`, { cause })));
      req.end(body);
    });

  const enforce = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const decisionId = randomUUID();
    const tool = String(req.params.name);
    const path = (req.originalUrl || req.url).split('?')[0] ?? '/';
    try {
      const raw = await readRawBody(req, BODY_LIMIT);
      const call = parseHttpCall(tool, raw);
      const facts = { method: req.method, target: req.originalUrl || req.url, scheme: 'http' as const, authority: req.headers.host ?? '', headers: req.headers, rawBody: raw };
      let agentId: VerifiedAgent;
      try {
        agentId = await verifier.verify(facts);
      } catch (error) {
        const idError = error instanceof IdentityError ? error : new IdentityError('signature_invalid', 'The signature could not be verified.', { scheme: 'none' }, { cause: error });
        return sendRefusal(res, decisionId, errorRefusal(idError, decisionId), call);
      }
      const input = buildInput({
        facts,
        path,
        bodySha256: sha256Hex(raw),
        call,
        agent: agentId,
        time: clock(Date.now()),
        environment: options.environment,
        gatewayId: options.gatewayId,
        attachments: [],
        findings: scan(call.args, '/args'),
        approval: null,
        breakGlass: null,
      });
      const decision = parseDecision(await decide(input));
      if (decision.outcome !== 'allow') {
        return sendRefusal(res, decisionId, decisionRefusal(decision.outcome, decision.reasons, decisionId, 'opa-sidecar'), call);
      }
      res.setHeader('Toolgate-Decision-Id', decisionId);
      req.body = call.body;
      (req as { _body?: boolean })._body = true;
      next();
    } catch (error) {
      const coded = error instanceof ToolgateError ? error : new UnavailableError('internal_error', 'The sidecar app failed while deciding.', { cause: error });
      sendRefusal(res, decisionId, errorRefusal(coded, decisionId));
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.post('/tools/:name', (req, res, next) => {
    enforce(req, res, next).catch(next);
  });
  app.use(toolRoutes(options.tools));
  return {
    app,
    close: async () => {
      agent.destroy();
      await verifier.close?.();
    },
  };
}
