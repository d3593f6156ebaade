import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BadRequestError, ToolgateError, UnavailableError } from '../errors.js';
import { isMcpMessage, readRawBody, parseHttpCall, parseMcpCall, requireJsonMediaType, type ToolCall } from '../extract/index.js';
import { classifyRoute, type Route } from './routes.js';
import { SESSION_HEADER, SESSION_ID } from './mcp-sessions.js';
import { IdentityError, type RequestFacts, type VerifiedAgent } from '../identity/types.js';
import { buildInput, timeFacts } from '../input/index.js';
import { scan } from '../classify/scan.js';
import { bundleTimezone, loadBundle, PolicyEngine, type Decision, type PolicyInput, type Reason, type TimeFacts } from '../policy/index.js';
import { AuditLog, SpoolSink, approvalEvent, completionEvent, decisionEvent, nanoTimestamp, sha256Hex, type AuditOutcome, type TornTail, type UnchainedEvent } from '../audit/index.js';
import * as A from '../telemetry/attributes.js';
import { failSpan, parentContext, startDecisionSpan, startExecuteSpan } from '../telemetry/decision-span.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { limitReason } from '../limits/reasons.js';
import { resolveAttachments } from '../uploads/resolve.js';
import { applyRequestRedaction, redactResponse } from './redaction.js';
import { APPROVAL_HEADER, approvalBinding, lookupApproval, newApprovalRecord, type ApprovalRecord } from '../approvals/index.js';
import { BREAK_GLASS_HEADER } from '../breakglass/index.js';
import { mask } from '../classify/mask.js';
import { checkTimezone, resolveOptions, type ToolgateOptions } from './options.js';
import { DECISION_ID_HEADER, decisionRefusal, errorRefusal, sendRefusal, type Refusal } from './respond.js';

/** What the tool route sees on `req.toolgate` after an allow. */
export interface ToolgateContext {
  readonly decisionId: string;
  readonly call: ToolCall;
  readonly decision: Decision;
  readonly agent: VerifiedAgent;
  readonly input: PolicyInput;
}

declare module 'express-serve-static-core' {
  interface Request {
    toolgate?: ToolgateContext;
  }
}

export interface Toolgate extends RequestHandler {
  /**
   * Wraps the tool routes so they are reachable only through the gate: mount it where the tools live,
   * `app.use('/tools', gate.tools(router))`. Every request that reaches `handler` is a `POST {toolsPath}/{tool}`
   * spelled exactly so, signed, allowed by the policy and durably recorded; anything else Express routes there
   * (another spelling, method or prefix) is refused and audited.
   */
  tools(handler: RequestHandler): RequestHandler;
  /**
   * Wraps the MCP endpoint the same way, for every method: `app.use('/mcp', gate.mcp(handler))`. POST carries
   * JSON-RPC (tools/call decided by the policy, other configured methods let through signed); GET (the session's
   * stream) and DELETE (end of session) must be signed by the agent that opened the session.
   */
  mcp(handler: RequestHandler): RequestHandler;
  /** Resolves when the policy is loaded and the audit path is open; rejects with the start-up error. */
  ready(): Promise<void>;
  /** Readiness for /readyz: policy loaded and audit path writable. */
  readiness(): { ready: boolean; policy: string | null; audit: { sink: string; healthy: boolean; recovered: readonly TornTail[] } | null; error?: string };
  /** The loaded policy's revision (after ready). */
  readonly policyRevision: string | null;
  /** Records a human's verdict on an approval in the audit chain (pass as approvalsRouter's onDecision). */
  recordApproval(record: ApprovalRecord, approver: VerifiedAgent): Promise<void>;
  close(): Promise<void>;
}

interface Runtime {
  readonly engine: PolicyEngine;
  readonly audit: AuditLog;
}

/**
 * The toolgate middleware: mount it before body parsers and the tool routes. For `POST /tools/{tool}` and MCP
 * `tools/call` it runs the request path once — extract, identify, build input, decide, record, enforce — and
 * calls the next handler only for an allowed call whose decision is durably recorded. Other requests pass through.
 */
export function toolgate(options: Readonly<ToolgateOptions>): Toolgate {
  const config = resolveOptions(options);
  let clock: (nowMs: number) => TimeFacts = timeFacts('UTC');
  const labels = { id: config.gatewayId, version: config.version, environment: config.environment };
  const metrics = new GatewayMetrics(() => (runtime?.audit.sink instanceof SpoolSink ? runtime.audit.sink.depth : 0));
  let runtime: Runtime | undefined;
  let startError: unknown;

  const starting: Promise<Runtime> = (async () => {
    const bundle = await loadBundle(config.bundle);
    const engine = await PolicyEngine.load(bundle, config.bundleName, config.engine);
    // Time windows in the policy are written for its own timezone: use it unless the operator set one.
    const timezone = config.timezone ?? bundleTimezone(bundle.data) ?? 'UTC';
    checkTimezone(timezone, config.timezone ? 'timezone' : 'the policy data\'s toolgate.config.timezone');
    clock = timeFacts(timezone);
    const audit = await AuditLog.open(config.makeSink(), config.signingKey, config.gatewayId, { logger: config.logger });
    runtime = { engine, audit };
    return runtime;
  })();
  starting.catch((error: unknown) => {
    startError = error;
    config.logger.error('toolgate failed to start', { error: error instanceof Error ? error.message : String(error) });
  });

  /** Requests this gate admitted, with what it decided: the wrapped routes let exactly these through. */
  const admitted = new WeakMap<Request, string>();

  /**
   * The request path for one request. `expect` is set when the gate wraps a route (`gate.tools`, `gate.mcp`):
   * whatever Express routed there must be that kind of gated request, or it is refused.
   */
  async function handle(req: Request, res: Response, next: NextFunction, expect?: 'tools' | 'mcp'): Promise<void> {
    // The raw request target, as the agent sent and signed it: the route is judged on exactly this spelling.
    const path = req.originalUrl || req.url;
    let route: Route | null = classifyRoute(req.method, path, config);
    if (expect && (route === null || (route.kind === 'http') !== (expect === 'tools'))) {
      route = { kind: 'invalid', error: new BadRequestError('path_noncanonical', `This route is wrapped by toolgate ${expect === 'tools' ? `for POST ${config.toolsPath}/<tool>` : `for ${config.mcpPath}`}; the request target ${JSON.stringify(path.slice(0, 160))} is not that. Mount gate.${expect}() at ${expect === 'tools' ? config.toolsPath : config.mcpPath} and call it by that exact path.`) };
    }
    if (route === null) return next();

    const started = performance.now();
    const decisionId = randomUUID();
    const parent = parentContext(req.headers);
    const span = startDecisionSpan(route.kind === 'http' ? route.tool : route.kind === 'invalid' ? 'invalid' : 'mcp', parent, {
      [A.ATTR_DECISION_ID]: decisionId,
      [A.ATTR_GATEWAY_ID]: config.gatewayId,
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    });
    const rt = runtime ?? (await starting.catch(() => undefined));

    // Everything known so far about this request, filled in as the stages run.
    const nowMs = config.now();
    const state: {
      call?: ToolCall;
      /** MCP messages that are not tool calls: enough to answer with a JSON-RPC error. */
      rpc?: Pick<ToolCall, 'protocol' | 'rpcId'>;
      raw?: Buffer;
      bodySha256?: string;
      agent?: VerifiedAgent;
      identityError?: IdentityError;
      input?: PolicyInput;
      decision?: Decision;
    } = {};
    const timers: Record<string, number> = {};

    const record = (outcome: AuditOutcome, reasons: readonly Reason[]): Promise<unknown> | undefined => {
      if (!rt) return undefined;
      const spanCtx = span.spanContext();
      const event = decisionEvent({
        decisionId,
        timestamp: nanoTimestamp(nowMs, process.hrtime.bigint()),
        input: state.input ?? null,
        decision: state.decision ?? null,
        outcome,
        reasons,
        policy: rt.engine.info,
        labels,
        traceId: spanCtx.traceId,
        spanId: spanCtx.spanId,
        metrics: { ...timers }, // a snapshot: timers keep changing after the event is hashed
        request: { method: req.method, path, bodySha256: (state.bodySha256 ??= sha256Hex(state.raw ?? '')) },
        tool: state.call ? { name: state.call.tool, protocol: state.call.protocol } : { name: route.kind === 'http' ? route.tool : null, protocol: route.kind === 'mcp' || route.kind === 'mcp-session' ? 'mcp' : 'http' },
        agent: state.agent
          ? { id: state.agent.id, scheme: state.agent.scheme, keyId: state.agent.keyId, thumbprint: state.agent.thumbprint, verified: true }
          : { scheme: state.identityError?.claimed.scheme ?? 'none', keyId: state.identityError?.claimed.keyId ?? null },
      });
      lastEvent = event;
      return rt.audit.record(event);
    };
    let lastEvent: UnchainedEvent | undefined;

    const finish = (outcome: string, reasons: readonly Reason[], error?: unknown): void => {
      span.setAttribute(A.ATTR_DECISION_OUTCOME, outcome);
      span.setAttribute(A.ATTR_DECISION_REASONS, reasons.map((r) => r.code));
      if (error) failSpan(span, error);
      span.end();
      const tool = state.call?.tool ?? (route.kind === 'http' ? route.tool : 'mcp');
      metrics.decisions.add(1, { outcome, tool });
      metrics.duration.record((performance.now() - started) / 1000, { outcome, tool });
    };

    /** Refuses the request, recording it first; a refusal is only as good as its audit record, but a failed record never turns a refusal into an allow. */
    const refuse = async (refusal: Refusal, outcome: AuditOutcome, reasons: readonly Reason[], error?: unknown): Promise<void> => {
      try {
        await record(outcome, reasons);
      } catch (auditError) {
        config.logger.error('audit record failed for a refusal', { decisionId, error: String(auditError) });
      }
      finish(outcome, reasons, error);
      sendRefusal(res, decisionId, refusal, state.call ?? state.rpc ?? (route.kind === 'mcp' || route.kind === 'mcp-session' ? { protocol: 'mcp', rpcId: null } : undefined));
    };

    /**
     * Lets a request that is not a policy decision through to the service (an MCP message other than tools/call,
     * a session's GET or DELETE): signed, session-checked, and recorded as allowed before the service sees it.
     */
    const passThrough = async (reason: Reason, body: unknown): Promise<void> => {
      try {
        await record('allow', [reason]);
      } catch (error) {
        if (config.failClosed) throw error;
        config.logger.warn('audit path unavailable; passing through because audit.failClosed is false', { decisionId });
      }
      finish('allow', [reason]);
      res.setHeader(DECISION_ID_HEADER, decisionId);
      admitted.set(req, decisionId);
      if (body !== undefined) setBody(req, body);
      return next();
    };

    /**
     * A session belongs to the agent that opened it: the id from anyone else, or one the gateway never saw opened,
     * is refused. A session the service opens in answer to this request is bound to this agent before the
     * answer leaves.
     */
    const checkSession = async (agent: VerifiedAgent): Promise<boolean> => {
      const raw = req.headers[SESSION_HEADER];
      if (raw !== undefined) {
        if (typeof raw !== 'string' || !SESSION_ID.test(raw)) {
          throw new BadRequestError('mcp_session_invalid', 'Send one Mcp-Session-Id header of 1-256 visible ASCII characters, as the service issued it.');
        }
        const owner = config.mcpSessions.owner(raw, config.now());
        if (owner !== agent.id) {
          const unknown = owner === null;
          const reasons = [
            unknown
              ? { code: 'mcp_session_unknown', message: 'This gateway does not know the MCP session (it ended, expired, or was opened elsewhere); start a new session with initialize.' }
              : { code: 'mcp_session_forbidden', message: 'The MCP session belongs to another agent; a session can only be used by the agent that opened it. Start your own session with initialize.' },
          ];
          const refusal = decisionRefusal('deny', reasons, decisionId, rt?.engine.info.revision ?? '');
          await refuse(unknown ? { ...refusal, status: 404 } : refusal, 'deny', reasons);
          return false;
        }
      }
      bindOpenedSession(res, raw, (id) => {
        if (!config.mcpSessions.bind(id, agent.id, config.now())) config.logger.error('the MCP service issued a session id that another agent owns; not rebinding it', { decisionId });
      });
      if (req.method === 'DELETE' && raw !== undefined) {
        const ended = raw;
        res.on('finish', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) config.mcpSessions.unbind(ended);
        });
      }
      return true;
    };

    try {
      if (!rt) {
        throw new UnavailableError('policy_unavailable', `The gateway is not ready (${startError instanceof Error ? startError.message : 'starting'}); nothing was executed. Check /readyz and the gateway logs.`);
      }
      span.setAttribute(A.ATTR_POLICY_REVISION, rt.engine.info.revision);
      if (route.kind === 'invalid') throw route.error;

      // extract
      let t = performance.now();
      state.raw = await readRawBody(req, config.bodyLimit);
      if (route.kind === 'mcp-session' && state.raw.length > 0) {
        throw new BadRequestError('body_unexpected', `${req.method} ${config.mcpPath} takes no body; send JSON-RPC messages with POST.`);
      }
      if (route.kind !== 'mcp-session') requireJsonMediaType(headerValue(req.headers['content-type']), state.raw.length);
      const parsed = route.kind === 'mcp-session' ? null : route.kind === 'http' ? parseHttpCall(route.tool, state.raw, config.json) : parseMcpCall(state.raw, config.json);
      const message = parsed && isMcpMessage(parsed) ? parsed : undefined;
      if (message) {
        state.rpc = { protocol: 'mcp', rpcId: message.rpcId };
        span.updateName(`${A.SPAN_AUTHORIZE} mcp ${message.method.slice(0, 64)}`);
      } else if (parsed) {
        const call = parsed as ToolCall;
        state.call = call;
        span.updateName(`${A.SPAN_AUTHORIZE} ${call.tool}`);
        span.setAttribute(A.ATTR_GEN_AI_TOOL_NAME, call.tool);
      }
      if (route.kind === 'mcp-session') span.updateName(`${A.SPAN_AUTHORIZE} mcp ${req.method}`);
      span.setAttribute(A.ATTR_TOOL_PROTOCOL, route.kind === 'http' ? 'http' : 'mcp');
      timers.timer_extract_ns = ns(t);

      // identify
      t = performance.now();
      const facts: RequestFacts = {
        method: req.method,
        target: req.originalUrl || req.url,
        scheme: req.protocol === 'https' ? 'https' : 'http',
        authority: req.headers.host ?? '',
        headers: req.headers,
        rawBody: state.raw,
      };
      try {
        state.agent = await config.verifier.verify(facts);
      } catch (error) {
        // Only a request that failed to prove its identity is a 401; a broken replay store or key directory is
        // the gateway's problem and fails closed as 503 below.
        if (!(error instanceof IdentityError)) throw error;
        const idError = error;
        state.identityError = idError;
        timers.timer_identity_ns = ns(t);
        span.setAttribute(A.ATTR_IDENTITY_VERIFIED, false);
        span.setAttribute(A.ATTR_IDENTITY_SCHEME, idError.claimed.scheme);
        if (idError.claimed.keyId) span.setAttribute(A.ATTR_IDENTITY_KEY_ID, idError.claimed.keyId);
        metrics.identityFailures.add(1, { reason: idError.reason });
        const reasons = [{ code: idError.reason, message: idError.message }];
        return await refuse(errorRefusal(idError, decisionId), 'unauthenticated', reasons);
      }
      timers.timer_identity_ns = ns(t);
      const agent = state.agent;
      span.setAttribute(A.ATTR_IDENTITY_VERIFIED, true);
      span.setAttribute(A.ATTR_IDENTITY_SCHEME, agent.scheme);
      span.setAttribute(A.ATTR_IDENTITY_KEY_ID, agent.keyId);
      span.setAttribute(A.ATTR_GEN_AI_AGENT_ID, agent.id);

      if (route.kind !== 'http' && !(await checkSession(agent))) return;
      if (route.kind === 'mcp-session') {
        const reason = req.method === 'GET'
          ? { code: 'mcp_session_stream', message: 'A signed agent opens the server-to-client stream of its own MCP session.' }
          : { code: 'mcp_session_end', message: 'A signed agent ends its own MCP session.' };
        return await passThrough(reason, undefined);
      }
      if (message) {
        // Not a tool call: signed like everything else, and only the configured MCP methods reach the service —
        // resources/read or prompts/get must not slip past the gateway unauthorized.
        if (!config.mcpMethods.has(message.method)) {
          const reasons = [{ code: 'mcp_method_not_allowed', message: `MCP method ${message.method.slice(0, 64)} is not let through this gateway; use tools/call (or ask the operator to allow the method).` }];
          return await refuse(decisionRefusal('deny', reasons, decisionId, rt.engine.info.revision), 'deny', reasons);
        }
        return await passThrough({ code: 'mcp_passthrough', message: `MCP method ${message.method.slice(0, 64)} is let through to the service for a signed agent (no policy decision).` }, message.body);
      }
      const call = state.call as ToolCall;

      // build input: resource facts, detector findings, approval and break-glass facts all come from the gateway.
      t = performance.now();
      const findings = scan(call.args, '/args');
      const approvalHeader = headerValue(req.headers[APPROVAL_HEADER]);
      // The binding hashes the canonical arguments: only worth it when an approval is presented.
      const binding = approvalHeader === undefined ? '' : approvalBinding(agent.id, call.tool, call.args);
      const approval = approvalHeader === undefined ? null : await lookupApproval(config.approvals, approvalHeader, binding, nowMs);
      const breakGlass = config.breakGlass.inspect(headerValue(req.headers[BREAK_GLASS_HEADER]));
      state.input = buildInput({
        facts,
        path,
        bodySha256: (state.bodySha256 = sha256Hex(state.raw)),
        call,
        agent,
        time: clock(nowMs),
        environment: config.environment,
        gatewayId: config.gatewayId,
        attachments: await resolveAttachments(call.args, config.uploads),
        findings,
        approval,
        breakGlass: breakGlass?.facts ?? null,
      });
      timers.timer_input_ns = ns(t);

      // decide
      t = performance.now();
      const decision = await rt.engine.decide(state.input);
      state.decision = decision;
      timers.timer_rego_query_eval_ns = ns(t);

      if (decision.outcome === 'approval_required') {
        // One pending approval per exact call: a retry while it waits gets the same id, not a new request.
        let pending = approval?.status === 'pending' ? await config.approvals.get(approval.id) : null;
        if (!pending) {
          pending = newApprovalRecord({
            agent: agent.id,
            tool: call.tool,
            args: call.args,
            reasons: decision.reasons,
            decisionId,
            nowMs,
            ...(decision.obligations.approval ? { ttlS: decision.obligations.approval.ttl_s } : {}),
            summary: JSON.stringify(mask(call.args, '/args', { classes: new Set(['secret']) }).value),
          });
          await config.approvals.create(pending);
        }
        const ticket = { id: pending.id, expires_at: pending.expires_at };
        return await refuse(decisionRefusal('approval_required', decision.reasons, decisionId, rt.engine.info.revision, { approval: ticket }), 'approval_required', decision.reasons);
      }
      if (decision.outcome !== 'allow') {
        return await refuse(decisionRefusal(decision.outcome, decision.reasons, decisionId, rt.engine.info.revision), decision.outcome, decision.reasons);
      }
      if (breakGlass?.facts.valid && decision.reasons.some((r) => r.code === 'break_glass_used')) {
        span.addEvent('toolgate.break_glass', {
          'toolgate.break_glass.who': breakGlass.facts.who ?? '',
          'toolgate.break_glass.why': breakGlass.facts.why ?? '',
          'toolgate.break_glass.until': breakGlass.facts.until ?? '',
          'toolgate.break_glass.jti': breakGlass.payload?.jti ?? '',
        });
      }

      // reserve: limits and budgets are taken atomically before the tool runs, given back if it fails.
      t = performance.now();
      const reserved = await config.limits.reserve(decision.obligations.limits, decisionId, nowMs);
      timers.timer_limits_ns = ns(t);
      if (!reserved.ok) {
        const reasons = [limitReason(reserved)];
        const refusal = decisionRefusal('deny', reasons, decisionId, rt.engine.info.revision, reserved.cause === 'limit' ? { retryAfterS: reserved.retryAfterS } : {});
        return await refuse(refusal, 'deny', reasons);
      }
      const reservation = reserved.reservation;
      if (approval?.status === 'approved') {
        // Single use: spend the approval once the limits fit (a refused call keeps its approval), before the tool
        // runs; a concurrent call that spent it first wins, and this one gives its quota back.
        const spent = await config.approvals.consume(approval.id, binding, nowMs, decisionId);
        if (spent.status !== 'approved') {
          await config.limits.release(reservation).catch(() => undefined);
          const reasons = [{ code: `approval_${spent.status === 'unknown' ? 'invalid' : spent.status}`, message: 'The approval was spent by another call just now; each approval covers one call. Retry without the header to request a new one.' }];
          return await refuse(decisionRefusal('deny', reasons, decisionId, rt.engine.info.revision), 'deny', reasons);
        }
      }

      // record: an allowed call executes only after its decision is durable.
      t = performance.now();
      try {
        await record('allow', decision.reasons);
      } catch (error) {
        if (config.failClosed) {
          await config.limits.release(reservation).catch(() => undefined);
          throw error;
        }
        config.logger.warn('audit path unavailable; executing because audit.failClosed is false', { decisionId });
      }
      timers.timer_audit_ns = ns(t);

      // enforce: hand the call to the tool route, under an execution span.
      finish('allow', decision.reasons);
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
      req.toolgate = { decisionId, call, decision, agent, input: state.input };
      admitted.set(req, decisionId);
      setBody(req, call.body);
      const execStarted = performance.now();
      const decided = lastEvent;
      let settled = false;
      const settle = (failed: boolean) => {
        if (settled) return;
        settled = true;
        const done = failed ? config.limits.release(reservation) : config.limits.settle(reservation);
        done.catch((error: unknown) => config.logger.error('limit reservation not settled', { decisionId, error: String(error) }));
      };
      // A connection closed before the tool answered counts as a failure: the quota goes back.
      res.on('close', () => settle(!res.writableFinished || res.statusCode >= 500));
      res.on('finish', () => {
        settle(res.statusCode >= 500);
        execSpan.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) failSpan(execSpan, new Error(`tool answered ${res.statusCode}`));
        execSpan.end();
        if (decided) {
          rt.audit
            .record(completionEvent(decided, res.statusCode, redacted, nanoTimestamp(config.now(), process.hrtime.bigint()), Math.round(performance.now() - execStarted)))
            .catch((error: unknown) => config.logger.error('completion event not recorded', { decisionId, error: String(error) }));
        }
      });
      return context.with(trace.setSpan(parent, execSpan), () => next());
    } catch (error) {
      const coded = error instanceof ToolgateError ? error : new UnavailableError('internal_error', 'The gateway failed while deciding; nothing was executed. Retry, and report the decision id if it persists.', { cause: error });
      const refusal = errorRefusal(coded, decisionId);
      const outcome: AuditOutcome = coded.kind === 'bad_request' ? 'invalid' : 'error';
      return await refuse(refusal, outcome, [{ code: coded.reason, message: coded.message }], coded.kind === 'bad_request' ? undefined : error);
    }
  }

  const middleware = ((req: Request, res: Response, next: NextFunction) => {
    if (admitted.has(req)) return next();
    handle(req, res, next).catch(next);
  }) as Toolgate;
  const wrap = (expect: 'tools' | 'mcp', handler: RequestHandler): RequestHandler => {
    if (typeof handler !== 'function') throw new TypeError(`gate.${expect}(handler) takes an Express handler or router.`);
    return function toolgateGated(req, res, next) {
      const through: NextFunction = (error?: unknown) => {
        if (error !== undefined && error !== null) return next(error);
        // Only a request this gate admitted reaches the handler: an earlier app.use(gate) may have done it.
        if (!admitted.has(req)) return next(new Error('toolgate: a request reached a gated route without being admitted'));
        return handler(req, res, next);
      };
      if (admitted.has(req)) return through();
      handle(req, res, through, expect).catch(next);
    };
  };
  middleware.tools = (handler) => wrap('tools', handler);
  middleware.mcp = (handler) => wrap('mcp', handler);
  middleware.ready = async () => {
    await starting;
  };
  middleware.readiness = () => {
    if (!runtime) return { ready: false, policy: null, audit: null, error: startError instanceof Error ? startError.message : 'starting' };
    const healthy = runtime.audit.sink.healthy();
    return { ready: healthy, policy: runtime.engine.info.revision, audit: { sink: runtime.audit.sink.name, healthy, recovered: runtime.audit.recovered } };
  };
  middleware.recordApproval = async (record, approver) => {
    const rt = await starting;
    await rt.audit.record(
      approvalEvent(record, { id: approver.id, scheme: approver.scheme, keyId: approver.keyId, thumbprint: approver.thumbprint }, {
        timestamp: nanoTimestamp(config.now(), process.hrtime.bigint()),
        policy: rt.engine.info,
        labels,
      }),
    );
  };
  Object.defineProperty(middleware, 'policyRevision', { get: () => runtime?.engine.info.revision ?? null });
  middleware.close = async () => {
    const rt = await starting.catch(() => undefined);
    await rt?.engine.close();
    await rt?.audit.close();
    await config.verifier.close?.();
  };
  return middleware;
}

/** One value of a request header; a repeated header (joined or an array) is ambiguous and counts as absent. */
function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const ns = (since: number) => Math.round((performance.now() - since) * 1e6);

/** Hands the parsed body to later handlers and tells body-parser it has been read. */
function setBody(req: Request, body: unknown): void {
  req.body = body;
  (req as { _body?: boolean })._body = true;
}


/**
 * Calls `bind` with the session id the service sets on this response (a new one, not the one the request
 * carried), just before the head goes out: the owner is known before the client can use the id.
 */
function bindOpenedSession(res: Response, requested: string | undefined, bind: (sessionId: string) => void): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    // writeHead(status, headers) may carry the header in its arguments instead of setHeader.
    const inline = args.find((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && !Array.isArray(a));
    const fromArgs = inline ? Object.entries(inline).find(([k]) => k.toLowerCase() === SESSION_HEADER)?.[1] : undefined;
    const issued = fromArgs ?? this.getHeader(SESSION_HEADER);
    if (typeof issued === 'string' && issued !== requested && SESSION_ID.test(issued)) bind(issued);
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
}
