import { completionEvent, nanoTimestamp } from '../../audit/index.js';
import { buildInput } from '../../input/index.js';
import { policyFor, type PolicyInput } from '../../policy/index.js';
import { filterToolList, listedTools } from '../mcp-tool-list.js';
import { transformResponse } from '../response-rewrite.js';
import type { CallContext, GatewayDeps } from './context.js';
import { bodyDigest } from './util.js';

const NO_FINDINGS = { secrets: [], pii: [] } as const;

/**
 * Shows the agent of a tools/list only the tools the policy says it may ever call (data.toolgate.visible, asked
 * once per listed tool with the input a tools/call of that tool with no arguments would get), on every way the
 * service answers (JSON or SSE). Hiding is a courtesy to the agent, not the control: a hidden tool called directly
 * is decided like any call and refused. One revision filters the whole answer (its lease is held until the
 * response is done) and the decision event names it. A completion event chained to the pass-through's decision
 * records what was hidden. Every listed definition (hidden ones too) goes into the gateway's tool catalog, whose
 * annotations and digest later calls of the tool are judged with. Returns whether the answer is filtered (false:
 * the revision has no toolgate/visible).
 */
export function filterToolsList(ctx: CallContext, deps: GatewayDeps): boolean {
  const { res, decisionId } = ctx;
  const runtime = ctx.runtime!;
  const agent = ctx.agent!;
  const lease = policyFor(runtime.policy, runtime.canary, agent.id).policy.acquire();
  const engine = lease.engine;
  ctx.engine = engine;
  res.on('close', () => lease.release());
  const started = performance.now();
  // Without the entrypoint the list passes as the service sent it (PolicyEngine.filtersToolLists says why).
  const hidden: string[] | undefined = engine.filtersToolLists ? [] : undefined;
  const catalog = deps.config.toolCatalog;
  let visible: ((name: string) => boolean) | undefined;
  if (hidden) {
    const base = buildInput({
      facts: ctx.facts!,
      path: ctx.target,
      bodySha256: bodyDigest(ctx),
      call: { tool: '', protocol: 'mcp', args: {}, body: undefined },
      agent,
      time: runtime.clock(ctx.nowMs),
      environment: deps.config.environment,
      gatewayId: deps.config.gatewayId,
      attachments: [],
      findings: NO_FINDINGS,
      approval: null,
      breakGlass: null,
    });
    // Asked after the page's definitions are learnt: the rule sees the annotations of the tool it judges.
    visible = (name: string): boolean => {
      const input: PolicyInput = { ...base, tool: { name, protocol: 'mcp', ...catalog.facts(name, agent.id) } };
      try {
        return engine.visible(input);
      } catch (error) {
        deps.logger.error('a tool was hidden from a tools/list because toolgate/visible failed', { decisionId, tool: name, error: String(error) });
        return false;
      }
    };
  }
  transformResponse(res, (doc) => {
    const listed = listedTools(doc);
    if (!listed) return doc;
    catalog.learn(listed.tools, agent.id, listed.result.cacheScope === 'public');
    if (!hidden || !visible) return doc;
    const filtered = filterToolList(doc, visible);
    hidden.push(...filtered.hidden);
    return filtered.message;
  });
  res.on('finish', () => {
    // Only a list that was let through: when recording the pass-through failed, the refusal was recorded instead.
    const decided = ctx.recorded;
    if (decided?.type !== 'decision' || decided.outcome !== 'allow') return;
    runtime.audit
      .record(completionEvent(decided, res.statusCode, [], nanoTimestamp(deps.config.now(), process.hrtime.bigint()), Math.round(performance.now() - started), hidden), { later: true })
      .catch((error: unknown) => deps.logger.error('completion event not recorded', { decisionId, error: String(error) }));
  });
  return hidden !== undefined;
}
