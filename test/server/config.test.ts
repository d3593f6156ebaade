import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/server/config.js';
import { ConfigError } from '../../src/errors.js';

const file = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'tg-config-')), 'toolgate.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('loadServerConfig', () => {
  it('has embedded defaults: file audit sink, memory state, loopback', () => {
    const c = loadServerConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, environment: 'development', policyBundle: 'build/policy', redisUrl: undefined, timezone: undefined });
    expect(c.audit).toMatchObject({ file: '.toolgate/audit.jsonl', kafka: undefined, failClosed: true, durability: 'spool' });
    expect(c.telemetry).toEqual({ serviceName: 'toolgate', otlpEndpoint: undefined });
  });

  it('lets environment variables override the file', () => {
    const path = file({ port: 9000, environment: 'staging', audit: { kafka: { brokers: ['k1:9092'], topic: 't1' } }, identity: { production: true } });
    const c = loadServerConfig({ TOOLGATE_CONFIG: path, PORT: '9100', TOOLGATE_KAFKA_BROKERS: 'a:1, b:2', TOOLGATE_AUDIT_TOPIC: 't2' });
    expect(c.port).toBe(9100);
    expect(c.environment).toBe('staging');
    expect(c.audit.kafka).toEqual({ brokers: ['a:1', 'b:2'], topic: 't2' });
    expect(c.identity).toEqual({ production: true });
  });

  it.each([
    [{ TOOLGATE_CONFIG: '/nonexistent.json' }, 'config_file_invalid'],
    [{ TOOLGATE_CONFIG: file('{not json') }, 'config_file_invalid'],
    [{ TOOLGATE_CONFIG: file({ prot: 1 }) }, 'config_key_unknown'],
    [{ TOOLGATE_CONFIG: file({ identity: { nonceStore: {} } }) }, 'config_identity_invalid'],
    [{ TOOLGATE_CONFIG: file({ identity: [] }) }, 'config_identity_invalid'],
    [{ PORT: 'eighty' }, 'port_invalid'],
    [{ PORT: '70000' }, 'port_invalid'],
    [{ TOOLGATE_AUDIT_FAIL_CLOSED: 'yes' }, 'fail_closed_invalid'],
    [{ TOOLGATE_AUDIT_DURABILITY: 'maybe' }, 'durability_invalid'],
  ])('refuses %j with %s', (env, reason) => {
    const run = () => loadServerConfig(env);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(expect.objectContaining({ reason }));
  });
});
