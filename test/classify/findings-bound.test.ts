import { describe, expect, it } from 'vitest';
import { MAX_FINDING_POINTER_CHARS, MAX_FINDINGS, scan, scanYielding } from '../../src/classify/scan.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';

describe('the findings a value may carry into the policy input are bounded', () => {
  it('reports every finding up to the bound, in both scans', async () => {
    const args = { to: Array.from({ length: MAX_FINDINGS }, (_, i) => `user${i}@example.com`) };
    expect(scan(args, '/args').pii).toHaveLength(MAX_FINDINGS);
    expect((await scanYielding(args, '/args', { pause: async () => undefined })).pii).toHaveLength(MAX_FINDINGS);
  });

  it('refuses one finding more, rather than judge the call on part of them', async () => {
    const args = { to: Array.from({ length: MAX_FINDINGS }, (_, i) => `user${i}@example.com`), key: AWS };
    expect(() => scan(args, '/args')).toThrow(expect.objectContaining({ reason: 'findings_too_many', message: expect.stringMatching(/more than 2000 secrets or pieces of personal data.*split the list/) }));
    await expect(scanYielding(args, '/args', { pause: async () => undefined })).rejects.toMatchObject({ reason: 'findings_too_many' });
  });

  it('refuses findings whose pointers repeat a long member name past the pointer bound (the input grew quadratically)', () => {
    // 600 KB of arguments: a 300,000-character name over 33,000 short addresses, each a finding whose pointer repeats it.
    const name = 'k'.repeat(300_000);
    expect(() => scan({ [name]: ['a@b.cd'] }, '/args')).toThrow(expect.objectContaining({ reason: 'findings_too_many', message: expect.stringContaining('member names too long') }));
    const shorter = 'k'.repeat(1_000);
    const many = { [shorter]: Array.from({ length: 300 }, () => 'a@b.cd') };
    expect(300 * (shorter.length + 10)).toBeGreaterThan(MAX_FINDING_POINTER_CHARS);
    expect(() => scan(many, '/args')).toThrow(expect.objectContaining({ reason: 'findings_too_many' }));
  });
});
