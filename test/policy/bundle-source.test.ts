import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLLING, HttpBundleSource, nextDelay, parseBundle } from '../../src/policy/index.js';
import { buildBundle } from './bundles.js';
import { startBundleServer, type BundleServer } from './bundle-server.js';

describe('HTTP bundle source, against a real bundle server', () => {
  let one: Buffer;
  let two: Buffer;
  let server: BundleServer;

  beforeAll(async () => {
    one = readFileSync(buildBundle({ revision: 'one' }));
    two = readFileSync(buildBundle({ revision: 'two', data: (d) => void (d.toolgate.config.defaults.rate.max = 99) }));
    server = await startBundleServer(one);
  });
  afterAll(() => server?.close());

  it('downloads, then asks with If-None-Match and takes 304 as unchanged, then sees the new bundle', async () => {
    const source = new HttpBundleSource({ url: server.url });
    const first = await source.fetch();
    expect((await parseBundle(first!.files, source.where)).manifest.revision).toBe('one');
    expect(await source.fetch()).toBeNull();
    expect(server.requests.at(-1)).toMatchObject({ status: 304, headers: { 'if-none-match': expect.stringMatching(/^"/) } });
    server.serve(two);
    const next = await source.fetch();
    expect((await parseBundle(next!.files, source.where)).manifest.revision).toBe('two');
    server.serve(one);
  });

  it('sends the bearer token from its file, re-read on every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-token-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first-token\n');
    server.token = 'first-token';
    try {
      const source = new HttpBundleSource({ url: server.url, tokenFile });
      await expect(source.fetch()).resolves.not.toBeNull();
      server.token = 'rotated';
      await expect(new HttpBundleSource({ url: server.url, tokenFile }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_download_failed', message: expect.stringContaining('401') });
      writeFileSync(tokenFile, 'rotated');
      await expect(new HttpBundleSource({ url: server.url, tokenFile }).fetch()).resolves.not.toBeNull();
      await expect(new HttpBundleSource({ url: server.url, tokenFile: join(dir, 'missing') }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_token_unreadable' });
    } finally {
      server.token = undefined;
    }
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    server.hang = true;
    try {
      const started = performance.now();
      await expect(new HttpBundleSource({ url: server.url, timeoutMs: 200 }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_download_failed', message: expect.stringContaining('200 ms') });
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      server.hang = false;
    }
  });

  it('refuses a download larger than its bound, and an error status', async () => {
    await expect(new HttpBundleSource({ url: server.url, maxBytes: 1024 }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_too_large' });
    server.status = 503;
    try {
      await expect(new HttpBundleSource({ url: server.url }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_download_failed' });
    } finally {
      server.status = undefined;
    }
  });

  it('refuses a body that is not a bundle', async () => {
    server.serve(Buffer.from('<html>not a bundle</html>'));
    try {
      await expect(new HttpBundleSource({ url: server.url }).fetch()).rejects.toMatchObject({ reason: 'policy_bundle_unreadable' });
    } finally {
      server.serve(one);
    }
  });
});

describe('polling delays (OPA bundle plugin)', () => {
  it('waits uniformly between min and max after a good poll', () => {
    const polling = { minDelayMs: 1000, maxDelayMs: 3000 };
    expect(nextDelay(polling, 0, () => 0)).toBe(1000);
    expect(nextDelay(polling, 0, () => 0.999)).toBeCloseTo(2998, 0);
    for (let i = 0; i < 100; i++) {
      const d = nextDelay(polling, 0);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(3000);
    }
  });

  it('backs off exponentially with jitter after errors, capped at the max delay', () => {
    const mid = () => 0.5; // no jitter
    const delays = [1, 2, 3, 4, 5].map((n) => nextDelay(DEFAULT_POLLING, n, mid));
    expect(delays[0]).toBe(100);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeCloseTo(delays[i - 1]! * 1.6, 5);
    expect(nextDelay({ minDelayMs: 10, maxDelayMs: 500 }, 30, mid)).toBe(500);
    expect(nextDelay(DEFAULT_POLLING, 3, () => 0)).toBeCloseTo(256 * 0.8, 5);
  });
});
