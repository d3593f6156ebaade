import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { BadRequestError } from '../errors.js';
import { approvalEvent, nanoTimestamp, SpoolSink } from '../audit/index.js';
import { canaryFraction } from '../policy/index.js';
import { PolicyRollout, withRollout, type PolicyControl } from '../policy/rollout.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { resolveOptions, type ToolgateOptions } from './options.js';
import { openContext } from './call-context.js';
import { classifyRoute, type Route } from './routes.js';
import { startRuntime } from './runtime.js';
import { admitMcp, buildPolicyInput, checkTransport, decide, enforce, extract, identify, passThrough, ready, record, refuse, reserve, runStages, type GatewayDeps, type Runtime, type Stage } from './stages/index.js';
import type { Toolgate } from './types.js';

export type { Toolgate, ToolgateContext } from './types.js';

/** The request path, in request order. Each stage may stop the request; `enforce` then hands it to the tool. */
const responseClosed = (res: Response): Promise<void> => (res.closed || res.writableFinished ? Promise.resolve() : new Promise((r) => res.once('close', () => r())));

/** How long close() waits for calls still being decided or recorded before it closes the audit sink. */
const CLOSE_DRAIN_MS = 10_000;

const STAGES: readonly Stage[] = [ready, extract, identify, checkTransport, admitMcp, buildPolicyInput, decide, reserve, record];

/**
 * The stages that may run while the caller's signature is only a claim, checked later in the evaluator thread
 * (stages/claim.ts). Before any other stage the runner checks it in line. On an HTTP tool call (the only kind with a
 * claim) the first two do nothing and the input stage only reads; decide ends the claim.
 */
const ON_CLAIM: ReadonlySet<Stage> = new Set([checkTransport, admitMcp, buildPolicyInput, decide]);

/**
 * The toolgate middleware. Mount it first (before body parsers) and mount the tool and MCP routes through
 * `gate.tools()` / `gate.mcp()`: for every request aimed at them it runs the request path once and lets the
 * request through only when it is allowed and durably recorded; every other route passes through untouched.
 */
export function toolgate(options: Readonly<ToolgateOptions>): Toolgate {
  const config = resolveOptions(options);
  let runtime: Runtime | undefined;
  let startError: unknown;
  const metrics = new GatewayMetrics(() => (runtime?.audit.sink instanceof SpoolSink ? runtime.audit.sink.depth : 0));
  let rollout: PolicyRollout | undefined;
  const starting = startRuntime(config).then((r) => {
    rollout = new PolicyRollout(r.policy, r, (bundle, role) => r.policy.startSibling(config.sourceOf(bundle), role), (bundle) => config.sourceOf(bundle).where, config.logger);
    runtime = withRollout(r, rollout); // decisions read the candidates the rollout holds now
    return r;
  });
  starting.catch((error: unknown) => {
    startError = error;
    config.logger.error('toolgate failed to start', { error: error instanceof Error ? error.message : String(error) });
  });
  const labels = { id: config.gatewayId, version: config.version, environment: config.environment };
  const deps: GatewayDeps = { config, runtime: () => runtime, startError: () => startError, metrics, labels, logger: config.logger };
  // Requests this gate admitted: the wrapped routes let exactly these through.
  const admitted = new WeakSet<Request>();
  const admit = (req: Request) => admitted.add(req);

  async function handle(req: Request, res: Response, next: NextFunction, expect?: 'tools' | 'mcp'): Promise<void> {
    const route = routeFor(req, config, expect);
    if (route === null) return next();
    await starting.catch(() => undefined);
    const ctx = openContext(req, res, route, config);
    const stop = await runStages(ctx, deps, STAGES, ON_CLAIM);
    if (stop?.kind === 'refuse') return refuse(ctx, deps, stop);
    if (stop?.kind === 'pass') return passThrough(ctx, deps, stop, admit, next);
    enforce(ctx, deps, admit, next);
  }

  // Calls being decided or recorded now: close() lets them finish their audit trail before the sink closes.
  const inFlight = new Set<Promise<void>>();
  const track = (res: Response, work: Promise<void>): Promise<void> => {
    // Until the answer is done as well: an allowed call records its completion when the tool's answer finishes.
    const done = Promise.allSettled([work, responseClosed(res)]).then(() => new Promise<void>((r) => setImmediate(r)));
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
    return work;
  };
  const middleware = ((req: Request, res: Response, next: NextFunction) => {
    if (admitted.has(req)) return next();
    track(res, handle(req, res, next)).catch(next);
  }) as Toolgate;
  const wrap = (expect: 'tools' | 'mcp', handler: RequestHandler): RequestHandler => {
    if (typeof handler !== 'function') throw new TypeError(`gate.${expect}(handler) takes an Express handler or router.`);
    return function toolgateGated(req, res, next) {
      // Only a request this gate admitted reaches the handler: an earlier app.use(gate) may have done it.
      const through: NextFunction = (error?: unknown) =>
        error !== undefined && error !== null ? next(error) : admitted.has(req) ? handler(req, res, next) : next(new Error('toolgate: a request reached a gated route without being admitted'));
      if (admitted.has(req)) return through();
      track(res, handle(req, res, through, expect)).catch(next);
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
    // A refused bundle does not make the gateway unready: the active revision keeps deciding (lastError says why).
    const lifecycle = runtime.policy.status();
    const candidates = [
      ...(runtime.shadow ? [{ ...runtime.shadow.policy.status(), fraction: runtime.shadow.fraction }] : []),
      ...(runtime.canary ? [{ ...runtime.canary.policy.status(), fraction: canaryFraction(runtime.canary) }] : []),
    ];
    // The in-memory replay store's fill level: a full store refuses signed calls, so SRE watches it here.
    const replayStore = config.verifier.replayStore?.();
    return { ready: healthy, policy: lifecycle.revision, policyStatus: lifecycle, ...(candidates.length ? { candidates } : {}), audit: { sink: runtime.audit.sink.name, healthy, recovered: runtime.audit.recovered }, ...(replayStore ? { replayStore } : {}) };
  };
  middleware.recordApproval = async (approval, approver) => {
    const rt = await starting;
    const who = { id: approver.id, scheme: approver.scheme, keyId: approver.keyId, thumbprint: approver.thumbprint };
    await rt.audit.record(approvalEvent(approval, who, { timestamp: nanoTimestamp(config.now(), process.hrtime.bigint()), policy: rt.engine.info, labels }));
  };
  const control = async <T>(change: (r: PolicyRollout) => Promise<T>): Promise<T> => {
    await starting;
    return change(rollout!);
  };
  const policyControl: PolicyControl = {
    setCanary: (change) => control((r) => r.setCanary(change)),
    setShadow: (change) => control((r) => r.setShadow(change)),
    promote: (from) => control((r) => r.promote(from)),
    rollback: () => control((r) => r.rollback()),
    status: () => {
      if (!rollout) throw new Error('toolgate: policyControl.status() before the gateway started; await gate.ready() first.');
      return rollout.status();
    },
  };
  Object.defineProperty(middleware, 'policyControl', { value: policyControl });
  Object.defineProperty(middleware, 'policyRevision', { get: () => runtime?.engine.info.revision ?? null });
  middleware.close = async () => {
    const rt = await starting.catch(() => undefined);
    // Bounded: a call stuck on a dependency must not hold the shutdown forever.
    await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, CLOSE_DRAIN_MS).unref())]);
    await rt?.policy.close(); // stops polling, closes every revision's evaluator threads
    await rollout?.close(); // the candidates running now (the configured ones, or those set since)
    await rt?.audit.close();
    await config.verifier.close?.();
  };
  return middleware;
}

/** Bundle server options for a candidate named at run time: the same token file and timeout as the configured ones. */
/**
 * Which gated route a request is, judged on its raw target. `expect` is set when the gate wraps a route: whatever
 * Express routed there must be that kind of gated request, or it is refused.
 */
function routeFor(req: Request, config: ReturnType<typeof resolveOptions>, expect?: 'tools' | 'mcp'): Route | null {
  const target = req.originalUrl || req.url;
  const route = classifyRoute(req.method, target, config);
  if (!expect || (route !== null && (route.kind === 'http') === (expect === 'tools'))) return route;
  const where = expect === 'tools' ? config.toolsPath : config.mcpPath;
  return { kind: 'invalid', error: new BadRequestError('path_noncanonical', `This route is wrapped by toolgate for ${expect === 'tools' ? `POST ${where}/<tool>` : where}; the request target ${JSON.stringify(target.slice(0, 160))} is not that. Mount gate.${expect}() at ${where} and call it by that exact path.`) };
}
