import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IDENTITY_REASONS } from '../../src/identity/types.js';

const readme = readFileSync('README.md', 'utf8');
const policyCodes = Object.keys(JSON.parse(readFileSync('rego/reason_codes.json', 'utf8')) as Record<string, string>);

/** README's reason-code references stay complete: every code a caller can receive is explained there. */
describe('README reason code reference', () => {
  it.each(policyCodes)('documents policy code %s', (code) => {
    expect(readme).toContain(`| \`${code}\` |`);
  });
  it.each([...IDENTITY_REASONS])('documents identity code %s', (code) => {
    expect(readme).toContain(`| \`${code}\` |`);
  });
  it.each(['rate_limited', 'budget_exceeded', 'cooldown_active', 'invalid_json', 'body_too_large', 'audit_unavailable'])('mentions gateway code %s', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });
});
