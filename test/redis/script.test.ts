import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { connectRedis, evalScript, script, type SendCommand } from '../../src/redis/index.js';
import { useTestRedis } from '../helpers/redis.js';

const redis = useTestRedis();

describe('evalScript: EVALSHA, EVAL on NOSCRIPT', () => {
  // A fresh script per test: its SHA is unknown to a shared Redis until the first EVAL caches it.
  const echo = () => script(`return {KEYS[1], ARGV[1], '${Math.random()}'}`);

  it('runs an unknown script by EVAL once, then by EVALSHA alone', async () => {
    const send = await redis().sendCommand();
    const sent: string[] = [];
    const recording: SendCommand = (...args) => {
      sent.push(args[0] ?? '');
      return send(...args);
    };
    const lua = echo();
    expect(await evalScript(recording, lua, ['k'], ['a'])).toEqual(['k', 'a', expect.any(String)]);
    expect(await evalScript(recording, lua, ['k2'], ['b'])).toEqual(['k2', 'b', expect.any(String)]);
    expect(sent).toEqual(['EVALSHA', 'EVAL', 'EVALSHA']);
  });

  it('passes on any other error as is (the store maps it to its reason code), without retrying by EVAL', async () => {
    const sent: string[] = [];
    const failing: SendCommand = async (...args) => {
      sent.push(args[0] ?? '');
      throw new Error('ERR Error running script: boom');
    };
    await expect(evalScript(failing, echo(), [], [])).rejects.toThrow('boom');
    expect(sent).toEqual(['EVALSHA']);
  });

  it('the script\'s SHA-1 is what Redis computes (SCRIPT LOAD), so EVALSHA needs no load round trip', async () => {
    const client = await redis().client();
    const lua = echo();
    expect(await client.call('SCRIPT', 'LOAD', lua.source)).toBe(lua.sha);
  });
});

describe('connectRedis', () => {
  it('sends commands and closes', async () => {
    const c = await connectRedis(redis().url, { reason: 'x_unavailable', purpose: 'tests' });
    expect(await c.sendCommand('PING')).toBe('PONG');
    await c.onClose();
  });

  it('a failed first connection is UnavailableError(reason) with the password masked and what to do', async () => {
    const started = Date.now();
    const error = await connectRedis('redis://:hunter2@127.0.0.1:1', { reason: 'x_unavailable', purpose: 'tests' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ reason: 'x_unavailable', message: expect.stringMatching(/127\.0\.0\.1:1 for tests .*TOOLGATE_REDIS_URL, or unset it to keep tests in memory/) });
    expect((error as Error).message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
