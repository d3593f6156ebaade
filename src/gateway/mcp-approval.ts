import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BadRequestError } from '../errors.js';
import { MIRRORING_VERSION } from './mcp-transport.js';
import { isObject } from '../object.js';

/**
 * Approvals through MCP 2026-07-28's multi-round-trip requests: a tools/call that needs a person is answered with an
 * `InputRequiredResult` whose one input request is a URL-mode elicitation pointing the user at the approval, and
 * whose `requestState` is sealed by the gateway. The client retries the same call with that state; the gateway
 * opens it and treats the call as presenting the approval. The state is AES-256-GCM under a gateway key: the client
 * can neither read nor forge it, and it binds the agent, the tool, the call's approval binding (arguments and tool
 * definition), the approval id and an expiry. Each state is accepted once.
 */

const STATE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('toolgate.mcp.requestState.v1');
/** A retry must come within this long of the answer that sealed the state (the approval's own expiry still applies). */
export const REQUEST_STATE_TTL_MS = 15 * 60_000;
export const CLIENT_CAPABILITIES_META = 'io.modelcontextprotocol/clientCapabilities';
export const APPROVAL_INPUT_KEY = 'toolgate.approval';

export interface SealedFacts {
  readonly agent: string;
  readonly tool: string;
  /** The approval binding of the call (agent, tool, arguments, tool definition). */
  readonly binding: string;
  readonly approval: string;
  /** Epoch ms after which the state is refused. */
  readonly exp: number;
  /** Random, so that each state is distinct and single use can be tracked. */
  readonly jti: string;
}

/**
 * Seals and opens request states under one 32-byte key, and remembers which were accepted until they expire, at
 * most `maxUsed` in all and `maxUsedPerAgent` for one agent: an agent re-sending its own pending round trips in a
 * loop runs into its own bound, not into another agent's retry.
 */
export class RequestStateSealer {
  readonly #key: Buffer;
  readonly #used = new Map<string, { readonly exp: number; readonly agent: string }>();
  readonly #usedBy = new Map<string, number>();
  readonly #maxUsed: number;
  readonly #maxUsedPerAgent: number;

  constructor(key: Buffer = randomBytes(32), maxUsed = 100_000, maxUsedPerAgent = 10_000) {
    if (key.length !== 32) throw new TypeError(`the MCP request-state key must be 32 bytes, got ${key.length}`);
    this.#key = key;
    this.#maxUsed = maxUsed;
    this.#maxUsedPerAgent = maxUsedPerAgent;
  }

  seal(facts: Omit<SealedFacts, 'jti'>): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const plain = Buffer.from(JSON.stringify({ v: STATE_VERSION, ...facts, jti: randomBytes(12).toString('base64url') }), 'utf8');
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /**
   * The facts of a state this gateway sealed for exactly this call, accepted once. Anything else — not ours,
   * altered, expired, replayed, or sealed for another agent, tool or set of arguments — is 400
   * `mcp_request_state_invalid`: the client starts over without it.
   */
  open(state: unknown, call: { agent: string; tool: string; binding: string }, nowMs: number): SealedFacts {
    const refuse = (why: string) => new BadRequestError('mcp_request_state_invalid', `params.requestState ${why}; retry the call without requestState to ask for a new approval.`);
    if (typeof state !== 'string' || state.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(state)) throw refuse('is not one this gateway issued');
    const bytes = Buffer.from(state, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) throw refuse('is not one this gateway issued');
    let facts: SealedFacts & { v?: unknown };
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
      facts = JSON.parse(plain.toString('utf8')) as SealedFacts & { v?: unknown };
    } catch {
      throw refuse('is not one this gateway issued (or was altered)');
    }
    if (facts.v !== STATE_VERSION) throw refuse('is of another version');
    if (!(nowMs < facts.exp)) throw refuse('has expired');
    if (facts.agent !== call.agent || facts.tool !== call.tool || facts.binding !== call.binding) throw refuse('was issued for another agent, tool or arguments');
    this.#forgetExpired(nowMs);
    if (this.#used.has(facts.jti)) throw refuse('was already used');
    const held = this.#usedBy.get(facts.agent) ?? 0;
    if (held >= this.#maxUsedPerAgent) {
      throw new BadRequestError('mcp_request_state_invalid', `Agent ${facts.agent} has ${held} approval round trips open, the most one agent may; each frees when its approval expires (at most 15 minutes). Retry with fewer open round trips.`);
    }
    if (this.#used.size >= this.#maxUsed) throw new BadRequestError('mcp_request_state_invalid', 'The gateway holds too many open approval round trips right now; each frees when its approval expires (at most 15 minutes). Retry the call then.');
    this.#used.set(facts.jti, { exp: facts.exp, agent: facts.agent });
    this.#usedBy.set(facts.agent, held + 1);
    return facts;
  }

  #forgetExpired(nowMs: number): void {
    // Insertion order is close to expiry order (one TTL for all): stop at the first live one.
    for (const [jti, { exp, agent }] of this.#used) {
      if (exp > nowMs) break;
      this.#used.delete(jti);
      const left = this.#usedBy.get(agent)! - 1;
      if (left === 0) this.#usedBy.delete(agent);
      else this.#usedBy.set(agent, left);
    }
  }
}

/** Whether a tools/call body comes from a 2026-07-28 client that declared URL-mode elicitation for this request. */
export function wantsInputRequired(body: unknown, version: string | undefined): boolean {
  if (version === undefined || version < MIRRORING_VERSION || !isObject(body) || !isObject(body.params)) return false;
  const meta = body.params._meta;
  const caps = isObject(meta) ? meta[CLIENT_CAPABILITIES_META] : undefined;
  return isObject(caps) && isObject(caps.elicitation) && isObject(caps.elicitation.url);
}

/** The `params.requestState` a retry carries, if any. */
export function requestStateOf(body: unknown): unknown {
  return isObject(body) && isObject(body.params) ? body.params.requestState : undefined;
}

/** The tools/call body as the service should get it: without our requestState and the answer to our input request. */
export function withoutApprovalRoundTrip(body: unknown): unknown {
  if (!isObject(body) || !isObject(body.params)) return body;
  const { requestState: _state, inputResponses, ...params } = body.params;
  const others = isObject(inputResponses) ? Object.fromEntries(Object.entries(inputResponses).filter(([k]) => k !== APPROVAL_INPUT_KEY)) : undefined;
  return { ...body, params: { ...params, ...(others && Object.keys(others).length > 0 ? { inputResponses: others } : {}) } };
}

/** The MRTR answer: send the user to the approval, retry with the sealed state. */
export function inputRequiredResult(url: string, approval: { id: string; expires_at: string }, state: string, decisionBody: Record<string, unknown>): Record<string, unknown> {
  return {
    resultType: 'input_required',
    inputRequests: {
      [APPROVAL_INPUT_KEY]: {
        method: 'elicitation/create',
        params: {
          mode: 'url',
          url,
          message: `This call needs a person's approval (${approval.id}, open until ${approval.expires_at}). Open the page, ask an approver to approve it, then continue.`,
        },
      },
    },
    requestState: state,
    // Not part of the spec's shape: clients that read structured data see why, as with every refusal.
    _meta: { 'toolgate/decision': decisionBody },
  };
}

/** Where an approver decides this approval: the console's pending approvals, under the gateway's public URL. */
export function approvalUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/console/#pending/${encodeURIComponent(id)}`;
}
