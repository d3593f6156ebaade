import { APPROVAL_HEADER, approvalBinding, lookupApproval } from '../../approvals/index.js';
import { BREAK_GLASS_HEADER } from '../../breakglass/index.js';
import { DetectMemo } from '../../classify/detectors.js';
import { scanRequest } from '../../classify/scan.js';
import { buildInput } from '../../input/index.js';
import { resolveAttachments } from '../../uploads/resolve.js';
import { requestStateOf, withoutApprovalRoundTrip } from '../mcp-approval.js';
import { SESSION_HEADER } from '../mcp-sessions.js';
import { bodyDigest, elapsedNs, headerValue } from './util.js';
import type { Stage } from './context.js';

/**
 * The policy's input: the call, the verified agent and what only the gateway knows — time, environment,
 * attachment provenance, detector findings, approval and break-glass facts — never the agent's say-so.
 */
export const buildPolicyInput: Stage = async (ctx, deps) => {
  const t = performance.now();
  const { config } = deps;
  const call = ctx.call!;
  const agent = ctx.agent!;
  // A large body's scan is spread over several event-loop turns, so one request cannot hold the loop (issue 11).
  // What it found in long strings is kept, so the audit record and the approver's summary do not scan them again.
  ctx.detectMemo = new DetectMemo();
  const findings = await scanRequest(call.args, '/args', ctx.facts!.rawBody.length, ctx.detectMemo);
  // An MCP tool is judged with what its service listed about it (or the spec's defaults when it never was).
  const definition = call.protocol === 'mcp' ? config.toolCatalog.facts(call.tool, agent.id) : undefined;
  ctx.definition = definition?.definition_sha256 ?? null;
  let approvalHeader = headerValue(ctx.req.headers[APPROVAL_HEADER]);
  // An MCP 2026-07-28 retry presents its approval in the sealed params.requestState the gateway answered with.
  const state = call.protocol === 'mcp' ? requestStateOf(call.body) : undefined;
  // A 2025-11-25 session whose user was sent to an approval by URL elicitation retries the call as it was.
  const session = call.protocol === 'mcp' ? headerValue(ctx.req.headers[SESSION_HEADER]) : undefined;
  const elicited = approvalHeader === undefined && state === undefined && config.elicitations.capable(session);
  if (approvalHeader !== undefined || state !== undefined || elicited) {
    // The binding hashes the canonical arguments: only worth it when an approval is presented.
    ctx.binding = approvalBinding(agent.id, call.tool, call.args, ctx.definition);
  }
  if (state !== undefined) {
    approvalHeader = config.requestStates.open(state, { agent: agent.id, tool: call.tool, binding: ctx.binding! }, ctx.nowMs).approval;
    ctx.viaRequestState = true;
    // The round trip was the gateway's, not the service's: it never sees the state or the answer to our input request.
    ctx.call = { ...call, body: withoutApprovalRoundTrip(call.body) };
  }
  if (elicited) {
    approvalHeader = config.elicitations.pendingFor(session, ctx.binding!);
    ctx.viaElicitation = approvalHeader !== undefined;
  }
  if (approvalHeader !== undefined) ctx.approvalHeader = approvalHeader;
  ctx.approval = approvalHeader === undefined
    ? null
    : await lookupApproval(config.approvals, approvalHeader, ctx.binding!, ctx.nowMs, { agent: agent.id, tool: call.tool, args: call.args });
  if (ctx.viaElicitation && ctx.approval && ctx.approval.status !== 'pending' && ctx.approval.status !== 'approved') {
    // Decided and done with (used, expired, gone) or denied: the user is not sent there again. A denial is told once.
    config.elicitations.forgetCall(session!, ctx.binding!);
    if (ctx.approval.status !== 'denied') ctx.approval = null;
  }
  ctx.breakGlass = config.breakGlass.inspect(headerValue(ctx.req.headers[BREAK_GLASS_HEADER]));
  ctx.input = buildInput({
    facts: ctx.facts!,
    path: ctx.target,
    bodySha256: bodyDigest(ctx),
    call,
    agent,
    time: ctx.runtime!.clock(ctx.nowMs),
    environment: config.environment,
    gatewayId: config.gatewayId,
    attachments: await resolveAttachments(call.args, config.uploads),
    findings,
    approval: ctx.approval,
    breakGlass: ctx.breakGlass?.facts ?? null,
    ...(definition ? { definition } : {}),
  });
  ctx.timers.timer_input_ns = elapsedNs(t);
};
