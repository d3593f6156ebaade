import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createVerifier, isPending, MemoryNonceStore, type PendingAgent, type VerifiedAgent } from '../../src/identity/index.js';
import { generateAgentKey, registryFor, signedFacts, T0 } from './helpers.js';

/**
 * A replay key is remembered until the signature stops being valid. A check whose key is recorded later than it
 * arrived (a claim checked in the evaluator thread, a directory fetch) must still be refused once the signature has
 * expired by then: otherwise a copy sent just before expiry, recorded just after, finds the original's key gone and
 * runs a second time (found by a review of the evaluator placement: 3 of 3 runs with a loaded event loop).
 */
describe('the replay window when a key is recorded after the request arrived', () => {
  const key = generateAgentKey();
  const EXPIRES_S = 60;
  const SKEW_MS = 30_000;
  // The signer's clock is T0; with expires=60 and the default 30 s skew the signature is valid until V.
  const V = T0 + EXPIRES_S * 1000 + SKEW_MS;

  async function setup() {
    let clock = T0;
    const store = new MemoryNonceStore({ now: () => clock });
    const verifier = await createVerifier({ jwks: registryFor(key), nonceStore: store, now: () => clock });
    return { verifier, setClock: (ms: number) => (clock = ms) };
  }

  const outcome = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { reason?: string }) => e.reason ?? 'error');

  it('refuses a claim whose key is recorded after the signature expired, though it arrived in time', async () => {
    const { verifier, setClock } = await setup();
    const request = signedFacts(key, {}, { expiresIn: EXPIRES_S });
    setClock(V - 5);
    const claim = await verifier.prepare!(request);
    expect(isPending(claim)).toBe(true);
    setClock(V + 20);
    await expect((claim as PendingAgent).settle()).rejects.toMatchObject({ reason: 'signature_expired', message: expect.stringContaining('before the gateway could record it') });
  });

  it('never accepts a copy of a signature twice, whenever the copies arrive and are recorded', async () => {
    // Arrival and recording times of an original and its copy around the signature's end; each is recorded no
    // earlier than it arrived. The original is always accepted when it is recorded in time.
    const time = fc.integer({ min: -3_000, max: 3_000 });
    await fc.assert(
      fc.asyncProperty(time, fc.nat({ max: 4_000 }), time, fc.nat({ max: 4_000 }), async (arrive1, wait1, arrive2, wait2) => {
        const { verifier, setClock } = await setup();
        const request = signedFacts(key, {}, { expiresIn: EXPIRES_S });
        const events = [
          { at: V + arrive1, what: 'arrive', who: 0 },
          { at: V + arrive1 + wait1, what: 'record', who: 0 },
          { at: V + arrive2, what: 'arrive', who: 1 },
          { at: V + arrive2 + wait2, what: 'record', who: 1 },
        ].sort((a, b) => a.at - b.at || (a.what === 'arrive' ? -1 : 1));
        const claims: (VerifiedAgent | PendingAgent | string)[] = [];
        const results: string[] = [];
        for (const e of events) {
          setClock(e.at);
          if (e.what === 'arrive') claims[e.who] = await verifier.prepare!(request).catch((err: { reason: string }) => err.reason);
          else {
            const c = claims[e.who]!;
            results[e.who] = typeof c === 'string' ? c : isPending(c) ? await outcome(c.settle()) : 'accepted';
          }
        }
        expect(results.filter((r) => r === 'accepted').length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 400, seed: 20261128 },
    );
  });
});
