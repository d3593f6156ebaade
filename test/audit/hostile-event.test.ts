import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChainSigner, canonicalJson, checkEvent, decisionEvent, sha256Hex, type DecisionEventParts } from '../../src/audit/index.js';
import type { Decision, PolicyInput } from '../../src/policy/types.js';
import { nested } from '../helpers/json-shapes.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const fixture = JSON.parse(readFileSync('test/fixtures/policy/inputs/args-not-object.json', 'utf8')) as PolicyInput;
const deny: Decision = { outcome: 'deny', reasons: [{ code: 'secret_in_args', message: 'no' }], obligations: { limits: [], redact: { request: [], response: [] }, audit: { level: 'standard' }, approval: null } };

function event(args: unknown, secretsAt: string[] = []) {
  const input = { ...fixture, args, findings: { secrets: secretsAt.map((pointer) => ({ type: 'aws_access_key', pointer })), pii: [] } } as unknown as PolicyInput;
  const parts: DecisionEventParts = {
    decisionId: 'd1', timestamp: '2026-11-25T10:00:00.000000000Z', input, decision: deny, outcome: 'deny', reasons: deny.reasons,
    policy: { revision: 'r1', sha256: 'x', bundleName: 'toolgate' }, labels: { id: 'gw', version: '0', environment: 'test' },
    traceId: null, spanId: null, metrics: {}, request: { method: 'POST', path: '/tools/t', bodySha256: 'y' },
  };
  return decisionEvent(parts);
}

describe('the decision event records what the policy saw', () => {
  const text = `{"__proto__":{"to":"x","constructor":{"prototype":["${AWS}"]}},"constructor":1,"prototype":{"__proto__":null}}`;
  const args = JSON.parse(text) as unknown;

  it('keeps __proto__, constructor and prototype members at every depth, masking only the credential', () => {
    const e = event(args, ['/args/__proto__/constructor/prototype/0']);
    const recorded = (e.input as { args: unknown }).args;
    expect(canonicalJson(recorded)).toBe(canonicalJson(JSON.parse(text.replace(AWS, '[REDACTED:aws_access_key]'))));
    expect(e.masked).toEqual(['/input/args/__proto__/constructor/prototype/0']);
    expect(e.request.args_sha256).toBe(sha256Hex(canonicalJson(args)));
  });

  it('chains and verifies, also after a JSONL round trip', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const chained = new ChainSigner(privateKey, 'gw').link(event(args));
    expect(checkEvent(chained, publicKey)).toEqual({ hashOk: true, sigOk: true });
    const read = JSON.parse(JSON.stringify(chained)) as typeof chained;
    expect(Object.hasOwn((read.input as { args: object }).args, '__proto__')).toBe(true);
    expect(checkEvent(read, publicKey)).toEqual({ hashOk: true, sigOk: true });
  });

  it('is built and hashed for arguments of any depth (no RangeError, so a refusal is never left unrecorded)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const deep = nested(50_000, `key ${AWS}`, '__proto__');
    const pointer = `/args/${Array.from({ length: 50_000 }, (_, i) => (i % 2 === 0 ? '__proto__' : '0')).join('/')}`;
    const e = event(deep, [pointer]);
    expect(e.masked).toEqual([`/input${pointer}`]);
    expect(canonicalJson(e.input)).not.toContain(AWS);
    expect(checkEvent(new ChainSigner(privateKey, 'gw').link(e), publicKey)).toEqual({ hashOk: true, sigOk: true });
  });
});
