import { describe, expect, it } from 'vitest';
import { createVerifier, IdentityError, IDENTITY_REASONS, type RequestFacts } from '../../src/identity/index.js';
import { generateAgentKey, registryFor, signedFacts, T0 } from './helpers.js';
import { prng as rng } from '../helpers/random.js';


const key = generateAgentKey();
const HEADERS = ['signature-input', 'signature', 'signature-agent', 'authorization', 'content-digest', 'digest', 'date', 'content-type', 'host'] as const;
const SF_PIECES = ['sig1', 'sig2', '=', '(', ')', '"', '"@method"', '"@query-param"', ';name=', ';key=', ';sf', ';bs', ';req', ';tr', ':', ':AAAA:', '::', ',', ' ', ';created=', ';expires=', ';keyid=', ';alg=', ';tag=', ';nonce=', '1', '-1', '1.5', '99999999999999999', '?1', '?0', '*', '@', '%', '\\', 'web-bot-auth', '"web-bot-auth"', 'https://a.example', '"https://a.example"', 'Signature ', 'keyId="k"', 'headers="(request-target) host date"', 'algorithm="ed25519-sha512"', 'signature="AAAA"', 'sha-256=', 'SHA-256=', '@1700000000', '%"x"'];

function randomBytes(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i += 1) s += String.fromCharCode(Math.floor(r() * 256));
  return s;
}

function sfGarbage(r: () => number, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i += 1) s += SF_PIECES[Math.floor(r() * SF_PIECES.length)];
  return s;
}

function hostileValue(r: () => number, valid: string | undefined): string | string[] | undefined {
  const pick = Math.floor(r() * 11);
  switch (pick) {
    case 0: return randomBytes(r, 200);
    case 1: return sfGarbage(r, 1 + Math.floor(r() * 40));
    case 2: return 'x'.repeat(20_000 + Math.floor(r() * 200_000));
    case 3: return '('.repeat(5000) + ')'.repeat(5000);
    case 4: return Array.from({ length: 200 }, (_, i) => `sig${i % 3}=("@method";x${i}=1 "@path");created=${i}`).join(', ');
    case 5: return ';a'.repeat(3000);
    case 6: return valid === undefined ? undefined : valid.slice(0, Math.floor(r() * valid.length)) + randomBytes(r, 4) + valid.slice(Math.floor(r() * valid.length));
    case 7: return valid === undefined ? sfGarbage(r, 10) : [valid, valid];
    case 8: return [sfGarbage(r, 5), randomBytes(r, 20)];
    case 9: return valid?.replace(/\d/g, () => String(Math.floor(r() * 10)));
    default: return valid === undefined ? undefined : `${valid}, ${valid}`;
  }
}

describe('hostile headers never produce anything but IdentityError', () => {
  it('5000 generated cases (random bytes, huge values, nested sf garbage, duplicate labels, wrong types)', async () => {
    const v = await createVerifier({
      jwks: registryFor(key),
      now: () => T0,
      cavage: {},
      // No fuzz case may reach the network: directories other than this one are refused before any fetch.
      webBotAuth: { trustedDirectories: ['https://trusted.invalid'] },
    });
    const base = signedFacts(key, { headers: { 'signature-agent': 'sig1="https://a.example"', date: new Date(T0).toUTCString(), authorization: 'Signature keyId="k",algorithm="ed25519-sha512",headers="date",signature="AAAA"' } });
    const started = Date.now();
    const seen = new Map<string, number>();
    for (let seed = 1; seed <= 5000; seed += 1) {
      const r = rng(seed);
      const headers: Record<string, string | string[] | undefined> = { ...base.headers };
      const mutations = 1 + Math.floor(r() * 3);
      for (let m = 0; m < mutations; m += 1) {
        const name = HEADERS[Math.floor(r() * HEADERS.length)]!;
        const valid = headers[name];
        headers[name] = hostileValue(r, Array.isArray(valid) ? valid[0] : valid);
      }
      if (r() < 0.3) delete headers.authorization;
      if (r() < 0.2) delete headers['signature-input'];
      const request: RequestFacts = {
        ...base,
        headers,
        method: r() < 0.1 ? randomBytes(r, 10) : base.method,
        target: r() < 0.1 ? `/${randomBytes(r, 30)}?${sfGarbage(r, 5)}` : base.target,
        authority: r() < 0.1 ? randomBytes(r, 20) : base.authority,
        rawBody: r() < 0.1 ? Buffer.from(randomBytes(r, 100), 'latin1') : base.rawBody,
      };
      try {
        await v.verify(request);
        seen.set('accepted', (seen.get('accepted') ?? 0) + 1);
      } catch (error) {
        if (!(error instanceof IdentityError)) throw new Error(`seed ${seed}: ${String(error)} (${(error as Error)?.name})`, { cause: error });
        expect(IDENTITY_REASONS).toContain(error.reason);
        seen.set(error.reason, (seen.get(error.reason) ?? 0) + 1);
      }
    }
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    // The generator must reach past parsing, or it proves little.
    expect(seen.size).toBeGreaterThanOrEqual(5);
    console.log(`fuzz: ${elapsed} ms`, Object.fromEntries(seen));
  });

  it('malformed Signature-Agent values fail before any directory fetch', async () => {
    const v = await createVerifier({ jwks: registryFor(key), now: () => T0, webBotAuth: {} });
    for (const value of ['', '"', 'sig1=', 'sig1=1', 'sig1=("a")', 'sig1="ftp://x"', 'sig1="https://user@x.example"', 'sig1="https://x.example/path"', '"https://x.example?q=1"', 'sig1=?1;type=cimd']) {
      const f = signedFacts(key, { headers: { 'signature-agent': value } }, { tag: 'web-bot-auth', components: ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type', 'signature-agent'] });
      const error = await v.verify(f).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(IdentityError);
      expect((error as IdentityError).reason).not.toBe('directory_unavailable');
    }
  });
});
