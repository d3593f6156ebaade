import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redactUrl } from '../../src/redis/index.js';

describe('parseRedisUrl', () => {
  it('takes one Redis as is, without WAIT unless asked', () => {
    expect(parseRedisUrl('redis://h:6379/2')).toEqual({ kind: 'single', url: 'redis://h:6379/2', waitReplicas: 0, waitTimeoutMs: 500 });
    expect(parseRedisUrl('rediss://h:6380?waitReplicas=2&waitTimeoutMs=50&family=6')).toEqual({ kind: 'single', url: 'rediss://h:6380?family=6', waitReplicas: 2, waitTimeoutMs: 50 });
  });

  it('reads a Sentinel URL: hosts, master group, db, credentials; WAIT for one replica by default', () => {
    expect(parseRedisUrl('redis+sentinel://u:p%40ss@10.0.0.1:26379,[::1]:26380/mymaster/3')).toEqual({
      kind: 'sentinel', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }], name: 'mymaster', username: 'u', password: 'p@ss', db: 3, waitReplicas: 1, waitTimeoutMs: 500,
    });
    expect(parseRedisUrl('redis+sentinel://h:1/m?waitReplicas=0')).toMatchObject({ waitReplicas: 0, username: undefined, password: undefined, db: 0 });
  });

  it.each([
    ['http://h:1', /must look like/],
    ['redis+sentinel://h:1', /names its master group/],
    ['redis+sentinel://h,h2:1/m', /"h" .* is not host:port/],
    ['redis+sentinel://h:1/m?db=2', /unknown parameter\(s\) db/],
    ['redis://h:1?waitReplicas=-1', /waitReplicas=-1 .* integer >= 0/],
    ['redis://h:1?waitTimeoutMs=0', /waitTimeoutMs=0 .* integer >= 1/],
  ])('refuses %s with redis_url_invalid and the fix', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(expect.objectContaining({ reason: 'redis_url_invalid', message: expect.stringMatching(message) as unknown }));
  });

  it('masks the password of a Sentinel URL in messages', () => {
    expect(redactUrl('redis+sentinel://u:secret@h:1,h:2/m')).toBe('redis+sentinel://u:***@h:1,h:2/m');
  });
});
