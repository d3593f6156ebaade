import { bodySha256 } from '../../identity/index.js';
import type { CallContext } from './context.js';

/** One value of a request header; a repeated header (joined or an array) is ambiguous and counts as absent. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * A call whose body is at least this long has its work spread over event-loop turns: the stage runner lets timers
 * and other requests run after each of its stages (outcome.ts), and its decision event is built in one turn and
 * chained, hashed and handed to the sink in another (record.ts). Each of those steps passes over the whole body once
 * or more (the parse, the digest, the scan, the input's serialisation, the arguments' canonical JSON and hash, the
 * event's), and on a 1 MiB body each pass costs milliseconds. Small bodies, nearly every call, pay nothing.
 */
export const LARGE_BODY_BYTES = 256 * 1024;

/** Whether this call's body is large enough to spread its work over turns (LARGE_BODY_BYTES). */
export const largeBody = (ctx: Pick<CallContext, 'raw'>): boolean => (ctx.raw?.length ?? 0) >= LARGE_BODY_BYTES;

export const elapsedNs = (since: number): number => Math.round((performance.now() - since) * 1e6);

/**
 * The request body's sha256 hex, computed once per call (the signature check's Content-Digest memo usually has it
 * already) for the policy input and the audit record alike.
 */
export function bodyDigest(ctx: CallContext): string {
  return (ctx.bodySha256 ??= bodySha256(ctx.raw ?? Buffer.alloc(0)).toString('hex'));
}
