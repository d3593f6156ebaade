import { UnavailableError } from '../errors.js';
import type { Decision, LimitObligation, Outcome, Reason } from './types.js';
import { isObject } from '../object.js';

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['allow', 'deny', 'approval_required']);
const LIMIT_KINDS: ReadonlySet<string> = new Set(['rate', 'budget', 'cooldown']);
const AUDIT_LEVELS: ReadonlySet<string> = new Set(['standard', 'full', 'critical']);

const malformed = (what: string) =>
  new UnavailableError('policy_malformed_decision', `The policy returned a malformed decision (${what}); fix the policy so data.toolgate.decision matches the decision contract.`);

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Checks the policy's answer against the decision contract and fills defaults for optional obligations.
 * Anything unexpected fails closed: a policy bug must never become an allow.
 */
export function parseDecision(raw: unknown): Decision {
  if (!isObject(raw)) throw malformed('not an object');
  const outcome = raw.outcome;
  if (typeof outcome !== 'string' || !OUTCOMES.has(outcome)) throw malformed(`outcome ${JSON.stringify(outcome)}`);
  const reasons: Reason[] = [];
  for (const r of Array.isArray(raw.reasons) ? raw.reasons : raw.reasons === undefined ? [] : [null]) {
    if (!isObject(r) || typeof r.code !== 'string' || r.code === '') throw malformed('a reason without a code');
    reasons.push({ code: r.code, message: typeof r.message === 'string' ? r.message : r.code });
  }
  if (outcome !== 'allow' && reasons.length === 0) throw malformed(`${outcome} without reasons`);

  const ob = raw.obligations === undefined ? {} : raw.obligations;
  if (!isObject(ob)) throw malformed('obligations not an object');
  const limits: LimitObligation[] = [];
  for (const l of Array.isArray(ob.limits) ? ob.limits : ob.limits === undefined ? [] : [null]) {
    if (!isObject(l) || typeof l.key !== 'string' || typeof l.kind !== 'string' || !LIMIT_KINDS.has(l.kind)) throw malformed('a limit without key or kind');
    if (!isCount(l.window_s) || l.window_s <= 0 || !isCount(l.max)) throw malformed(`limit ${l.key} window/max`);
    const cost = l.cost === undefined ? 1 : l.cost;
    if (!isCount(cost)) throw malformed(`limit ${l.key} cost`);
    limits.push({ key: l.key, kind: l.kind as LimitObligation['kind'], window_s: l.window_s, max: l.max, cost });
  }
  const redactRaw = ob.redact === undefined ? {} : ob.redact;
  if (!isObject(redactRaw)) throw malformed('redact not an object');
  const request = redactRaw.request ?? [];
  const response = redactRaw.response ?? [];
  if (!isStringArray(request) || !isStringArray(response)) throw malformed('redact pointers');
  // The gateway can only change the arguments before the tool runs: a pointer elsewhere could not be honoured.
  const outside = request.find((p) => !isArgsPointer(p));
  if (outside !== undefined) throw malformed(`redact.request pointer ${JSON.stringify(outside.slice(0, 64))} is not /args or below it`);
  const auditRaw = isObject(ob.audit) ? ob.audit.level : undefined;
  const level = auditRaw === undefined ? 'standard' : auditRaw;
  if (typeof level !== 'string' || !AUDIT_LEVELS.has(level)) throw malformed('audit level');
  let approval: { ttl_s: number } | null = null;
  if (isObject(ob.approval)) {
    if (!isCount(ob.approval.ttl_s) || ob.approval.ttl_s <= 0) throw malformed('approval ttl_s');
    approval = { ttl_s: ob.approval.ttl_s };
  }
  return {
    outcome: outcome as Outcome,
    reasons,
    obligations: { limits, redact: { request, response }, audit: { level: level as Decision['obligations']['audit']['level'] }, approval },
  };
}

/** `/args` or a JSON Pointer below it: the only part of the input a request redaction can change. */
export function isArgsPointer(pointer: string): boolean {
  return pointer === '/args' || pointer.startsWith('/args/');
}
