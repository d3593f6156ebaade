import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalBinding, argsSha256 } from '../../src/approvals/binding.js';
import { newApprovalRecord } from '../../src/approvals/record.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { mask } from '../../src/classify/mask.js';
import { jsonObject, PROTO_KEYS } from '../helpers/json-shapes.js';

/** The approver's view, built as the gateway builds it for a pending approval (credentials masked, nothing else). */
const summaryOf = (args: unknown) => mask(args, '/args', { classes: new Set(['secret']) });

describe('the approval binding and the approver\'s summary are the same arguments', () => {
  it.each(PROTO_KEYS)('a %s member is in the summary and in the binding, at every depth', (key) => {
    const args = JSON.parse(`{"${key}":{"to":"x","${key}":[{"${key}":1}]},"ok":true}`) as unknown;
    const summary = JSON.stringify(summaryOf(args).value);
    expect(summary).toBe(JSON.stringify(args));
    expect(approvalBinding('a', 't', JSON.parse(summary))).toBe(approvalBinding('a', 't', args));
    expect(approvalBinding('a', 't', args)).not.toBe(approvalBinding('a', 't', { ok: true }));
  });

  it('property: without credentials, the summary parses back to arguments with the same binding', () => {
    fc.assert(
      fc.property(jsonObject, (args) => {
        const { value, erased } = summaryOf(args);
        fc.pre(erased.length === 0);
        const shown = JSON.parse(JSON.stringify(value)) as unknown;
        expect(canonicalJson(shown)).toBe(canonicalJson(args));
        expect(approvalBinding('agent', 'tool', shown)).toBe(approvalBinding('agent', 'tool', args));
        expect(argsSha256(shown)).toBe(argsSha256(args));
      }),
      { numRuns: 500 },
    );
  });

  it('a credential is masked in the summary, and only the credential', () => {
    const args = JSON.parse('{"__proto__":{"key":"AKIAIOSFODNN7EXAMPLE","note":"n"}}') as unknown;
    expect(JSON.stringify(summaryOf(args).value)).toBe('{"__proto__":{"key":"[REDACTED:aws_access_key]","note":"n"}}');
  });

  it('the stored summary of a large call is whole: nothing the tool will receive is cut from the approver\'s view', () => {
    const args = { to: ['accountant@ledger-partners.example'], body: 'x'.repeat(200_000), tail: 'the part a cut would hide' };
    const record = newApprovalRecord({ agent: 'a', tool: 'email.send', args, reasons: [], decisionId: 'd', nowMs: 0, summary: JSON.stringify(summaryOf(args).value) });
    expect(JSON.parse(record.summary!)).toEqual(args);
  });
});
