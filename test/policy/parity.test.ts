import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, PolicyEngine } from '../../src/policy/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';
import { services } from '../helpers/services.js';

const run = promisify(execFile);
const dir = 'test/fixtures/policy/inputs';
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

/** The compiled WASM bundle and `opa eval` on the Rego source must agree on every fixture input. */
describe('WASM bundle vs opa eval parity', () => {
  const { opa } = services();
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.load(await loadBundle(POLICY_BUNDLE));
  });

  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
  });

  it.each(fixtures)('%s', async (file) => {
    const path = join(dir, file);
    const input = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    const wasm = engine.evaluateRaw(input);
    const { stdout } = await run(opa, ['eval', '--format', 'json', '--ignore', '*_test.rego', '-d', 'rego/', '-i', path, 'data.toolgate.decision'], { maxBuffer: 16 * 1024 * 1024 });
    const rego = (JSON.parse(stdout) as { result?: { expressions: { value: unknown }[] }[] }).result?.[0]?.expressions[0]?.value;
    expect(rego).toBeDefined();
    expect(wasm).toEqual(rego);
  });
});
