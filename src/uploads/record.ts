import { randomUUID } from 'node:crypto';
import type { UploadRecord } from './types.js';

const UPLOAD_ID = /^upl_[0-9a-f-]{36}$/;

/** A new upload id: `upl_` and a random UUID. Stores accept no other shape, so an agent's string never becomes a key. */
export function newUploadId(): string {
  return `upl_${randomUUID()}`;
}

export function isUploadId(id: unknown): id is string {
  return typeof id === 'string' && UPLOAD_ID.test(id);
}

const STRINGS = ['id', 'uploaded_by', 'uploaded_at', 'sha256', 'content_type'] as const;
const NUMBERS = ['uploaded_at_ms', 'size'] as const;

/** A stored record back into an UploadRecord; null for anything that is not one (never trust storage blindly). */
export function parseUploadRecord(raw: string): UploadRecord | null {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || doc.source !== 'user_upload') return null;
  for (const m of STRINGS) if (typeof doc[m] !== 'string') return null;
  for (const m of NUMBERS) if (typeof doc[m] !== 'number' || !Number.isFinite(doc[m])) return null;
  if (doc.filename !== null && typeof doc.filename !== 'string') return null;
  return {
    id: doc.id as string,
    source: 'user_upload',
    uploaded_by: doc.uploaded_by as string,
    uploaded_at: doc.uploaded_at as string,
    uploaded_at_ms: doc.uploaded_at_ms as number,
    size: doc.size as number,
    sha256: doc.sha256 as string,
    content_type: doc.content_type as string,
    filename: doc.filename as string | null,
  };
}
