import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Starts a POST /uploads with `headers`, sends the first KiB of a 10 MiB body and resolves with the status the gateway answers. */
function startUpload(url: string, headers: Record<string, string>): { status: Promise<number>; end: () => void } {
  const req = request(`${url}/uploads`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(10 * 1024 * 1024), ...headers } });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(Buffer.alloc(1024));
  return { status, end: () => req.destroy() };
}

describe('uploads nobody signed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it('are refused 401 before their body is read (the answer comes while the body is still being sent)', async () => {
    const upload = startUpload(gw.url, {});
    expect(await upload.status).toBe(401);
    upload.end();
  });

  it('are read a few at a time: past that, 503 uploads_busy before the body is read', async () => {
    const garbage = { 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' };
    const slow = Array.from({ length: 4 }, () => startUpload(gw.url, garbage));
    // The four reads hold their slots while their bodies trickle; one more is refused at once.
    // A probe that got a slot (it arrived before one of the four) is not answered: it is dropped, freeing the slot.
    await expect.poll(async () => {
      const extra = startUpload(gw.url, garbage);
      const status = await Promise.race([extra.status, new Promise<string>((r) => setTimeout(() => r('reading'), 300))]);
      extra.end();
      return status;
    }, { timeout: 10_000, interval: 50 }).toBe(503);
    for (const upload of slow) upload.end();
    await Promise.allSettled(slow.map((u) => u.status));
  });
});
