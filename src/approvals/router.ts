import { Router, type Request, type Response } from 'express';
import { BadRequestError, ConfigError, ToolgateError } from '../errors.js';
import { readRawBody, requestFacts } from '../extract/body.js';
import type { Logger } from '../logger.js';
import { IdentityError, type VerifiedAgent, type Verifier } from '../identity/types.js';
import { isApprovalId, withEffectiveStatus } from './record.js';
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus, type ApprovalStore, type DecideRefusal, type DecideVerdict } from './types.js';

export interface ApprovalsRouterOptions {
  readonly store: ApprovalStore;
  /** The gateway's verifier: every Approvals API request must be signed by a registered key. */
  readonly verifier: Verifier;
  /** Who may list and decide approvals. Default: `agent.labels.role === 'approver'`. A throwing hook means "no". */
  readonly isApprover?: (agent: VerifiedAgent) => boolean;
  /**
   * Called after every approve/deny that changed an approval (e.g. to write it to the audit log). Awaited before
   * the response; its failure is logged, never turned into an error (the decision is already stored).
   */
  readonly onDecision?: (record: ApprovalRecord, approver: VerifiedAgent) => void | Promise<void>;
  /** Longest request body (only `{"comment": …}` is expected). Default 16_384 bytes. */
  readonly bodyLimit?: number;
  /** Longest comment kept. Default 2000 characters. */
  readonly maxCommentChars?: number;
  /** Default 100 (at most 1000) records per list. */
  readonly defaultLimit?: number;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

const KNOWN = ['store', 'verifier', 'isApprover', 'onDecision', 'bodyLimit', 'maxCommentChars', 'defaultLimit', 'now', 'logger'];

interface Config {
  readonly store: ApprovalStore;
  readonly verifier: Verifier;
  readonly isApprover: (agent: VerifiedAgent) => boolean;
  readonly onDecision: ((record: ApprovalRecord, approver: VerifiedAgent) => void | Promise<void>) | undefined;
  readonly bodyLimit: number;
  readonly maxCommentChars: number;
  readonly defaultLimit: number;
  readonly now: () => number;
  readonly logger: Logger | undefined;
}

interface Approver {
  readonly agent: VerifiedAgent;
  readonly raw: Buffer;
}

type Handler = (req: Request, res: Response, approver: Approver) => Promise<void>;

/**
 * The Approvals API (DESIGN.md): `GET /approvals[?status=&limit=]`, `GET /approvals/:id`,
 * `POST /approvals/:id/approve`, `POST /approvals/:id/deny` (optional body `{"comment": "…"}`).
 * Mount it before any body parser: it verifies each request's signature over the raw bytes.
 */
export function approvalsRouter(options: Readonly<ApprovalsRouterOptions>): Router {
  const config = resolve(options);
  const router = Router();
  router.get('/approvals', guarded(config, async (req, res) => {
    const status = req.query.status ?? 'pending';
    if (typeof status !== 'string' || !APPROVAL_STATUSES.includes(status as ApprovalStatus)) {
      return fail(res, 400, 'bad_request', 'bad_status', `status must be one of ${APPROVAL_STATUSES.join(', ')}.`);
    }
    const limitText = req.query.limit;
    const limit = limitText === undefined ? config.defaultLimit : typeof limitText === 'string' && /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= 1000)) return fail(res, 400, 'bad_request', 'bad_limit', 'limit must be a whole number from 1 to 1000.');
    const nowMs = config.now();
    const records = await config.store.list({ status: status as ApprovalStatus, limit, nowMs });
    send(res, 200, { approvals: records.map((r) => withEffectiveStatus(r, nowMs)), count: records.length });
  }));
  router.get('/approvals/:id', guarded(config, async (req, res) => {
    const id = String(req.params.id);
    const record = isApprovalId(id) ? await config.store.get(id) : null;
    if (record === null) return refuse(res, 'approval_unknown', id, null);
    send(res, 200, { approval: withEffectiveStatus(record, config.now()) });
  }));
  for (const verdict of ['approve', 'deny'] as const) {
    router.post(`/approvals/:id/${verdict}`, guarded(config, (req, res, approver) => decide(config, verdict, req, res, approver)));
  }
  return router;
}

async function decide(config: Config, verdict: DecideVerdict, req: Request, res: Response, { agent, raw }: Approver): Promise<void> {
  const id = String(req.params.id);
  const comment = parseComment(raw, config.maxCommentChars);
  if (typeof comment === 'object') return fail(res, 400, 'bad_request', comment.reason, comment.message);
  if (!isApprovalId(id)) return refuse(res, 'approval_unknown', id, null);
  const result = await config.store.decide(id, agent.id, verdict, config.now(), comment);
  if (!result.ok) return refuse(res, result.reason, id, result.record);
  await runHook(config, result.record, agent);
  send(res, 200, { approval: result.record });
}

/** Reads the raw body, verifies the signature and the approver role, then runs `handler`; one place for errors. */
function guarded(config: Config, handler: Handler): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    try {
      // body-parser 2 no longer marks req._body, so readRawBody cannot tell a consumed stream from an empty body.
      if (!Buffer.isBuffer((req as { rawBody?: unknown }).rawBody) && req.readableEnded) {
        throw new BadRequestError('body_already_parsed', 'A body parser consumed the request before the Approvals API: mount approvalsRouter() before express.json(), or keep the raw bytes in req.rawBody.');
      }
      const raw = await readRawBody(req, config.bodyLimit);
      const facts = requestFacts(req, raw);
      let agent: VerifiedAgent;
      try {
        agent = await config.verifier.verify(facts);
      } catch (error) {
        if (error instanceof ToolgateError && !(error instanceof IdentityError)) throw error;
        const idError = error instanceof IdentityError ? error : new IdentityError('signature_invalid', 'The signature could not be verified; sign the request again with a registered key.');
        return fail(res, 401, 'unauthenticated', idError.reason, idError.message);
      }
      if (!safeIsApprover(config, agent)) {
        return fail(res, 403, 'forbidden', 'not_an_approver', `Agent "${agent.id}" is not an approver: sign with an approver's key (by default one whose registry entry has labels.role = "approver").`);
      }
      await handler(req, res, { agent, raw });
    } catch (error) {
      if (error instanceof ToolgateError) {
        const status = error.kind === 'bad_request' ? (error.reason === 'body_too_large' ? 413 : 400) : error.kind === 'unauthenticated' ? 401 : 503;
        const label = error.kind === 'config' ? 'unavailable' : error.kind;
        return fail(res, status, label, error.reason, error.message);
      }
      config.logger?.error('approvals API request failed', { error: error instanceof Error ? error.message : String(error) });
      fail(res, 503, 'unavailable', 'approvals_error', 'The approvals service failed on this request; nothing was changed unless a retry shows otherwise. Retry, and check the gateway logs if it persists.');
    }
  };
}

const REFUSALS: Record<DecideRefusal, { status: number; error: string; message: (id: string, record: ApprovalRecord | null) => string }> = {
  approval_unknown: { status: 404, error: 'not_found', message: (id) => `No approval "${id.slice(0, 128)}" exists (or it expired and was purged); check the id from the 202 response.` },
  approver_is_requester: { status: 403, error: 'forbidden', message: (id) => `Approval ${id} was requested by the agent you signed as; an agent can never decide its own request: ask another approver.` },
  approval_not_pending: {
    status: 409,
    error: 'conflict',
    message: (id, r) => `Approval ${id} is already ${r?.status ?? 'decided'}${r?.decided_by ? ` (by ${r.decided_by})` : ''}; an approval is decided once. The agent must ask for a new one.`,
  },
  approval_expired: { status: 409, error: 'conflict', message: (id, r) => `Approval ${id} expired at ${r?.expires_at ?? 'its deadline'}; the agent must retry its call to ask for a new one.` },
};

function refuse(res: Response, reason: DecideRefusal, id: string, record: ApprovalRecord | null): void {
  const r = REFUSALS[reason];
  fail(res, r.status, r.error, reason, r.message(id, record), record ? { status: record.status } : {});
}

function parseComment(raw: Buffer, max: number): string | undefined | { reason: string; message: string } {
  if (raw.length === 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { reason: 'bad_json', message: 'The body must be JSON, e.g. {"comment":"checked with the customer"}, or empty.' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { reason: 'bad_body', message: 'The body must be a JSON object: {"comment":"…"}.' };
  const unknown = Object.keys(body).find((k) => k !== 'comment');
  if (unknown !== undefined) return { reason: 'bad_body', message: `Unknown member "${unknown.slice(0, 40)}": the body takes only "comment".` };
  const comment = (body as { comment?: unknown }).comment;
  if (comment === undefined) return undefined;
  if (typeof comment !== 'string' || comment.length > max) return { reason: 'bad_comment', message: `comment must be a string of at most ${max} characters.` };
  return comment;
}

function safeIsApprover(config: Config, agent: VerifiedAgent): boolean {
  try {
    return config.isApprover(agent) === true;
  } catch (error) {
    config.logger?.warn('isApprover hook threw; treating the agent as not an approver', { agent: agent.id, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}

async function runHook(config: Config, record: ApprovalRecord, agent: VerifiedAgent): Promise<void> {
  if (!config.onDecision) return;
  try {
    await config.onDecision(record, agent);
  } catch (error) {
    config.logger?.error('onDecision hook failed; the approval decision stands', { approval: record.id, error: error instanceof Error ? error.message : String(error) });
  }
}

function send(res: Response, status: number, body: unknown): void {
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json(body);
}

function fail(res: Response, status: number, error: string, reason: string, message: string, extra: Record<string, unknown> = {}): void {
  send(res, status, { error, reason, message, ...extra });
}

function resolve(options: Readonly<ApprovalsRouterOptions>): Config {
  const where = 'approvalsRouter()';
  if (options === null || typeof options !== 'object') throw new ConfigError('approvals_option_invalid', `${where} needs an options object: { store, verifier }.`);
  const unknown = Object.keys(options).find((k) => !KNOWN.includes(k));
  if (unknown !== undefined) throw new ConfigError('approvals_option_unknown', `${where}: unknown option "${unknown}"; known options: ${KNOWN.join(', ')}.`);
  if (typeof options.store?.decide !== 'function') throw new ConfigError('approvals_option_invalid', `${where}: store must be an ApprovalStore (e.g. await createApprovalStore()).`);
  if (typeof options.verifier?.verify !== 'function') throw new ConfigError('approvals_option_invalid', `${where}: verifier must be the gateway's Verifier (createVerifier()).`);
  for (const name of ['isApprover', 'onDecision', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new ConfigError('approvals_option_invalid', `${where}: ${name} must be a function.`);
  }
  return {
    store: options.store,
    verifier: options.verifier,
    isApprover: options.isApprover ?? ((agent) => agent.labels.role === 'approver'),
    onDecision: options.onDecision,
    bodyLimit: count(where, 'bodyLimit', options.bodyLimit, 16_384),
    maxCommentChars: count(where, 'maxCommentChars', options.maxCommentChars, 2000),
    defaultLimit: Math.min(count(where, 'defaultLimit', options.defaultLimit, 100), 1000),
    now: options.now ?? Date.now,
    logger: options.logger,
  };
}

function count(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ConfigError('approvals_option_invalid', `${where}: ${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}
