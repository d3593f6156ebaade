import { describe, expect, it } from 'vitest';
import { parseDecision } from '../../src/policy/decision.js';
import { UnavailableError } from '../../src/errors.js';

describe('parseDecision', () => {
  it('fills defaults for a minimal allow', () => {
    expect(parseDecision({ outcome: 'allow' })).toEqual({
      outcome: 'allow',
      reasons: [],
      obligations: { limits: [], redact: { request: [], response: [] }, audit: { level: 'standard' }, approval: null },
    });
  });

  it('keeps limits, redaction, audit level and approval ttl', () => {
    const d = parseDecision({
      outcome: 'approval_required',
      reasons: [{ code: 'subject_sensitive', message: 'needs approval' }],
      obligations: {
        limits: [{ key: 'agent:a:t', kind: 'rate', window_s: 60, max: 5 }],
        redact: { request: ['/args/content'] },
        audit: { level: 'full' },
        approval: { ttl_s: 900 },
      },
    });
    expect(d.obligations.limits[0]).toEqual({ key: 'agent:a:t', kind: 'rate', window_s: 60, max: 5, cost: 1 });
    expect(d.obligations.redact.request).toEqual(['/args/content']);
    expect(d.obligations.approval).toEqual({ ttl_s: 900 });
  });

  it('accepts redaction of the whole arguments and of anything below them', () => {
    const d = parseDecision({ outcome: 'allow', obligations: { redact: { request: ['/args', '/args/notes/content', '/args/a~1b/0'] } } });
    expect(d.obligations.redact.request).toEqual(['/args', '/args/notes/content', '/args/a~1b/0']);
  });

  // Every malformed decision must fail closed, never turn into an allow.
  it.each([
    null,
    'allow',
    [],
    {},
    { outcome: 'permit' },
    { outcome: 'deny' },
    { outcome: 'deny', reasons: [] },
    { outcome: 'deny', reasons: [{ message: 'no code' }] },
    { outcome: 'allow', reasons: 'x' },
    { outcome: 'allow', obligations: [] },
    { outcome: 'allow', obligations: { limits: [{ key: 'k', kind: 'weird', window_s: 1, max: 1 }] } },
    { outcome: 'allow', obligations: { limits: [{ key: 'k', kind: 'rate', window_s: 0, max: 1 }] } },
    { outcome: 'allow', obligations: { limits: [{ key: 'k', kind: 'rate', window_s: 1, max: -1 }] } },
    { outcome: 'allow', obligations: { limits: [{ key: 'k', kind: 'rate', window_s: 1, max: 1, cost: 'x' }] } },
    { outcome: 'allow', obligations: { redact: { request: [1] } } },
    // The gateway can only redact the arguments: a pointer it cannot honour must not let the call run unredacted.
    { outcome: 'allow', obligations: { redact: { request: ['/request/path'] } } },
    { outcome: 'allow', obligations: { redact: { request: ['/args/content', '/argsx'] } } },
    { outcome: 'allow', obligations: { redact: { request: ['args/content'] } } },
    { outcome: 'allow', obligations: { redact: { request: [''] } } },
    { outcome: 'allow', obligations: { audit: { level: 'loud' } } },
    { outcome: 'allow', obligations: { approval: { ttl_s: 0 } } },
  ])('fails closed on %j', (raw) => {
    expect(() => parseDecision(raw)).toThrow(UnavailableError);
  });
});
