import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classifyRoute, looseForm } from '../../src/gateway/routes.js';
import { targetVariant } from '../helpers/targets.js';

const paths = { toolsPath: '/tools', mcpPath: '/mcp' };

describe('classifyRoute', () => {
  it.each([
    ['POST', '/tools/email.send', { kind: 'http', tool: 'email.send' }],
    ['POST', '/tools/a_b-c.9', { kind: 'http', tool: 'a_b-c.9' }],
    ['POST', '/mcp', { kind: 'mcp' }],
    ['GET', '/mcp', { kind: 'mcp-session', method: 'GET' }],
    ['DELETE', '/mcp', { kind: 'mcp-session', method: 'DELETE' }],
    ['POST', '/healthz', null],
    ['GET', '/toolsx/y', null],
    ['POST', '/mcpx', null],
    ['POST', '/approvals/abc/approve', null],
  ])('%s %s', (method, target, expected) => {
    expect(classifyRoute(method, target, paths)).toEqual(expected);
  });

  it.each([
    ['POST', '/Tools/email.send'],
    ['POST', '/TOOLS/email.send'],
    ['POST', '/tools/email.send/'],
    ['POST', '//tools/email.send'],
    ['POST', '/tools//email.send'],
    ['POST', '/tools/email%2Esend'],
    ['POST', '/%74ools/email.send'],
    ['POST', '/tools/%2e%2e%2fadmin'],
    ['POST', '/tools/./email.send'],
    ['POST', '/x/../tools/email.send'],
    ['POST', '/tools;a=b/email.send'],
    ['POST', '/tools/email.send;x'],
    ['POST', 'http://127.0.0.1:8080/tools/email.send'],
    ['POST', '/tools/email.send?x=1'],
    ['POST', '/tools/email.send?'],
    ['POST', '/tools'],
    ['POST', '/tools/'],
    ['POST', '/MCP'],
    ['POST', '/mcp/'],
    ['POST', '/mcp?x'],
    ['GET', 'http://h/mcp'],
    ['POST', '/%6d%63%70'],
    ['POST', '/%256d%2563%2570'],
    ['POST', '/tools\\email.send'],
    ['POST', '/mcp%00'],
    ['POST', '/\u212Acp'.replace('\u212A', '%E2%84%AA')], // not protected: Kelvin sign is not m
    ['POST', '/tools/' + 'a'.repeat(129)],
  ])('%s %s is refused, not passed through', (method, target) => {
    const route = classifyRoute(method, target, paths);
    if (target.includes('%E2%84%AA')) return expect(route).toBeNull();
    expect(route).toMatchObject({ kind: 'invalid', error: { reason: 'path_noncanonical' } });
  });

  it.each([
    ['GET', '/tools/email.send'],
    ['PUT', '/tools/email.send'],
    ['HEAD', '/mcp'],
    ['OPTIONS', '/mcp'],
    ['PATCH', '/mcp'],
  ])('%s %s is method_not_allowed', (method, target) => {
    expect(classifyRoute(method, target, paths)).toMatchObject({ kind: 'invalid', error: { reason: 'method_not_allowed' } });
  });

  it('folds compatibility characters an insensitive matcher would fold', () => {
    expect(looseForm('/\u017Fomething')).toBe('/something'); // long s
    expect(looseForm('/%E2%84%AAey')).toBe('/key'); // Kelvin sign
  });

  it('honours configured paths', () => {
    const custom = { toolsPath: '/api/tools', mcpPath: '/api/mcp' };
    expect(classifyRoute('POST', '/api/tools/x', custom)).toEqual({ kind: 'http', tool: 'x' });
    expect(classifyRoute('POST', '/API/tools/x', custom)).toMatchObject({ kind: 'invalid' });
    expect(classifyRoute('POST', '/tools/x', custom)).toBeNull();
  });

  it('property: every spelling of a protected target is the canonical route or refused, never passed through', () => {
    fc.assert(
      fc.property(targetVariant('http://127.0.0.1:8080'), fc.constantFrom('POST', 'GET', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'PATCH'), (v, method) => {
        const route = classifyRoute(method, v.target, paths);
        expect(route, v.target).not.toBeNull();
        // A case change inside the tool name names another tool (decided on its own), not another spelling.
        const canonical = v.target === '/mcp' || /^\/tools\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v.target);
        if (!canonical) expect(route?.kind, v.target).toBe('invalid');
      }),
      { numRuns: 3000 },
    );
  });

  it('stays cheap on the longest target Node accepts (16 KiB of dot segments, escapes and params)', () => {
    const hostile = `/${'%2e%2e/'.repeat(1000)}${'a;b/'.repeat(2000)}tools/x`.slice(0, 16 * 1024);
    const plain = `/approvals/${'a'.repeat(16 * 1024)}`;
    for (const target of [hostile, plain]) {
      const t = performance.now();
      classifyRoute('POST', target, paths);
      expect(performance.now() - t, target.slice(0, 40)).toBeLessThan(150);
    }
  });
});
