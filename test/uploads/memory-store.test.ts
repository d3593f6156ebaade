import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { MemoryUploadStore } from '../../src/uploads/index.js';
import { uploadRecord, uploadStoreContract } from './store-contract.js';

uploadStoreContract('memory', () => ({ create: async () => new MemoryUploadStore() }));

describe('MemoryUploadStore', () => {
  const kib = (n: number) => Buffer.alloc(n * 1024, 1);

  it('drops the oldest uploads once their bytes pass maxBytes, keeping the newest', async () => {
    const s = new MemoryUploadStore({ maxBytes: 10 * 1024 });
    const records = [1, 2, 3].map(() => uploadRecord(kib(4)));
    for (const r of records) await s.put(r, kib(4));
    expect(await s.get(records[0]!.id)).toBeUndefined();
    expect(await s.get(records[1]!.id)).toEqual(records[1]);
    expect(await s.get(records[2]!.id)).toEqual(records[2]);
  });

  it('a record put again counts its bytes once, so re-uploads do not evict others', async () => {
    const s = new MemoryUploadStore({ maxBytes: 10 * 1024 });
    const kept = uploadRecord(kib(4));
    await s.put(kept, kib(4));
    const again = uploadRecord(kib(4));
    for (let i = 0; i < 5; i++) await s.put(again, kib(4));
    expect(await s.get(kept.id)).toEqual(kept);
    expect(await s.get(again.id)).toEqual(again);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxBytes %s with uploads_max_bytes_invalid', (maxBytes) => {
    expect(() => new MemoryUploadStore({ maxBytes })).toThrow(ConfigError);
    expect(() => new MemoryUploadStore({ maxBytes })).toThrow(expect.objectContaining({ reason: 'uploads_max_bytes_invalid' }));
  });
});
