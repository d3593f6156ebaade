import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { readRawBody, requestFacts } from '../extract/body.js';
import { ToolgateError } from '../errors.js';
import { IdentityError, type VerifiedAgent, type Verifier } from '../identity/types.js';
import { newUploadId } from './record.js';
import type { UploadStore } from './types.js';

export interface UploadsRouterOptions {
  readonly store: UploadStore;
  readonly verifier: Verifier;
  /** Who may upload: humans, never agents. Default: registry label `kind: human`. */
  readonly isHuman?: (agent: VerifiedAgent) => boolean;
  readonly maxBytes?: number;
  /**
   * Upload bodies read at once, at most (each up to maxBytes, held in memory until its signature is checked); past
   * it a request is refused 503 uploads_busy before its body is read. Default 4.
   */
  readonly maxConcurrentReads?: number;
  readonly now?: () => number;
}

/**
 * `POST /uploads`: a human uploads a file explicitly (signed request, raw bytes as the body, optional
 * `Upload-Filename` header); `GET /uploads/:id` returns its metadata. The gateway later resolves an agent's
 * attachment ids against this store, so provenance never rests on the agent's word.
 */
export function uploadsRouter(options: UploadsRouterOptions): Router {
  const isHuman = options.isHuman ?? ((a: VerifiedAgent) => a.labels.kind === 'human');
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;
  const router = express.Router();

  const fail = (res: Response, status: number, error: string, reason: string, message: string) => {
    res.status(status).json({ error, reason, message });
  };

  const identify = (req: Request, raw: Buffer): Promise<VerifiedAgent> => options.verifier.verify(requestFacts(req, raw));

  let reading = 0;
  const maxReads = options.maxConcurrentReads ?? 4;
  router.post('/uploads', async (req: Request, res: Response) => {
    // The signature covers the body, so it is checked once the body is in; until then only its presence is. A request
    // with none is refused before a byte of its body is read, and bodies are read a few at a time, so requests nobody
    // signed cannot make the gateway hold gigabytes.
    if (!signed(req)) {
      fail(res, 401, 'unauthenticated', 'signature_missing', 'The upload is not signed: send Signature-Input and Signature (RFC 9421) over the request, its Content-Digest included.');
      return;
    }
    if (reading >= maxReads) {
      res.setHeader('Retry-After', '1');
      fail(res, 503, 'unavailable', 'uploads_busy', `${maxReads} uploads are being received right now, the most at once; nothing was stored. Retry in a moment.`);
      return;
    }
    reading++;
    try {
      let raw: Buffer;
      try {
        raw = await readRawBody(req, maxBytes);
      } finally {
        reading--;
      }
      const who = await identify(req, raw);
      if (!isHuman(who)) {
        fail(res, 403, 'forbidden', 'uploader_not_human', `${who.id} is not a human identity: only people upload attachments; an agent references an upload id a person gave it.`);
        return;
      }
      if (raw.length === 0) {
        fail(res, 400, 'bad_request', 'upload_empty', 'The upload body is empty: send the file bytes as the request body.');
        return;
      }
      const ms = now();
      const filename = typeof req.headers['upload-filename'] === 'string' ? req.headers['upload-filename'].slice(0, 255) : null;
      const record = {
        id: newUploadId(),
        source: 'user_upload' as const,
        uploaded_by: who.id,
        uploaded_at: new Date(ms).toISOString(),
        uploaded_at_ms: ms,
        size: raw.length,
        sha256: createHash('sha256').update(raw).digest('hex'),
        content_type: String(req.headers['content-type'] ?? 'application/octet-stream').slice(0, 255),
        filename,
      };
      await options.store.put(record, raw);
      res.status(201).json(record);
    } catch (error) {
      if (error instanceof IdentityError) return fail(res, 401, 'unauthenticated', error.reason, error.message);
      if (error instanceof ToolgateError) return fail(res, error.reason === 'body_too_large' ? 413 : 400, 'bad_request', error.reason, error.message);
      throw error;
    }
  });

  // Reading upload records needs a registered identity too: who uploaded what, and when, is not public.
  router.get('/uploads/:id', async (req: Request, res: Response) => {
    try {
      await identify(req, Buffer.alloc(0));
    } catch (error) {
      if (error instanceof IdentityError) return fail(res, 401, 'unauthenticated', error.reason, error.message);
      throw error;
    }
    const record = await options.store.get(String(req.params.id));
    if (!record) return fail(res, 404, 'not_found', 'upload_unknown', `No upload ${String(req.params.id).slice(0, 80)}: upload the file first with POST /uploads.`);
    res.json(record);
  });
  return router;
}

/** Whether the request carries a signature to check at all (RFC 9421, or draft-cavage in Authorization). */
function signed(req: Request): boolean {
  const authorization = req.headers.authorization;
  return req.headers['signature-input'] !== undefined || (typeof authorization === 'string' && /^signature\s/i.test(authorization)) || req.headers.signature !== undefined;
}
