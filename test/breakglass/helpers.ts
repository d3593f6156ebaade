import { sign } from 'node:crypto';
import { importPrivateKey, type Jwk } from '../../src/identity/jwk.js';
export { prng } from '../helpers/random.js';

export const T0 = 1_750_000_000_000;
export const T0_S = T0 / 1000;

/** Signs any payload value as a tgbg1 token (the issuer refuses bad claims; tests need them). */
export function signRaw(payload: unknown, privateJwk: Jwk, payloadText?: string): string {
  const part = Buffer.from(payloadText ?? JSON.stringify(payload) ?? 'undefined').toString('base64url');
  const input = `tgbg1.${part}`;
  return `${input}.${sign(null, Buffer.from(input), importPrivateKey(privateJwk)).toString('base64url')}`;
}

