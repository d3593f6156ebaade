import { describe, expect, it } from 'vitest';
import { MemoryApprovalStore } from '../../src/approvals/index.js';
import { UnavailableError } from '../../src/errors.js';
import { approvalStoreContract, pending, T0 } from './store-contract.js';

approvalStoreContract('memory', async () => ({ store: new MemoryApprovalStore() }));

describe('MemoryApprovalStore', () => {
  it('sweeps records past expiry + retainMs when full, then refuses with a coded error', async () => {
    let now = T0;
    const store = new MemoryApprovalStore({ maxRecords: 2, retainMs: 1000, now: () => now });
    await store.create(pending());
    await store.create(pending());
    await expect(store.create(pending())).rejects.toBeInstanceOf(UnavailableError);
    now = T0 + 900_000 + 1001;
    await store.create(pending({ nowMs: now })); // the two old ones were swept
    expect(await store.list({ nowMs: now, status: 'expired' })).toEqual([]);
  });
});
