import type { Request, Response } from 'express';
import { readRawBody, requestFacts } from '../extract/body.js';
import { IdentityError, type VerifiedAgent, type Verifier } from '../identity/types.js';
import { ToolgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { fail } from './respond.js';

/** `signed`: any registered key (sign-in tells people what their key may do). */
export type Role = 'approver' | 'viewer' | 'signed';

export interface Guard {
  readonly verifier: Verifier;
  readonly roles: Readonly<Record<Role, (agent: VerifiedAgent) => boolean>>;
  readonly logger: Logger | undefined;
}

export type SignedHandler = (req: Request, res: Response, agent: VerifiedAgent) => Promise<void> | void;

// GETs only: a console API request carries no body worth more than this.
const BODY_LIMIT = 1024;

/**
 * Verifies a console API request exactly as the Approvals API does (RFC 9421 over the raw request, a registered key,
 * the verifier's replay and freshness rules), then the role, then runs `handler`. Unsigned or badly signed calls get
 * the identity stage's 401 reason codes.
 */
export function signed(guard: Guard, role: Role, handler: SignedHandler): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    try {
      const raw = await readRawBody(req, BODY_LIMIT);
      let agent: VerifiedAgent;
      try {
        agent = await guard.verifier.verify(requestFacts(req, raw));
      } catch (error) {
        if (error instanceof ToolgateError && !(error instanceof IdentityError)) throw error;
        const e = error instanceof IdentityError ? error : new IdentityError('signature_invalid', 'The signature could not be verified; sign the request again with a registered key.');
        return fail(res, 401, 'unauthenticated', e.reason, e.message);
      }
      if (!allowed(guard, role, agent)) {
        return role === 'approver'
          ? fail(res, 403, 'forbidden', 'not_an_approver', `Agent "${agent.id}" is not an approver: sign in with an approver's key (by default one whose registry entry has labels.role = "approver").`)
          : fail(res, 403, 'forbidden', 'not_a_console_viewer', `Agent "${agent.id}" may not read the console: register the key with labels.role = "approver" or "auditor".`);
      }
      await handler(req, res, agent);
    } catch (error) {
      if (res.headersSent) return;
      if (error instanceof ToolgateError) {
        const status = error.kind === 'bad_request' ? (error.reason === 'body_too_large' ? 413 : 400) : error.kind === 'unauthenticated' ? 401 : 503;
        return fail(res, status, error.kind === 'config' ? 'unavailable' : error.kind, error.reason, error.message);
      }
      guard.logger?.error('console API request failed', { error: error instanceof Error ? error.message : String(error) });
      fail(res, 503, 'unavailable', 'console_error', 'The console failed on this request; retry, and check the gateway logs if it persists.');
    }
  };
}

function allowed(guard: Guard, role: Role, agent: VerifiedAgent): boolean {
  try {
    return guard.roles[role](agent) === true;
  } catch (error) {
    guard.logger?.warn(`console ${role} hook threw; refusing the agent`, { agent: agent.id, error: error instanceof Error ? error.message : String(error) });
    return false;
  }
}
