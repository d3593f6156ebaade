import { sign } from 'node:crypto';
import { importPrivateKey, type Jwk } from '../../src/identity/jwk.js';

export const T0 = 1_750_000_000_000;
export const T0_S = T0 / 1000;

/** Signs any payload value as a tgbg1 token (the issuer refuses bad claims; tests need them). */
export function signRaw(payload: unknown, privateJwk: Jwk, payloadText?: string): string {
  const part = Buffer.from(payloadText ?? JSON.stringify(payload) ?? 'undefined').toString('base64url');
  const input = `tgbg1.${part}`;
  return `${input}.${sign(null, Buffer.from(input), importPrivateKey(privateJwk)).toString('base64url')}`;
}

/** A small seeded PRNG (mulberry32): the fuzz cases are the same on every run, so a failure reproduces. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
