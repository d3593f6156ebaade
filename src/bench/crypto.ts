/**
 * Micro-benchmarks of the audit and crypto levers of issue 11 (point 4), each before and after, in this process:
 * Ed25519 sign and verify through node:crypto and libsodium, and the audit record's per-event work — the v1 way
 * (canonical JSON for the hash, an Ed25519 signature per event, JSON.stringify for the line) against the chain's
 * (one serialisation, one checkpoint signature per batch). CPU time (process.cpuUsage), so other processes on a
 * shared machine do not inflate it; median of the rounds. Run: `node dist/bench/crypto.js [iterations] [rounds]`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { auditLine, ChainSigner, completionEvent, eventHash, GENESIS, type AuditEvent, type UnchainedEvent } from '../audit/index.js';
import { ed25519, nodeEd25519, type Ed25519 } from '../identity/ed25519.js';
import { median } from './stats.js';

export interface CryptoBenchSpec {
  readonly iterations: number;
  readonly rounds: number;
}

export interface CryptoRow {
  readonly name: string;
  /** CPU µs per operation (per event for the audit rows), median of the rounds. */
  readonly us: number;
}

/** CPU µs per call of `fn`, median over rounds of `iterations` calls, after a warm-up. */
function cpuPerCall(fn: (i: number) => unknown, spec: CryptoBenchSpec): number {
  for (let i = 0; i < Math.max(50, spec.iterations >> 3); i++) fn(i);
  const rounds: number[] = [];
  for (let r = 0; r < spec.rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < spec.iterations; i++) fn(i);
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / spec.iterations);
  }
  return median(rounds);
}

/** A decision event the size and shape of the bench's allowed email.send (about 2 KB as a line). */
export function sampleDecisionEvent(id: string): UnchainedEvent {
  const args = { to: ['accountant@ledger-partners.example'], subject: 'Receipts for October', body: 'Please find the receipts attached.', attachments: [] };
  return {
    schema: 'toolgate.audit/v2', type: 'decision', decision_id: id, timestamp: '2026-11-25T10:00:00.123456789Z', path: 'toolgate/decision',
    input: {
      agent: { id: 'receipts-bot', scheme: 'rfc9421', verified: true, key_id: 'k1', thumbprint: 'Jd6Yt3Qj0v7s3Cw1oVY8wB6Qm3n9Z2xk4L5pR7tU8eA', labels: { team: 'finance' } },
      tool: { name: 'email.send', protocol: 'http' }, args,
      request: { method: 'POST', path: '/tools/email.send', content_type: 'application/json', content_length: 180 },
      context: { environment: 'development', timezone: 'UTC', gateway_id: 'bench', time: { now_ns: 1764064800123, weekday: 'Tuesday', hour: 10 } },
      findings: { secrets: [], pii: [{ type: 'email', pointer: '/args/to/0' }] }, resources: { attachments: [] }, approval: null, break_glass: null,
    },
    result: { outcome: 'allow', reasons: [], obligations: { redact: { request: [], response: [] }, audit: { level: 'standard' }, limits: [{ key: 'email.send:receipts-bot', window_s: 3600, max: 50 }] } },
    bundles: { toolgate: { revision: 'demo-1' } }, erased: [], masked: [], metrics: { timer_identity_ns: 210000, timer_policy_ns: 95000 },
    trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', labels: { id: 'bench', version: '0.1.0', environment: 'development' },
    agent: { id: 'receipts-bot', scheme: 'rfc9421', verified: true, key_id: 'k1', thumbprint: 'Jd6Yt3Qj0v7s3Cw1oVY8wB6Qm3n9Z2xk4L5pR7tU8eA' },
    tool: { name: 'email.send', protocol: 'http' }, outcome: 'allow', reasons: [], policy: { revision: 'demo-1', sha256: 'a'.repeat(64) },
    request: { method: 'POST', path: '/tools/email.send', body_sha256: 'b'.repeat(64), args_sha256: 'c'.repeat(64), attachments: [] },
    response: null, approval: null, break_glass: null,
  } as unknown as UnchainedEvent;
}

/** The v1 record: hash over the canonical JSON, a signature per event (node:crypto), JSON.stringify for the line. */
function v1Record(backend: Ed25519, privateKey: Parameters<Ed25519['signer']>[0]): (event: UnchainedEvent, prev: string, seq: number) => string {
  const sign = backend.signer(privateKey);
  return (event, prev, seq) => {
    const partial = { instance: 'bench', epoch: '2026-11-25T10:00:00.000Z', seq, prev, key_id: 'k' };
    const hash = eventHash(prev, { ...event, chain: partial });
    const sig = sign(Buffer.from(hash, 'hex')).toString('base64url');
    return JSON.stringify({ ...event, chain: { ...partial, hash, sig } } satisfies AuditEvent);
  };
}

export function benchCrypto(spec: CryptoBenchSpec): CryptoRow[] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const message = Buffer.alloc(32, 7);
  const rows: CryptoRow[] = [];
  const sodium = ed25519();
  for (const backend of [nodeEd25519, sodium]) {
    const sign = backend.signer(privateKey);
    const verify = backend.verifier(publicKey);
    const signature = sign(message);
    rows.push({ name: `Ed25519 sign, ${backend.backend}`, us: cpuPerCall(() => sign(message), spec) });
    rows.push({ name: `Ed25519 verify, ${backend.backend}`, us: cpuPerCall(() => verify(message, signature), spec) });
  }
  const events = Array.from({ length: 64 }, (_, i) => sampleDecisionEvent(`d${i}`));
  const v1 = v1Record(nodeEd25519, privateKey);
  rows.push({ name: 'audit event, v1 (canonical hash + JSON.stringify line + node:crypto signature per event)', us: cpuPerCall((i) => v1(events[i & 63]!, GENESIS, i), spec) });
  const v1Sodium = v1Record(sodium, privateKey);
  rows.push({ name: `audit event, v1 with ${sodium.backend} signature per event`, us: cpuPerCall((i) => v1Sodium(events[i & 63]!, GENESIS, i), spec) });
  const v2 = (name: string, of: readonly UnchainedEvent[], batch: number): CryptoRow => {
    const signer = new ChainSigner(privateKey, 'bench');
    const group = of.slice(0, batch);
    const us = cpuPerCall(() => {
      for (const e of signer.draft(group)) auditLine(e);
    }, { ...spec, iterations: Math.max(1, Math.round(spec.iterations / batch)) }) / batch;
    return { name: `${name} (one serialisation, ${sodium.backend} checkpoint per batch of ${batch})`, us };
  };
  for (const batch of [1, 4, 16]) rows.push(v2(AUDIT_V2_ROW, events, batch));
  // An allowed call's second event: its completion (the response's status), the decision's members without the input.
  const completions = events.map((e) => completionEvent(e, 200, [], '2026-11-25T10:00:00.223456789Z', 3));
  rows.push(v2(AUDIT_V2_COMPLETION_ROW, completions, 16));
  return rows;
}

/** The rows of the audit record as the gateway makes it (v2): one event chained, serialised and its share of a checkpoint signed. */
export const AUDIT_V2_ROW = 'audit event, v2';
export const AUDIT_V2_COMPLETION_ROW = 'audit completion event, v2';

/**
 * What recording an allowed call's two audit events costs at best, as the gateway records them: the cheapest
 * decision row (the largest batch shares its checkpoint signature most) plus the completion's; undefined when the
 * rows lack either.
 */
export function auditEventsUs(rows: readonly CryptoRow[] | undefined): number | undefined {
  const total = leastRow(rows, AUDIT_V2_ROW) + leastRow(rows, AUDIT_V2_COMPLETION_ROW);
  return Number.isFinite(total) ? total : undefined;
}

/** The decision event's part of auditEventsUs: what recording it costs at best, before its tool can run. */
export function decisionEventUs(rows: readonly CryptoRow[] | undefined): number | undefined {
  const least = leastRow(rows, AUDIT_V2_ROW);
  return Number.isFinite(least) ? least : undefined;
}

/** The cheapest of the rows named `prefix (...)`; Infinity when there is none. */
function leastRow(rows: readonly CryptoRow[] | undefined, prefix: string): number {
  return Math.min(...(rows ?? []).filter((r) => r.name.startsWith(`${prefix} (`) && Number.isFinite(r.us)).map((r) => r.us));
}

export function formatCrypto(rows: readonly CryptoRow[]): string {
  return ['| operation | CPU µs |', '|---|---:|', ...rows.map((r) => `| ${r.name} | ${r.us.toFixed(1)} |`)].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [iterations = '4000', rounds = '5'] = process.argv.slice(2);
  process.stdout.write(`${formatCrypto(benchCrypto({ iterations: Number(iterations), rounds: Number(rounds) }))}\n`);
}
