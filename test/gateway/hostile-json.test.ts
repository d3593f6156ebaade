import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/agent/sign-request.js';
import { AgentClient } from '../../src/agent/client.js';
import { approvalBinding } from '../../src/approvals/binding.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { resolveOptions } from '../../src/gateway/options.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { nestedText } from '../helpers/json-shapes.js';

const ACCOUNTANT = 'accountant@ledger-partners.example';

/**
 * Hostile JSON through the real demo gateway, sent as exact bytes and signed by a registered agent (so only
 * extraction stands between the body and the tools): a coded 4xx, the tool never runs, and every refusal is in
 * the audit log under its decision id. What gets through (`__proto__` and friends) reaches the policy, the tool,
 * the audit record and the approver alike.
 */
describe('hostile JSON bodies at the gateway', () => {
  let gw: TestGateway;
  /** Canonical JSON of the arguments each tool run received, in order. */
  const ran: string[] = [];

  beforeAll(async () => {
    const demo = exampleTools();
    const tools = Object.fromEntries(
      Object.entries(demo.tools).map(([name, tool]) => [name, (args: Record<string, unknown>, req: Parameters<typeof tool>[1]) => {
        ran.push(canonicalJson(args));
        return tool(args, req);
      }]),
    );
    gw = await startTestGateway({}, { tools });
  });
  afterAll(() => gw?.close());

  const audit = (): AuditEvent[] => readAuditFile(gw.config.audit.file);

  async function send(path: string, body: string | Buffer, contentType: string | null = 'application/json', extra: Record<string, string> = {}) {
    const url = `${gw.url}${path}`;
    const headers: Record<string, string> = { ...(contentType === null ? {} : { 'content-type': contentType }), ...extra };
    // Bytes, not a string: fetch would add its own Content-Type (text/plain) to a string body.
    const bytes = body.length === 0 ? undefined : new Uint8Array(typeof body === 'string' ? Buffer.from(body) : body);
    const signed = signRequest({ method: 'POST', url, headers, ...(bytes ? { body: bytes } : {}) }, { privateJwk: gw.agents.keys['receipts-bot'] });
    const res = await fetch(url, { method: 'POST', headers: { ...headers, ...signed }, ...(bytes ? { body: bytes } : {}) });
    const json = (await res.json()) as Record<string, unknown>;
    return { status: res.status, json, decisionId: res.headers.get('toolgate-decision-id') };
  }

  /** The refusal's body, over plain HTTP or as a JSON-RPC error's data. */
  const reasonOf = (json: Record<string, unknown>) => ((json.error as { data?: { reason?: string } })?.data?.reason ?? json.reason) as string | undefined;

  function expectRecorded(decisionId: string | null, reason: string): void {
    const event = audit().find((e) => e.decision_id === decisionId);
    expect(event, `audit record of ${decisionId}`).toBeDefined();
    expect(event!.outcome).toBe('invalid');
    expect(event!.reasons.map((r) => r.code)).toEqual([reason]);
  }

  const mcpCall = (args: string) => `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"email.send","arguments":${args}}}`;
  const CASES: [string, string | Buffer, string][] = [
    ['arguments 8,000 deep', `{"to":["${ACCOUNTANT}"],"x":${nestedText(8_000)}}`, 'json_too_deep'],
    ['arguments 10,000 deep', `{"to":["${ACCOUNTANT}"],"x":${nestedText(10_000)}}`, 'json_too_deep'],
    ['20,000 recipients', JSON.stringify({ to: Array.from({ length: 20_000 }, (_, i) => `r${i}@x.example`), subject: 's', body: 'b' }), 'json_too_many_elements'],
    ['invalid UTF-8', Buffer.concat([Buffer.from(`{"to":["${ACCOUNTANT}"],"subject":"a`), Buffer.from([0xc3, 0x28]), Buffer.from('","body":"b"}')]), 'invalid_utf8'],
    ['a lone surrogate', `{"to":["${ACCOUNTANT}"],"subject":"x\\ud800","body":"b"}`, 'invalid_unicode'],
    ['a lone surrogate in a member name', `{"to":["${ACCOUNTANT}"],"subject":"s","body":"b","\\udc00":1}`, 'invalid_unicode'],
    ['1e400', `{"to":["${ACCOUNTANT}"],"subject":"s","body":"b","n":1e400}`, 'number_out_of_range'],
    ['-1e400', `{"to":["${ACCOUNTANT}"],"subject":"s","body":"b","n":[-1e400]}`, 'number_out_of_range'],
    ['an integer that JSON numbers round', `{"to":["${ACCOUNTANT}"],"subject":"s","body":"b","n":9007199254740993}`, 'number_out_of_range'],
  ];

  it.each(CASES)('refuses %s over HTTP and MCP with 400, never runs the tool, and records the refusal', async (_name, body, reason) => {
    const before = ran.length;
    const http = await send('/tools/email.send', body);
    expect(http.status, JSON.stringify(http.json)).toBe(400);
    expect(reasonOf(http.json)).toBe(reason);
    expectRecorded(http.decisionId, reason);
    const mcpBody = typeof body === 'string' ? mcpCall(body) : Buffer.concat([Buffer.from(mcpCall('').slice(0, -2)), body, Buffer.from('}}')]);
    const mcp = await send('/mcp', mcpBody, 'application/json', { accept: 'application/json, text/event-stream' });
    expect(mcp.status, JSON.stringify(mcp.json)).toBe(400);
    expect(mcp.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, data: { reason } } });
    expectRecorded(mcp.decisionId, reason);
    expect(ran.length).toBe(before);
  });

  it('records a client that hangs up mid-body as body_incomplete (400 class), not as an internal error', async () => {
    const before = audit().length;
    const body = JSON.stringify({ to: [ACCOUNTANT], subject: 's', body: 'x'.repeat(1000) });
    const url = new URL(`${gw.url}/tools/email.send`);
    const signed = signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { privateJwk: gw.agents.keys['receipts-bot'] });
    const head = [`POST /tools/email.send HTTP/1.1`, `Host: ${url.host}`, 'Content-Type: application/json', `Content-Length: ${body.length}`, ...Object.entries(signed).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(`${head}\r\n\r\n${body.slice(0, 100)}`, () => {
        socket.destroy();
        resolve();
      }));
      socket.on('error', reject);
    });
    await expect.poll(() => audit().slice(before).map((e) => e.reasons[0]?.code), { timeout: 5000 }).toContain('body_incomplete');
    const event = audit().slice(before).find((e) => e.reasons[0]?.code === 'body_incomplete')!;
    expect(event.outcome).toBe('invalid');
  });

  // Needs the middleware to call requireJsonMediaType after readRawBody (src/gateway/middleware.ts, not this
  // change's file): enable with that one line.
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=iso-8859-1', 'multipart/form-data; boundary=x'])('refuses a JSON body sent as %s with 415, never parsing it', async (type) => {
    const before = ran.length;
    const r = await send('/tools/email.send', JSON.stringify({ to: [ACCOUNTANT], subject: 's', body: 'b' }), type);
    expect(r.status, JSON.stringify(r.json)).toBe(415);
    expect(reasonOf(r.json)).toBe('unsupported_media_type');
    expectRecorded(r.decisionId, 'unsupported_media_type');
    expect(ran.length).toBe(before);
  });

  it('keeps the empty body as no arguments, with or without Content-Type', async () => {
    for (const type of [null, 'application/json']) {
      const r = await send('/tools/email.read_inbox', '', type);
      expect(r.status, JSON.stringify(r.json)).toBe(202);
    }
  });

  it('hands the tool, the audit record and the approver the same arguments, __proto__, constructor and prototype included', async () => {
    const client = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['finance-lead'] });
    const text = '{"__proto__":{"folder":"inbox","constructor":{"prototype":[1]}},"constructor":"c","prototype":{"__proto__":"p"}}';
    const args = JSON.parse(text) as Record<string, unknown>;
    const asked = await send('/tools/email.read_inbox', text);
    expect(asked.status, JSON.stringify(asked.json)).toBe(202);
    const id = (asked.json.approval as { id: string }).id;

    // What the policy saw is what the audit recorded.
    const decided = audit().find((e) => e.decision_id === asked.decisionId)!;
    expect(canonicalJson((decided.input as { args: unknown }).args)).toBe(canonicalJson(args));

    // The approver reads every member, and the approval is bound to exactly those arguments.
    const record = (await client.send('GET', `/approvals/${id}`)).body as { approval: { summary: string; binding: string } };
    expect(canonicalJson(JSON.parse(record.approval.summary))).toBe(canonicalJson(args));
    expect(record.approval.binding).toBe(approvalBinding('receipts-bot', 'email.read_inbox', JSON.parse(record.approval.summary)));
    expect((await client.send('POST', `/approvals/${id}/approve`, {})).status).toBe(200);

    // The approved retry runs the tool with exactly what the approver saw.
    const before = ran.length;
    const retried = await send('/tools/email.read_inbox', text, 'application/json', { 'toolgate-approval': id });
    expect(retried.status, JSON.stringify(retried.json)).toBe(200);
    expect(ran.slice(before)).toEqual([canonicalJson(args)]);
    const allowed = audit().find((e) => e.decision_id === retried.decisionId)!;
    expect(allowed.outcome).toBe('allow');
    expect(canonicalJson((allowed.input as { args: unknown }).args)).toBe(canonicalJson(args));
  });
});

describe('json limits options', () => {
  const base = { policy: { bundle: 'build/policy' }, verifier: { verify: async () => { throw new Error('unused'); } }, audit: { signingKey: generateKeyPairSync('ed25519').privateKey } };

  it('default to 64 levels and 10,000 values, and take overrides', () => {
    expect(resolveOptions(base).json).toEqual({ maxDepth: 64, maxElements: 10_000 });
    expect(resolveOptions({ ...base, json: { maxElements: 50_000 } }).json).toEqual({ maxDepth: 64, maxElements: 50_000 });
  });

  it.each([[{ maxDepth: 0 }, 'json_limits_invalid'], [{ maxElements: '1e4' }, 'json_limits_invalid'], [{ maxDepht: 3 }, 'option_unknown']])('refuses json %j at start-up (%s)', (json, reason) => {
    expect(() => resolveOptions({ ...base, json } as never)).toThrow(expect.objectContaining({ name: 'ConfigError', reason }));
  });
});
