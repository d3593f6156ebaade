import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
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
import { ChainSigner, COMPLETION_DEFER_MS, FileSink, GroupCommit, sha256Hex, type AuditEvent } from '../audit/index.js';
import { sampleDecisionEvent } from './crypto.js';
import { opaClient } from './opa-client.js';

/** Baseline 1: the demo tool routes alone, with the body parser toolgate otherwise stands in for. */
export function createBareApp(tools: Record<string, ToolHandler>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(toolRoutes(tools));
  return app;
}

/**
 * Baseline 2, the durable write alone: bare Express that, before each tool call, makes a decision event's line
 * durable through the gateway's own audit file (FileSink: group commit, O_DSYNC appends, in
 * `<stateDir>/audit.jsonl`), and appends a completion-sized line after the answer, as the pipeline does: behind
 * the same group commit as the audit stage (AuditLog), the completion waiting up to COMPLETION_DEFER_MS for the next
 * decision's write to carry it. No
 * signature, policy or serialisation work (the event and its line are made once): its latency over bare Express is
 * what the disk adds to any gateway that records a decision before it executes, the floor of the pipeline's.
 */
export async function createDurableApp(tools: Record<string, ToolHandler>, stateDir: string): Promise<{ app: Express; close(): Promise<void> }> {
  const sink = new FileSink(join(stateDir, 'audit.jsonl'));
  await sink.open();
  const signer = new ChainSigner(generateKeyPairSync('ed25519').privateKey, 'bench-durable');
  // The same event object every time: its line is remembered when it is chained, so each call costs only the write.
  const event = signer.link(sampleDecisionEvent('bench-durable'));
  const commit = new GroupCommit<AuditEvent>((batch) => sink.write(batch));
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use('/tools', (_req: Request, res: Response, next: NextFunction) => {
    commit.push([event]).then(() => {
      res.once('finish', () => void commit.push([event], COMPLETION_DEFER_MS).catch(() => undefined));
      next();
    }, next);
  });
  app.use(toolRoutes(tools));
  return {
    app,
    close: async () => {
      await commit.flush();
      await sink.close();
    },
  };
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

/**
 * The cheapest sidecar, the architecture toolgate replaces: the service verifies the agent and builds the same input
 * document as toolgate (same verifier, extractor, detectors and input builder), asks an OPA sidecar over REST,
 * and enforces the answer. Left out on purpose, so the baseline is the cheapest honest sidecar: audit records,
 * decision spans and metrics (OPA's decision logs are off). The bench request carries no attachments, so the
 * upload-store lookup toolgate does is an empty list here too.
 */
export async function createSidecarApp(options: SidecarAppOptions): Promise<{ app: Express; close(): Promise<void> }> {
  const verifier = await createVerifier({ jwksFiles: [options.jwksFile] } as IdentityOptions);
  const clock = timeFacts(options.timezone);
  const opa = opaClient(options.opaUrl);
  const decide = (input: PolicyInput) => opa.decide(input);

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
      opa.close();
      await verifier.close?.();
    },
  };
}
