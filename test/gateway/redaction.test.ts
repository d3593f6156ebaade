import { describe, expect, it } from 'vitest';
import { scan } from '../../src/classify/scan.js';
import type { ToolCall } from '../../src/extract/types.js';
import { applyRequestRedaction } from '../../src/gateway/redaction.js';

const MAIL = 'jane.doe@example.com';

function call(protocol: 'http' | 'mcp', args: Record<string, unknown>): ToolCall {
  const body = protocol === 'http' ? args : { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'memory.write', arguments: args } };
  return { tool: 'memory.write', protocol, args, body, ...(protocol === 'mcp' ? { rpcId: 7 } : {}) };
}

/**
 * Issue 8, point 6: the policy redacts at every PII finding's pointer, and a finding in a member name points at the
 * object holding the member. Redaction at an object pointer must reach the name: the tool receives the object with
 * the name masked, every other member kept, over both protocols.
 */
describe.each(['http', 'mcp'] as const)('request redaction at an object pointer, over %s', (protocol) => {
  it('masks a member name the scan flagged and hands the tool the redacted arguments', () => {
    const args = { scope: 'room', notes: { [MAIL]: 'met at standup', list: [{ [`cc ${MAIL}`]: 1 }], plain: 'kept' } };
    const c = call(protocol, args);
    const pointers = scan(c.args, '/args').pii.map((f) => f.pointer);
    expect(pointers).toEqual(['/args/notes', '/args/notes/list/0']);
    const removed = applyRequestRedaction(c, pointers);
    const expected = { scope: 'room', notes: { '[REDACTED:email]': 'met at standup', list: [{ 'cc [REDACTED:email]': 1 }], plain: 'kept' } };
    expect(c.args).toEqual(expected);
    expect(protocol === 'http' ? c.body : (c.body as { params: { arguments: unknown } }).params.arguments).toEqual(expected);
    expect(JSON.stringify(c.body)).not.toContain(MAIL);
    expect(removed).toEqual([
      { pointer: '/args/notes/[REDACTED:email]', types: ['email'], in: 'name' },
      { pointer: '/args/notes/list/0/cc [REDACTED:email]', types: ['email'], in: 'name' },
    ]);
    expect(JSON.stringify(args)).toContain(MAIL); // the parsed body the gateway judged is not mutated
  });

  it('masks top-level names when the pointer is /args itself', () => {
    const c = call(protocol, { scope: 'room', [MAIL]: 'x' });
    applyRequestRedaction(c, scan(c.args, '/args').pii.map((f) => f.pointer));
    expect(c.args).toEqual({ scope: 'room', '[REDACTED:email]': 'x' });
  });
});
