import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../policy/simulate-cli.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { UsageError } from '../../src/cli/audit.js';
import { policyEval } from '../../src/cli/policy.js';

const INPUT_FILE = 'test/fixtures/policy/inputs/email-send-allow.json';
const input = JSON.parse(readFileSync(INPUT_FILE, 'utf8')) as Record<string, unknown>;

const run = (args: string[], stdin?: string) => runCommand((argv, out) => policyEval(argv, out, stdin === undefined ? undefined : () => stdin), args);

/** Every object's members in reverse order, arrays kept: the same JSON value, spelled differently. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

describe('toolgate policy eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-eval-'));
  const write = (name: string, value: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };

  it('evaluates an input document and prints the decision', { timeout: 30_000 }, async () => {
    const { code, out } = await run(['--input', INPUT_FILE]);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { outcome: string }).outcome).toBe('allow');
  });

  it('replays an audit event: the same decision matches however its members are ordered (the log writes them sorted)', { timeout: 30_000 }, async () => {
    const fresh = JSON.parse((await run(['--input', INPUT_FILE])).out) as unknown;
    for (const [name, recorded] of [['sorted', JSON.parse(canonicalJson(fresh))], ['reversed', reversed(fresh)]] as const) {
      const event = write(`event-${name}.json`, { schema: 'toolgate.audit/v2', type: 'decision', input, result: recorded, masked: [], erased: [] });
      const { code, out } = await run(['--event', event]);
      const report = JSON.parse(out) as Record<string, unknown>;
      expect(report.matches, name).toBe(true);
      expect(report).not.toHaveProperty('recorded');
      expect(report).not.toHaveProperty('note');
      expect(code).toBe(0);
    }
  });

  it('says when a replay differs, shows both decisions, exits 1, and names masked or erased input values', { timeout: 30_000 }, async () => {
    const fresh = JSON.parse((await run(['--input', INPUT_FILE])).out) as Record<string, unknown>;
    const recorded = { ...fresh, outcome: 'deny', reasons: [{ code: 'recipient_not_allowed', message: 'm' }] };
    const event = write('changed.json', { schema: 'toolgate.audit/v2', type: 'decision', input, result: recorded, masked: ['/args/body'], erased: [] });
    const { code, out } = await run(['--event', event]);
    const report = JSON.parse(out) as Record<string, unknown>;
    expect(code).toBe(1);
    expect(report.matches).toBe(false);
    expect((report.result as { outcome: string }).outcome).toBe('allow');
    expect((report.recorded as { outcome: string }).outcome).toBe('deny');
    expect(report.masked).toEqual(['/args/body']);
    expect(report.note).toMatch(/masked or erased/);
  });

  it('reads standard input with -', { timeout: 30_000 }, async () => {
    const { code, out } = await run(['--input', '-'], JSON.stringify(input));
    expect(code).toBe(0);
    expect((JSON.parse(out) as { outcome: string }).outcome).toBe('allow');
  });

  it('refuses what is not one input or one event with input, saying what to give', async () => {
    await expect(run([])).rejects.toThrow(UsageError);
    await expect(run([])).rejects.toThrow(/Give one of --input/);
    await expect(run(['--input', 'a.json', '--event', 'b.json'])).rejects.toThrow(/Give one of --input/);
    await expect(run(['--event', write('bad.json', '{"input": ')])).rejects.toThrow(/could not be read as JSON.*one audit event/);
    await expect(run(['--input', join(dir, 'absent.json')])).rejects.toThrow(/could not be read as JSON.*policy input document/);
    await expect(run(['--event', write('lines.json', [{ input }, { input }])])).rejects.toThrow(/is not an audit event/);
    await expect(run(['--event', write('null.json', 'null')])).rejects.toThrow(/is not an audit event/);
    await expect(run(['--event', write('no-input.json', { schema: 'toolgate.audit/v2', type: 'decision', input: null })])).rejects.toThrow(/carries no input/);
    await expect(run(['--event', '-'], `${JSON.stringify({ input })}\n${JSON.stringify({ input })}\n`)).rejects.toThrow(/could not be read as JSON/);
  });
});
