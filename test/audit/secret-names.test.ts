import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChainSigner, canonicalJson, checkEvent, decisionEvent, sha256Hex, type DecisionEventParts } from '../../src/audit/index.js';
import { scan } from '../../src/classify/scan.js';
import type { Decision, PolicyInput } from '../../src/policy/types.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const EMAIL = 'jane.doe@example.com';
const fixture = JSON.parse(readFileSync('test/fixtures/policy/inputs/args-not-object.json', 'utf8')) as PolicyInput;

function event(args: Record<string, unknown>, redact: string[] = [], message = 'credential (aws_access_key at /args/meta)') {
  // The findings come from the gateway's own scan, as in a real call.
  const input = { ...fixture, args, findings: scan(args, '/args') } as PolicyInput;
  const decision: Decision = {
    outcome: 'deny',
    reasons: [{ code: 'secret_in_args', message }],
    obligations: { limits: [], redact: { request: redact, response: [] }, audit: { level: 'standard' }, approval: null },
  };
  const parts: DecisionEventParts = {
    decisionId: 'd1', timestamp: '2026-11-25T10:00:00.000000000Z', input, decision, outcome: 'deny', reasons: decision.reasons,
    policy: { revision: 'r1', sha256: 'x', bundleName: 'toolgate' }, labels: { id: 'gw', version: '0', environment: 'test' },
    traceId: null, spanId: null, metrics: {}, request: { method: 'POST', path: '/tools/email.send', bodySha256: 'y' },
  };
  return { input, e: decisionEvent(parts) };
}

/**
 * Issue 8, point 4: nothing secret in an audit event, and it records what the policy saw. A credential used as a
 * member name is masked in the recorded input like one in a value; pointers the event keeps beside the input
 * (findings below that member, redaction pointers) lead to the masked name instead of repeating the credential.
 */
describe('a credential as a member name in a decision event', () => {
  const args = JSON.parse(`{"to":["a@b.example"],"meta":{"${AWS}":{"who":"${EMAIL}"},"__proto__":1},"body":"hi"}`) as Record<string, unknown>;

  it('is masked in the recorded input, listed in `masked`, with every other member kept', () => {
    const { input, e } = event(args);
    expect(input.findings.secrets).toEqual([{ type: 'aws_access_key', pointer: '/args/meta', in: 'name' }]);
    const recorded = e.input as PolicyInput;
    expect(canonicalJson(recorded.args)).toBe(canonicalJson(JSON.parse(JSON.stringify(args).replace(AWS, '[REDACTED:aws_access_key]'))));
    expect(Object.hasOwn(recorded.args.meta as object, '__proto__')).toBe(true);
    expect(e.masked).toEqual(['/input/args/meta/[REDACTED:aws_access_key]']);
    expect(e.erased).toEqual([]);
    // The PII finding below the member is kept, pointing at the masked name.
    expect(recorded.findings.pii).toEqual([{ type: 'email', pointer: '/args/to/0' }, { type: 'email', pointer: '/args/meta/[REDACTED:aws_access_key]/who' }]);
    expect(recorded.findings.secrets).toEqual(input.findings.secrets);
    expect(JSON.stringify(e)).not.toContain(AWS);
    expect(e.request.args_sha256).toBe(sha256Hex(canonicalJson(args))); // the hash is of what the policy saw
  });

  it('does not leak through a policy redaction pointer below it; `erased` lists it masked', () => {
    const { e } = event(args, [`/args/meta/${AWS}/who`]);
    expect(JSON.stringify(e)).not.toContain(AWS);
    expect(e.erased).toEqual(['/input/args/meta/[REDACTED:aws_access_key]/who']);
    expect((e.result as Decision).obligations.redact.request).toEqual(['/args/meta/[REDACTED:aws_access_key]/who']);
  });

  it('does not leak through a reason message that quotes an escaped pointer through it', () => {
    // `x/AKIA…` becomes the pointer token `x~1AKIA…`, where the `1` hides the key from the detector's word boundary.
    const nested = { [`x/${AWS}`]: { [`${AWS.slice(0, -1)}Y`]: 1 } };
    const quoted = `credential (aws_access_key at /args, aws_access_key at /args/x~1${AWS})`;
    const { e } = event(nested, [], quoted);
    expect(JSON.stringify(e)).not.toContain(AWS);
    expect(JSON.stringify(e)).not.toContain(`${AWS.slice(0, -1)}Y`);
    expect(e.reasons[0]!.message).toBe('credential (aws_access_key at /args, aws_access_key at /args/x~1[REDACTED:aws_access_key])');
    expect((e.result as Decision).reasons[0]!.message).toBe(e.reasons[0]!.message);
    expect((e.input as PolicyInput).findings.secrets.map((f) => f.pointer)).toEqual(['/args', '/args/x~1[REDACTED:aws_access_key]']);
  });

  it('chains and verifies, also after a JSONL round trip', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const chained = new ChainSigner(privateKey, 'gw').link(event(args).e);
    expect(checkEvent(chained, publicKey)).toEqual({ hashOk: true, sigOk: true });
    const read = JSON.parse(JSON.stringify(chained)) as typeof chained;
    expect(checkEvent(read, publicKey)).toEqual({ hashOk: true, sigOk: true });
    expect(JSON.stringify(read)).not.toContain(AWS);
  });
});
