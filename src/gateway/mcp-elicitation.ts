import { isObject } from '../object.js';
import { OwnedBoundedMap } from './bounded-map.js';

/**
 * Approvals through MCP 2025-11-25 URL-mode elicitation. A client declares `capabilities.elicitation.url` when it
 * opens its session (initialize); a tools/call of that session that needs a person is then answered with the
 * spec's `URLElicitationRequiredError` (-32042) whose one elicitation points the user at the approval. The client
 * retries the same call without anything new in it, so the gateway remembers, per session and exact call (the
 * approval binding), which approval it sent the user to, and presents it on the retry. Both maps are in this
 * process and bounded, in all and per agent (an agent filling them pushes out only its own entries); a session
 * that reaches another instance, or whose entry went, gets the readable tool result instead.
 */

export const URL_ELICITATION_REQUIRED = -32042;
/** The revision that brought URL-mode elicitation. */
export const URL_ELICITATION_VERSION = '2025-11-25';

/** Whether an initialize request declares URL-mode elicitation. */
export function declaresUrlElicitation(body: unknown): boolean {
  if (!isObject(body) || body.method !== 'initialize' || !isObject(body.params)) return false;
  const caps = body.params.capabilities;
  return isObject(caps) && isObject(caps.elicitation) && isObject(caps.elicitation.url);
}

export class ElicitationSessions {
  readonly #capable: OwnedBoundedMap<true>;
  readonly #pending: OwnedBoundedMap<string>;

  constructor(maxSessions = 100_000, maxPending = 100_000, maxPerAgent = 10_000) {
    this.#capable = new OwnedBoundedMap(maxSessions, maxPerAgent);
    this.#pending = new OwnedBoundedMap(maxPending, maxPerAgent);
  }

  /** The service opened `session`, for `agent`, whose client declared URL-mode elicitation. */
  declare(session: string, agent: string): void {
    this.#capable.set(session, agent, true);
  }

  capable(session: string | undefined): session is string {
    return session !== undefined && this.#capable.get(session) === true;
  }

  /** The user of `agent`'s `session` was sent to approval `id` for the call with this binding. */
  remember(session: string, agent: string, binding: string, id: string): void {
    this.#pending.set(`${session}\n${binding}`, agent, id);
  }

  pendingFor(session: string, binding: string): string | undefined {
    return this.#pending.get(`${session}\n${binding}`);
  }

  forgetCall(session: string, binding: string): void {
    this.#pending.delete(`${session}\n${binding}`);
  }

  /** The session ended: its capability goes (its pending calls age out with the bound). */
  end(session: string): void {
    this.#capable.delete(session);
  }
}

/** The -32042 error: the user approves at `url`, then the client retries the call as it was. */
export function urlElicitationError(url: string, approval: { id: string; expires_at: string }, decisionBody: Record<string, unknown>): { code: number; message: string; data: Record<string, unknown> } {
  const message = `This call needs a person's approval (${approval.id}, open until ${approval.expires_at}). Open the page, ask an approver to approve it, then retry the call.`;
  return {
    code: URL_ELICITATION_REQUIRED,
    message,
    data: { ...decisionBody, elicitations: [{ mode: 'url', elicitationId: approval.id, url, message }] },
  };
}
