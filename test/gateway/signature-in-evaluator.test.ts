import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PolicyEngine, ProofFailedError } from '../../src/policy/index.js';
import fc from 'fast-check';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createRequestSigner } from '../../src/agent/sign-request.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { DEFAULT_CHECK_PLACEMENT, setSignatureCheckPlacement, type CheckPlacement } from '../../src/identity/check-placement.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { buildBundle, unlimited } from '../policy/bundles.js';

/**
 * TOOLGATE_SIGNATURE_CHECK=evaluator checks an HTTP tool call's Ed25519 signature in the evaluator thread that
 * decides it (src/gateway/stages/claim.ts). Whatever the request, the answer, the audit event and the span's identity
 * must be those of the check on the event loop: every generated request is sent twice, signed anew each time, once
 * with each placement, to one gateway (the placement is read per call), and the two answers compared.
 */

type Agent = 'receipts-bot' | 'advisor';

interface Case {
  readonly agent: Agent;
  readonly call: { readonly tool: string; readonly args: Record<string, unknown> };
  readonly mutations: readonly Mutation[];
}

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip-signature'; readonly bit: number }
  | { readonly kind: 'flip-body'; readonly at: number }
  | { readonly kind: 'unknown-key' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'replay' }
  | { readonly kind: 'other-agent-key' }
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'header'; readonly name: string; readonly value: string }
  | { readonly kind: 'big-body' }
  | { readonly kind: 'findings' }
  | { readonly kind: 'attachments' }
  | { readonly kind: 'no-nonce' };

const CALLS: Record<Agent, Case['call'][]> = {
  'receipts-bot': [
    { tool: 'email.send', args: { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' } },
    { tool: 'email.send', args: { to: ['stranger@elsewhere.example'], subject: 'Receipts', body: 'ok' } },
    { tool: 'email.send', args: { to: ['accountant@ledger-partners.example'], subject: 'key', body: 'AKIAIOSFODNN7EXAMPLE' } },
    { tool: 'trade.place', args: { symbol: 'VTI', side: 'buy', quantity: 1 } },
    { tool: 'memory.read', args: { key: 'notes' } },
  ],
  advisor: [
    { tool: 'trade.suggest', args: { symbol: 'VTI', side: 'buy', quantity: 1 } },
    { tool: 'trade.suggest', args: { symbol: 'NVDA', side: 'sell', reason: 'over target' } },
    { tool: 'email.send', args: { to: ['accountant@ledger-partners.example'], subject: 'x', body: 'y' } },
  ],
};

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' } as const) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 511 }).map((bit) => ({ kind: 'flip-signature', bit }) as const) },
  fc.nat().map((at) => ({ kind: 'flip-body', at }) as const),
  fc.constant({ kind: 'unknown-key' } as const),
  fc.constant({ kind: 'expired' } as const),
  { weight: 2, arbitrary: fc.constant({ kind: 'replay' } as const) },
  fc.constant({ kind: 'other-agent-key' } as const),
  fc.constantFrom('/tools/email.send/', '/tools/EMAIL.send', '/tools/email.send?x=1', '/tools/email%2esend').map((path) => ({ kind: 'path', path }) as const),
  fc.constantFrom(['toolgate-approval', 'apr_x'], ['toolgate-break-glass', 'x.y.z'], ['content-type', 'text/plain'], ['content-digest', 'sha-256=:AAAA:']).map(([name, value]) => ({ kind: 'header', name: name!, value: value! }) as const),
  fc.constant({ kind: 'big-body' } as const),
  fc.constant({ kind: 'findings' } as const),
  fc.constant({ kind: 'attachments' } as const),
  fc.constant({ kind: 'no-nonce' } as const),
);

const cases: fc.Arbitrary<Case> = fc.constantFrom<Agent>('receipts-bot', 'advisor').chain((agent) =>
  fc.record({ agent: fc.constant(agent), call: fc.constantFrom(...CALLS[agent]), mutations: fc.array(mutation, { maxLength: 2 }) }),
);

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly event: Pick<AuditEvent, 'outcome'> & { readonly agent: unknown; readonly input: boolean; readonly reasons: readonly string[] } | undefined;
  readonly span: { readonly verified: unknown; readonly keyId: unknown; readonly agentId: unknown; readonly checkedIn: unknown } | undefined;
}

describe('the Ed25519 check in the evaluator thread answers as the check on the event loop', () => {
  const spans = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let gw: TestGateway;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-proof', spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: buildBundle({ revision: 'proof', data: unlimited }), TOOLGATE_SIGNATURE_CHECK: 'evaluator' });
  });
  afterAll(async () => {
    setSignatureCheckPlacement(DEFAULT_CHECK_PLACEMENT);
    await gw?.close();
    await telemetry?.shutdown();
  });

  const decisionEvent = (id: string | null): AuditEvent | undefined => (id === null ? undefined : readAuditFile(gw.config.audit.file).find((e: AuditEvent) => e.type === 'decision' && e.decision_id === id));

  const started = Date.now();
  let withoutNonce = 0;
  async function send(c: Case, placement: CheckPlacement): Promise<Answer> {
    setSignatureCheckPlacement(placement);
    const { agent, call, mutations } = c;
    const has = (kind: Mutation['kind']) => mutations.some((m) => m.kind === kind);
    const find = <K extends Mutation['kind']>(kind: K) => mutations.find((m): m is Extract<Mutation, { kind: K }> => m.kind === kind);
    const other: Agent = agent === 'advisor' ? 'receipts-bot' : 'advisor';
    const key = gw.agents.keys[has('other-agent-key') ? other : agent];
    // Without a nonce the signed content is the replay key: each such request is dated a second before the last.
    const at = has('expired') ? Date.now() - 3_600_000 : has('no-nonce') ? started - 1_000 * ++withoutNonce : undefined;
    const now = at === undefined ? Date.now : () => at;
    const sign = createRequestSigner({ privateJwk: key, now, expiresIn: 280, ...(has('unknown-key') ? { keyId: 'no-such-key' } : {}), ...(has('no-nonce') ? { nonce: false } : {}) });
    const path = find('path')?.path ?? `/tools/${call.tool}`;
    let args = call.args;
    if (has('big-body')) args = { ...args, padding: 'p'.repeat(20_000) };
    if (has('attachments')) args = { ...args, attachments: ['upl_0000000000000000', 'upl_1111111111111111'] };
    // Findings past their bound (256 Ki characters of pointers) in under 16 KiB: the input stage refuses it (413).
    if (has('findings')) args = { ...args, ['k'.repeat(200)]: Array.from({ length: 1_400 }, () => 'a@b.cd') };
    let body = JSON.stringify(args);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const url = `${gw.url}${path}`;
    const signed: Record<string, string> = { ...headers, ...createSignedHeaders(sign, url, headers, body) };
    for (const m of mutations) if (m.kind === 'flip-signature') signed.signature = flipSignatureBit(signed.signature!, m.bit);
    for (const m of mutations) {
      if (m.kind !== 'flip-body') continue;
      const at = m.at % body.length;
      body = body.slice(0, at) + (body[at] === 'x' ? 'y' : 'x') + body.slice(at + 1);
    }
    for (const m of mutations) if (m.kind === 'header') signed[m.name] = m.value;
    const post = () => fetch(url, { method: 'POST', headers: signed, body });
    let response = await post();
    if (has('replay')) {
      await response.arrayBuffer();
      response = await post();
    }
    const text = await response.text();
    let code: string | undefined;
    try {
      const parsed = JSON.parse(text) as { reason?: string; reasons?: { code: string }[] };
      code = parsed.reason ?? parsed.reasons?.map((r) => r.code).join(',');
    } catch {
      code = undefined;
    }
    const id = response.headers.get('toolgate-decision-id');
    const event = decisionEvent(id);
    if (event) assertAuditEvent(event);
    const span = spans.getFinishedSpans().find((s) => s.attributes['toolgate.decision.id'] === id);
    return {
      status: response.status,
      code,
      event: event && { outcome: event.outcome, agent: event.agent, input: event.input != null, reasons: (event.reasons ?? []).map((r) => r.code) },
      span: span && { verified: span.attributes['toolgate.identity.verified'], keyId: span.attributes['toolgate.identity.key_id'], agentId: span.attributes['gen_ai.agent.id'], checkedIn: span.attributes['toolgate.identity.checked_in'] },
    };
  }

  it('gives every generated request, signed or forged, the same answer, audit event and span identity either way', async () => {
    const checkedIn = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const inline = await send(c, 'inline');
        const evaluator = await send(c, 'evaluator');
        const where = String(evaluator.span?.checkedIn);
        checkedIn.set(where, (checkedIn.get(where) ?? 0) + 1);
        const { span: inlineSpan, ...inlineRest } = inline;
        const { span: evaluatorSpan, ...evaluatorRest } = evaluator;
        expect(evaluatorRest).toEqual(inlineRest);
        expect({ ...evaluatorSpan, checkedIn: undefined }).toEqual({ ...inlineSpan, checkedIn: undefined });
        expect(inlineSpan?.checkedIn ?? 'gateway').toBe('gateway');
      }),
      { numRuns: 150, seed: 9421 },
    );
    // The property is about the evaluator path: most generated calls must have been checked there.
    expect(checkedIn.get('evaluator') ?? 0).toBeGreaterThan(50);
  }, 180_000);

  it('refuses a forged signature in the thread, before the policy sees the input, and records no agent', async () => {
    const forged: Case = { agent: 'receipts-bot', call: CALLS['receipts-bot'][0]!, mutations: [{ kind: 'flip-signature', bit: 77 }] };
    const answer = await send(forged, 'evaluator');
    expect(answer).toMatchObject({ status: 401, code: 'signature_invalid', event: { outcome: 'unauthenticated', input: false }, span: { verified: false, checkedIn: 'evaluator' } });
    expect(answer.event!.agent).toMatchObject({ id: null, verified: false });
    // Refused by the input stage while still a claim: the stage runner checks it in line before it answers.
    const forgedTooMany = await send({ ...forged, mutations: [...forged.mutations, { kind: 'findings' }] }, 'evaluator');
    expect(forgedTooMany).toMatchObject({ status: 401, code: 'signature_invalid', event: { outcome: 'unauthenticated', input: false }, span: { verified: false, checkedIn: 'gateway' } });
    const tooMany = await send({ ...forged, mutations: [{ kind: 'findings' }] }, 'evaluator');
    expect(tooMany).toMatchObject({ status: 413, code: 'findings_too_many', span: { verified: true, checkedIn: 'gateway' } });
    // A call naming attachments would read the upload store before its check: it is checked on arrival instead.
    const forgedAttachments = await send({ ...forged, mutations: [...forged.mutations, { kind: 'attachments' }] }, 'evaluator');
    expect(forgedAttachments).toMatchObject({ status: 401, code: 'signature_invalid', span: { verified: false, checkedIn: 'gateway' } });
    const genuine = await send({ ...forged, mutations: [] }, 'evaluator');
    expect(genuine).toMatchObject({ status: 200, event: { outcome: 'allow', input: true }, span: { verified: true, checkedIn: 'evaluator', agentId: 'receipts-bot' } });
  });

  it('records a nonce only once its signature held: a forgery cannot burn the nonce of the genuine call', async () => {
    setSignatureCheckPlacement('evaluator');
    const url = `${gw.url}/tools/trade.suggest`;
    const headers = { 'content-type': 'application/json' };
    const body = JSON.stringify({ symbol: 'VTI', side: 'buy', quantity: 1 });
    const signed = { ...headers, ...createRequestSigner({ privateJwk: gw.agents.keys.advisor, nonce: 'n-forgery-first' })({ method: 'POST', url, headers, body }) };
    const forged = await fetch(url, { method: 'POST', headers: { ...signed, signature: flipSignatureBit(signed.signature, 300) }, body });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { reason: string }).reason).toBe('signature_invalid');
    expect((await fetch(url, { method: 'POST', headers: signed, body })).status).toBe(200);
    expect((await fetch(url, { method: 'POST', headers: signed, body })).status).toBe(401);
  });

  it('does not refuse a genuine call on the thread\'s word alone: a refused proof is checked again in line', async () => {
    // Fault injected at the engine's boundary: the thread says "does not hold" for every proof, genuine ones too.
    const decide = PolicyEngine.prototype.decide;
    const spy = vi.spyOn(PolicyEngine.prototype, 'decide').mockImplementation(function (this: PolicyEngine, input, proof, lane) {
      return proof ? Promise.reject(new ProofFailedError()) : decide.call(this, input, proof, lane);
    });
    try {
      const genuine = await send({ agent: 'receipts-bot', call: CALLS['receipts-bot'][0]!, mutations: [] }, 'evaluator');
      expect(genuine).toMatchObject({ status: 200, event: { outcome: 'allow', input: true }, span: { verified: true, checkedIn: 'gateway', agentId: 'receipts-bot' } });
      const forged = await send({ agent: 'receipts-bot', call: CALLS['receipts-bot'][0]!, mutations: [{ kind: 'flip-signature', bit: 9 }] }, 'evaluator');
      expect(forged).toMatchObject({ status: 401, code: 'signature_invalid', event: { outcome: 'unauthenticated', input: false }, span: { verified: false, checkedIn: 'evaluator' } });
      expect(spy.mock.calls.some(([, proof]) => proof !== undefined)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a replay of a genuine call checked in the thread', async () => {
    const replay = await send({ agent: 'advisor', call: CALLS.advisor[0]!, mutations: [{ kind: 'replay' }] }, 'evaluator');
    expect(replay).toMatchObject({ status: 401, code: 'replayed', event: { outcome: 'unauthenticated', input: false }, span: { verified: false, checkedIn: 'evaluator' } });
  });
});

function createSignedHeaders(sign: ReturnType<typeof createRequestSigner>, url: string, headers: Record<string, string>, body: string): Record<string, string> {
  return { ...sign({ method: 'POST', url, headers, body }) };
}

/** The Signature field with one bit of its signature bytes flipped (still well-formed base64 of 64 bytes). */
function flipSignatureBit(field: string, bit: number): string {
  const match = /^(\w+)=:([^:]*):$/.exec(field)!;
  const bytes = Buffer.from(match[2]!, 'base64');
  bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7));
  return `${match[1]}=:${bytes.toString('base64')}:`;
}
