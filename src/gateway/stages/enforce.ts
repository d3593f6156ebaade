import { context, trace } from '@opentelemetry/api';
import type { NextFunction, Request } from 'express';
import { completionEvent, nanoTimestamp } from '../../audit/index.js';
import * as A from '../../telemetry/attributes.js';
import { failSpan, startExecuteSpan } from '../../telemetry/decision-span.js';
import { applyRequestRedaction, redactResponse } from '../redaction.js';
import { DECISION_ID_HEADER } from '../respond.js';
import { finish, setBody } from './outcome.js';
import type { CallContext, GatewayDeps } from './context.js';

/**
 * The completion status of a call whose client closed the connection before the tool's answer was written (the
 * status nginx logs for it): the tool was called and its outcome is unknown to the gateway.
 */
export const CLIENT_CLOSED = 499;

/**
 * Hands an allowed, recorded call to the tool route under an execution span. From here the call owns what it
 * acquired: the limits are settled when the tool answered (released only when it answered 5xx) or the client
 * left, and a completion event follows the decision event in the chain.
 */
export function enforce(ctx: CallContext, deps: GatewayDeps, admit: (req: Request) => void, next: NextFunction): void {
  const { req, res, decisionId, parent, span, runtime } = ctx;
  const { config } = deps;
  const call = ctx.call!;
  const decision = ctx.decision!;
  const agent = ctx.agent!;
  ctx.acquired.keep();
  finish(ctx, deps, 'allow', decision.reasons);
  const execSpan = startExecuteSpan(call.tool, trace.setSpan(parent, span), {
    [A.ATTR_GEN_AI_TOOL_NAME]: call.tool,
    [A.ATTR_DECISION_ID]: decisionId,
    [A.ATTR_GEN_AI_AGENT_ID]: agent.id,
  });
  res.setHeader(DECISION_ID_HEADER, decisionId);
  // Redaction obligations: the tool sees the arguments with PII and secrets removed at the policy's pointers,
  // and the caller sees the response with them removed; what was removed is recorded (never the values).
  const redacted = applyRequestRedaction(call, decision.obligations.redact.request);
  if (decision.obligations.redact.response.length) redactResponse(res, decision.obligations.redact.response, redacted);
  if (redacted.length) execSpan.addEvent('toolgate.redacted', { 'toolgate.redacted.pointers': redacted.map((r) => r.pointer) });
  req.toolgate = { decisionId, call, decision, agent, input: ctx.input! };
  admit(req);
  setBody(req, call.body);

  const execStarted = performance.now();
  const decided = ctx.recorded;
  const reservation = ctx.reservation;
  let ended = false;
  // Once, when the tool answered or the client left: the limits are settled (given back only for a tool's 5xx), the
  // execution span ends and the completion event is recorded.
  const end = (status: number) => {
    if (ended) return;
    ended = true;
    const failed = status >= 500;
    if (reservation) {
      const done = failed ? config.limits.release(reservation) : config.limits.settle(reservation);
      done.catch((error: unknown) => deps.logger.error('limit reservation not settled', { decisionId, error: String(error) }));
    }
    execSpan.setAttribute('http.response.status_code', status);
    if (status === CLIENT_CLOSED) execSpan.addEvent('toolgate.client_closed');
    if (failed) failSpan(execSpan, new Error(`tool answered ${status}`));
    execSpan.end();
    if (decided && runtime) {
      runtime.audit
        .record(completionEvent(decided, status, redacted, nanoTimestamp(config.now(), process.hrtime.bigint()), Math.round(performance.now() - execStarted)), { later: true })
        .catch((error: unknown) => deps.logger.error('completion event not recorded', { decisionId, error: String(error) }));
    }
  };
  res.on('finish', () => end(res.statusCode));
  // The client left before the answer was written: the tool was called and may have acted (or still be acting), so
  // the call keeps its quota and is recorded as ended by the client. Giving the quota back here let a client that
  // hangs up on every call run past its limits.
  res.on('close', () => {
    if (!res.writableFinished) end(CLIENT_CLOSED);
  });
  context.with(trace.setSpan(parent, execSpan), () => next());
}
