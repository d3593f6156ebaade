import { describe, expect, it } from 'vitest';
import { workerEnv } from '../../src/server/cluster.js';
import { loadServerConfig } from '../../src/server/config.js';

describe('a worker\'s environment', () => {
  const base = { TOOLGATE_STATE_DIR: '/var/lib/toolgate', TOOLGATE_GATEWAY_ID: 'gw' };
  it('gives each worker its own audit chain and id', () => {
    const config = loadServerConfig(base);
    expect(workerEnv(config, 2, 3)).toEqual({
      TOOLGATE_GATEWAY_ID: 'gw-w2',
      TOOLGATE_AUDIT_FILE: '/var/lib/toolgate/audit.w2.jsonl',
      TOOLGATE_AUDIT_SPOOL_DIR: '/var/lib/toolgate/spool/w2',
      TOOLGATE_SIGNATURE_CHECK: 'evaluator',
    });
  });

  it('checks signatures in the evaluator threads of each worker unless the operator chose where', () => {
    expect(workerEnv(loadServerConfig({ ...base, TOOLGATE_SIGNATURE_CHECK: 'pool' }), 1, 2).TOOLGATE_SIGNATURE_CHECK).toBe('pool');
    expect(workerEnv(loadServerConfig({ ...base, TOOLGATE_SIGNATURE_CHECK: 'inline' }), 1, 2).TOOLGATE_SIGNATURE_CHECK).toBe('inline');
    expect(loadServerConfig(base).signatureCheck).toBeUndefined();
    expect(() => loadServerConfig({ ...base, TOOLGATE_SIGNATURE_CHECK: 'threads' })).toThrow(expect.objectContaining({ reason: 'signature_check_invalid', message: expect.stringMatching(/"inline".*"evaluator".*"pool"/) }));
  });

  it('lets every worker\'s console read every worker\'s file, unless the operator named them or Kafka holds them all', () => {
    const files = '/var/lib/toolgate/audit.w1.jsonl,/var/lib/toolgate/audit.w2.jsonl,/var/lib/toolgate/audit.w3.jsonl';
    expect(workerEnv(loadServerConfig({ ...base, TOOLGATE_CONSOLE: 'true' }), 1, 3).TOOLGATE_CONSOLE_AUDIT_FILES).toBe(files);
    expect(workerEnv(loadServerConfig({ ...base, TOOLGATE_CONSOLE: 'true', TOOLGATE_CONSOLE_AUDIT_FILES: '/x.jsonl' }), 1, 3).TOOLGATE_CONSOLE_AUDIT_FILES).toBeUndefined();
    expect(workerEnv(loadServerConfig({ ...base, TOOLGATE_CONSOLE: 'true', TOOLGATE_KAFKA_BROKERS: '127.0.0.1:9092' }), 1, 3).TOOLGATE_CONSOLE_AUDIT_FILES).toBeUndefined();
    expect(workerEnv(loadServerConfig(base), 1, 3).TOOLGATE_CONSOLE_AUDIT_FILES).toBeUndefined();
  });
});
