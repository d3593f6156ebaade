import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refusedInAudit } from '../../src/bench/audit-refusals.js';

describe('the bench names the refused calls when a round is not all allowed', () => {
  it('reads the target\'s audit files for decisions other than allow, with their reasons, at most five', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
    const event = (outcome: string, code: string, id: string) => JSON.stringify({ type: 'decision', outcome, decision_id: id, reasons: code ? [{ code, message: `because ${code}` }] : [] });
    writeFileSync(join(dir, 'audit.jsonl'), [event('allow', '', 'a1'), event('deny', 'secret_in_args', 'd1'), JSON.stringify({ type: 'completion', outcome: 'allow' }), 'torn {', ''].join('\n'));
    writeFileSync(join(dir, 'audit.w1.jsonl'), Array.from({ length: 8 }, (_, i) => event('deny', 'recipient_not_allowed', `w${i}`)).join('\n'));
    const text = await refusedInAudit(dir);
    expect(text).toContain('deny secret_in_args: because secret_in_args (decision d1)');
    writeFileSync(join(dir, 'audit.w2.jsonl'), event('deny', 'third_file', 'x'));
    expect((await refusedInAudit(dir)).split(' | ')).toHaveLength(5);
    expect(await refusedInAudit(mkdtempSync(join(tmpdir(), 'bench-audit-')))).toBe('; the audit holds no refused decision');
    expect(await refusedInAudit(undefined)).toBe('');
  });
});
