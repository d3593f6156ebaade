import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';
import type { RequestFacts } from '../identity/types.js';

/**
 * Reads the exact bytes the agent sent: Content-Digest and signatures are over these bytes, so no body parser
 * may run before the gateway. Bounded: a body over `limit` bytes is refused without buffering it.
 */
export async function readRawBody(req: IncomingMessage & { rawBody?: unknown }, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  // Express 5's body parsers no longer set req._body; a drained stream is the reliable sign.
  if ((req as { _body?: boolean })._body || req.readableEnded) {
    throw new BadRequestError('body_already_parsed', 'A body parser consumed the request before toolgate: mount toolgate() before express.json(), or keep the raw bytes in req.rawBody.');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BadRequestError('body_too_large', `The request body is ${declared} bytes; the gateway accepts at most ${limit}. Send a smaller body.`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        req.resume();
        throw new BadRequestError('body_too_large', `The request body exceeds ${limit} bytes, the gateway's limit. Send a smaller body.`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    // The client hung up mid-body (Node ends the stream with ECONNRESET "aborted"): the caller's fault, not the
    // gateway's, so it must not count as an internal error.
    if (error instanceof BadRequestError || req.complete) throw error;
    throw new BadRequestError('body_incomplete', `The connection closed after ${size} bytes of the request body${declared ? ` (of ${declared} declared)` : ''}; nothing was executed. Send the whole body again.`);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The facts the identity stage verifies, from an Express request and the raw bytes read from it. One place, so
 * the gateway, the approvals API and the uploads API sign-check exactly the same view of a request.
 */
export function requestFacts(req: IncomingMessage & { originalUrl?: string; protocol?: string }, rawBody: Buffer): RequestFacts {
  return {
    method: req.method ?? 'GET',
    target: req.originalUrl || req.url || '/',
    scheme: req.protocol === 'https' ? 'https' : 'http',
    authority: req.headers.host ?? '',
    headers: req.headers,
    rawBody,
  };
}
