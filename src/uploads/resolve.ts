import { BadRequestError } from '../errors.js';
import type { AttachmentFacts } from '../policy/types.js';
import type { UploadStore } from './types.js';

/** Most attachment ids resolved per call: bounds the store lookups a hostile call can cause. */
const MAX_ATTACHMENTS = 64;

/** Whether resolving the call's attachments would ask the upload store anything. */
export function namesAttachments(args: Record<string, unknown>): boolean {
  return Array.isArray(args.attachments) && args.attachments.length > 0;
}

/**
 * Resolves the attachment ids the agent named against the upload store: provenance, size and hash come from
 * what a human uploaded, never from the agent's arguments. Unknown ids are reported as not found.
 */
export async function resolveAttachments(args: Record<string, unknown>, store: UploadStore): Promise<AttachmentFacts[]> {
  const ids = namesAttachments(args) ? (args.attachments as unknown[]) : [];
  // Refuse rather than truncate: an attachment left unresolved would reach the tool without the policy seeing it.
  if (ids.length > MAX_ATTACHMENTS) {
    throw new BadRequestError('too_many_attachments', `A call may name at most ${MAX_ATTACHMENTS} attachments; send fewer.`);
  }
  return Promise.all(
    ids.map(async (id): Promise<AttachmentFacts> => {
      const key = typeof id === 'string' ? id : JSON.stringify(id);
      const u = typeof id === 'string' ? await store.get(id) : undefined;
      if (!u) return { id: key, found: false };
      return { id: u.id, found: true, source: u.source, uploaded_by: u.uploaded_by, uploaded_at: u.uploaded_at, uploaded_at_ms: u.uploaded_at_ms, size: u.size, sha256: u.sha256 };
    }),
  );
}
