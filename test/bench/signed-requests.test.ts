import { describe, expect, it } from 'vitest';
import { generateAgentKey } from '../../src/agent/index.js';
import { SignedRequests } from '../../src/bench/index.js';

describe('SignedRequests.checkOffline: whether a refused bench call was sent broken or misjudged', () => {
  const key = generateAgentKey();
  const signed = new SignedRequests(key.privateJwk, 'http://127.0.0.1:45678/tools/email.send', '{"to":["a@b.example"]}');

  it('finds the pool\'s own headers sound, and names what is wrong with altered ones', async () => {
    signed.refill(2);
    const headers = signed.next();
    expect(await signed.checkOffline(headers)).toBe('verifies');
    // One bit of the signature flipped: the arithmetic fails.
    const sig = headers.signature!;
    const at = sig.indexOf(':') + 5;
    const flipped = { ...headers, signature: `${sig.slice(0, at)}${sig[at] === 'A' ? 'B' : 'A'}${sig.slice(at + 1)}` };
    expect(await signed.checkOffline(flipped)).toMatch(/^signature_invalid: /);
    // Another request's signature over these parameters: the base differs (its nonce), so it does not verify either.
    const other = signed.next();
    expect(await signed.checkOffline({ ...headers, signature: other.signature! })).toMatch(/^signature_invalid: /);
    expect(await signed.checkOffline({ ...headers, 'content-digest': 'sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:' })).toMatch(/^signature_invalid: /);
    const { signature: _, ...unsigned } = headers;
    expect(await signed.checkOffline(unsigned)).toMatch(/^signature_malformed: /);
  });
});

describe('the soak\'s drive, when a call is refused', () => {
  it('names the refusal and says whether the refused call\'s own headers verify in the load generator', async () => {
    const { createServer } = await import('node:http');
    const { driveAllowed } = await import('../../src/bench/soak.js');
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        n += 1;
        if (n === 7) res.writeHead(401, { 'content-type': 'application/json' }).end('{"reason":"signature_invalid"}');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const url = `http://127.0.0.1:${port}`;
      const signed = new SignedRequests(generateAgentKey().privateJwk, `${url}/tools/email.send`, '{"to":["accountant@ledger-partners.example"],"subject":"Receipts for October","body":"Hi, the October receipts are attached."}');
      signed.refill(20);
      const error = await driveAllowed(url, 20, 2, signed).then(() => undefined, (e: unknown) => e as Error);
      expect(error?.message).toMatch(/^soak: 1 refused calls, 0 errors and 0 timeouts in a chunk of 20 \(statuses 1 × 401\)/);
      expect(error?.message).toContain('first refusal: 401 {"reason":"signature_invalid"}');
      expect(error?.message).toMatch(/the refused call's headers \{"content-digest":.*"signature-input":.*\}, checked again in the load generator: verifies/);
      signed.refill(20);
      n = 100;
      await expect(driveAllowed(url, 20, 2, signed)).resolves.toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
