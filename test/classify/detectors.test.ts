import { describe, expect, it } from 'vitest';
import { detect, mask, MAX_FINDINGS, MAX_MATCHES_PER_DETECTOR, scan } from '../../src/classify/index.js';
import { referenceDetect } from './reference-detectors.js';

const types = (s: string) => detect(s).map((m) => m.type);

describe('detectors', () => {
  it.each([
    ['aws key AKIAIOSFODNN7EXAMPLE here', 'aws_access_key'],
    ['-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----', 'private_key'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA', 'private_key'],
    ['token ghp_' + 'a1B2c3D4e5'.repeat(4), 'github_token'],
    ['xoxb-123456789012-abcdefghij', 'slack_token'],
    ['sk_live_' + 'abcdefghijklmnop1234', 'stripe_key'],
    ['sk-proj-' + 'Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8', 'openai_key'],
    ['api_key = "Zx9Qw8Er7Ty6Ui5Op4As3Df"', 'api_key'],
    ['my seed phrase: abandon ability able about above absent absorb abstract absurd abuse access accident', 'seed_phrase'],
    ['write to jane.doe@example.com', 'email'],
    ['ssn 123-45-6789', 'us_ssn'],
    ['card 4111 1111 1111 1111', 'credit_card'],
  ])('finds %j as %s', (text, type) => {
    expect(types(text)).toContain(type);
  });

  it.each([
    'Receipts for October attached, total 1234.56 EUR',
    'api_key = aaaaaaaaaaaaaaaaaaaa',
    'card 4111 1111 1111 1112',
    'order 2026-11-25 quantity 10',
    'the seed of the idea',
  ])('leaves %j alone', (text) => {
    expect(types(text).filter((t) => t !== 'phone')).toEqual([]);
  });

  it('reports findings with JSON Pointers and masks without mutating', () => {
    const args = { body: 'key AKIAIOSFODNN7EXAMPLE', 'a/b': ['x jane@example.com'] };
    expect(scan(args, '/args')).toEqual({
      secrets: [{ type: 'aws_access_key', pointer: '/args/body' }],
      pii: [{ type: 'email', pointer: '/args/a~1b/0' }],
    });
    const out = mask(args, '/args', { pointers: ['/args/a~1b'] });
    expect(out.value).toEqual({ body: 'key [REDACTED:aws_access_key]', 'a/b': '[REDACTED]' });
    expect(out.erased).toEqual([
      { pointer: '/args/body', types: ['aws_access_key'] },
      { pointer: '/args/a~1b', types: ['removed'] },
    ]);
    expect(args.body).toBe('key AKIAIOSFODNN7EXAMPLE');
  });

  it('stays fast on hostile input', () => {
    const hostile = 'a'.repeat(200_000) + '@' + '1-'.repeat(50_000);
    const t = performance.now();
    scan({ x: hostile, y: Array.from({ length: 1000 }, () => 'AKIA') }, '/args');
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('scans every string whole: a secret after 256 KiB of text is found and masked', () => {
    const args = { body: `${'Lorem ipsum dolor sit amet. '.repeat(12_000)}key AKIAIOSFODNN7EXAMPLE` };
    expect(scan(args, '/args').secrets).toEqual([{ type: 'aws_access_key', pointer: '/args/body' }]);
    expect(JSON.stringify(mask(args, '/args').value)).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('scans strings at any depth, without recursion', () => {
    let deep: unknown = 'key AKIAIOSFODNN7EXAMPLE';
    for (let i = 0; i < 10_000; i++) deep = i % 2 ? { a: deep } : [deep];
    const { secrets } = scan({ deep }, '/args');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.pointer.split('/')).toHaveLength(10_003);
  });

  it('reports one finding per type and string, in document order', () => {
    const args = { a: 'x@example.com y@example.com', b: ['ssn 123-45-6789', 'z@example.com'] };
    expect(scan(args, '/args').pii).toEqual([
      { type: 'email', pointer: '/args/a' },
      { type: 'us_ssn', pointer: '/args/b/0' },
      { type: 'email', pointer: '/args/b/1' },
    ]);
  });

  it('past MAX_MATCHES_PER_DETECTOR findings, masks the rest of the string as that type', () => {
    const addresses = Array.from({ length: MAX_MATCHES_PER_DETECTOR + 500 }, (_, i) => `user${i}@example.com`);
    const text = `${addresses.join(', ')} key AKIAIOSFODNN7EXAMPLE ssn 123-45-6789`;
    const matches = detect(text);
    const emails = matches.filter((m) => m.type === 'email');
    expect(emails).toHaveLength(MAX_MATCHES_PER_DETECTOR + 2); // the findings, then the rest around the key
    expect(emails.at(-1)!.end).toBe(text.length);
    // The secret detectors ran first: the key keeps its own type inside the e-mail detector's rest.
    expect(matches.filter((m) => m.type === 'aws_access_key')).toHaveLength(1);
    const masked = mask({ text }, '/args', { classes: new Set(['secret', 'pii']) }).value as { text: string };
    expect(masked.text).not.toMatch(/@example\.com|AKIA|6789/);
    expect(masked.text.endsWith('[REDACTED:email][REDACTED:aws_access_key][REDACTED:email]')).toBe(true);
  });

  it('keeps thousands of findings cheap: no pairwise comparison; past MAX_FINDINGS it refuses, as cheaply', () => {
    const text = 'jane.doe@example.com '.repeat(50_000);
    const before = process.cpuUsage();
    const { pii } = scan({ text, list: text.split(' ').slice(0, MAX_FINDINGS - 1) }, '/args');
    expect(pii).toHaveLength(MAX_FINDINGS);
    expect(() => scan({ text, list: text.split(' ') }, '/args')).toThrow(expect.objectContaining({ reason: 'findings_too_many' }));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(2000);
  });
});

describe('api_key entropy on values the length of a body', () => {
  // The pattern's value class runs on through `token=xoxb-token=...`, so the entropy check reads the whole body.
  const MiB = 1 << 20;
  const random = Array.from({ length: MiB }, (_, i) => 'A1b2C3d4E5f6G7h8I9j0KkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz_-+/='[(i * 7919) % 57]).join('');

  it('finds a high-entropy value and passes a repetitive one, as the reference detectors do', () => {
    for (const text of [`token=${random}`, 'token=xoxb-'.repeat(MiB / 11)]) {
      const found = detect(text).filter((m) => m.type === 'api_key');
      expect(found, text.slice(0, 20)).toEqual(referenceDetect(text).filter((m) => m.type === 'api_key'));
    }
    expect(detect(`token=${random}`).some((m) => m.type === 'api_key')).toBe(true);
    expect(detect('token=xoxb-'.repeat(MiB / 11)).some((m) => m.type === 'api_key')).toBe(false);
  });
});
