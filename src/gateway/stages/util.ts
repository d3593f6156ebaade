import { bodySha256 } from '../../identity/index.js';
import type { CallContext } from './context.js';

/** One value of a request header; a repeated header (joined or an array) is ambiguous and counts as absent. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const elapsedNs = (since: number): number => Math.round((performance.now() - since) * 1e6);

/**
 * The request body's sha256 hex, computed once per call (the signature check's Content-Digest memo usually has it
 * already) for the policy input and the audit record alike.
 */
export function bodyDigest(ctx: CallContext): string {
  return (ctx.bodySha256 ??= bodySha256(ctx.raw ?? Buffer.alloc(0)).toString('hex'));
}
