import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { newUploadId, type UploadRecord, type UploadStore } from '../../src/uploads/index.js';

export const T0 = 1_750_000_000_000;

/** A record as uploadsRouter makes it, for `bytes`. */
export function uploadRecord(bytes: Buffer, over: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id: newUploadId(),
    source: 'user_upload',
    uploaded_by: 'alice',
    uploaded_at: new Date(T0).toISOString(),
    uploaded_at_ms: T0,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    content_type: 'application/pdf',
    filename: 'receipt.pdf',
    ...over,
  };
}

/** How the contract gets stores of one implementation. */
export interface UploadStoreHarness {
  /** A fresh store. */
  create(): Promise<UploadStore>;
  /**
   * A second store on its own connection to the same backend as the last create(): a second gateway instance.
   * Omitted for backends that cannot be shared between instances (memory).
   */
  createPeer?(): Promise<UploadStore>;
}

/**
 * What every UploadStore must do, run against each implementation (memory, real Redis). `harness` is read when a
 * test runs, so a backend started in `beforeAll` can hand it over late. `shared`: several gateway instances can
 * share the backend (the harness has createPeer), which adds the two-instance test.
 */
export function uploadStoreContract(name: string, harness: () => UploadStoreHarness, options: { readonly shared?: boolean } = {}): void {
  describe(`UploadStore contract: ${name}`, () => {
    const open: UploadStore[] = [];
    const store = async (): Promise<UploadStore> => {
      const s = await harness().create();
      open.push(s);
      return s;
    };
    afterAll(async () => {
      await Promise.all(open.map((s) => s.close?.()));
    });

    it('gets back exactly the record it was given (unicode and null filename included)', async () => {
      const s = await store();
      const bytes = Buffer.from('receipt bytes');
      const records = [uploadRecord(bytes), uploadRecord(bytes, { filename: null }), uploadRecord(bytes, { filename: 'Quittung Ünïcødé "rush" 💸.pdf', uploaded_by: 'finance-lead' })];
      for (const r of records) await s.put(r, bytes);
      for (const r of records) expect(await s.get(r.id)).toEqual(r);
    });

    it('an id never put is not found', async () => {
      expect(await (await store()).get(newUploadId())).toBeUndefined();
    });

    it.each(['upl_made_up', '', '__proto__', 'constructor', 'upl_*', `${newUploadId()}x`, '../upl', 'x'.repeat(10_000)])('an agent-chosen string that is not an upload id (%#) is not found', async (id) => {
      expect(await (await store()).get(id)).toBeUndefined();
    });

    it('refuses to store a record under an id it did not mint', async () => {
      const s = await store();
      for (const id of ['upl_made_up', '', 'other']) {
        await expect(s.put(uploadRecord(Buffer.from('x'), { id }), Buffer.from('x'))).rejects.toThrow(/upl_<uuid>/);
        expect(await s.get(id)).toBeUndefined();
      }
    });

    it('a record put again under the same id replaces the old one', async () => {
      const s = await store();
      const first = uploadRecord(Buffer.from('v1'));
      await s.put(first, Buffer.from('v1'));
      const second = { ...uploadRecord(Buffer.from('version 2')), id: first.id };
      await s.put(second, Buffer.from('version 2'));
      expect(await s.get(first.id)).toEqual(second);
    });

    it('50 concurrent uploads are all found', async () => {
      const s = await store();
      const records = Array.from({ length: 50 }, (_, i) => uploadRecord(Buffer.from(`file ${i}`)));
      await Promise.all(records.map((r) => s.put(r, Buffer.from('x'))));
      const got = await Promise.all(records.map((r) => s.get(r.id)));
      expect(got).toEqual(records);
    });

    if (options.shared) {
      it('another gateway instance on the same backend sees the upload', async () => {
        const h = harness();
        if (!h.createPeer) throw new Error('a shared backend needs createPeer in its harness');
        const s = await store();
        const peer = await h.createPeer();
        open.push(peer);
        const r = uploadRecord(Buffer.from('shared'));
        await s.put(r, Buffer.from('shared'));
        expect(await peer.get(r.id)).toEqual(r);
      });
    }
  });
}
