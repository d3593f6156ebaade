import { UnavailableError } from '../errors.js';
import type { ApprovalFacts } from '../policy/types.js';
import { consumeTransition, decideTransition, restoreTransition, effectiveStatus, expiresMs, isApprovalId } from './record.js';
import type { ApprovalListQuery, ApprovalRecord, ApprovalStore, DecideResult, DecideVerdict } from './types.js';

export interface MemoryApprovalStoreOptions {
  /** How long a record is kept after `expires_at` (so late lookups say `used`/`expired`, not `unknown`). Default 900_000. */
  readonly retainMs?: number;
  /** Most records held; create() sweeps old ones first and refuses beyond this. Default 10_000. */
  readonly maxRecords?: number;
  /** Clock for sweeping. Default Date.now. */
  readonly now?: () => number;
}

/**
 * The embedded approval store, for one gateway process. Every method runs to completion without awaiting, so
 * decide() and consume() are atomic on Node's single thread. State is lost on restart: use Redis for more.
 */
export class MemoryApprovalStore implements ApprovalStore {
  readonly #records = new Map<string, ApprovalRecord>();
  readonly #retainMs: number;
  readonly #maxRecords: number;
  readonly #now: () => number;

  constructor(options: Readonly<MemoryApprovalStoreOptions> = {}) {
    this.#retainMs = options.retainMs ?? 900_000;
    this.#maxRecords = options.maxRecords ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async create(record: ApprovalRecord): Promise<void> {
    if (!isApprovalId(record.id)) throw new TypeError(`approval id "${String(record.id).slice(0, 40)}" must be 1-128 characters of A-Z a-z 0-9 _ -`);
    if (this.#records.has(record.id)) throw new Error(`approval ${record.id} already exists: ids must be unique (use newApprovalRecord())`);
    if (this.#records.size >= this.#maxRecords) this.#sweep();
    if (this.#records.size >= this.#maxRecords) {
      throw new UnavailableError('approvals_full', `The in-memory approval store holds ${this.#maxRecords} approvals; decide or let some expire, raise maxRecords, or set TOOLGATE_REDIS_URL.`);
    }
    this.#records.set(record.id, record);
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    return this.#records.get(id) ?? null;
  }

  async list(query: ApprovalListQuery = {}): Promise<ApprovalRecord[]> {
    const status = query.status ?? 'pending';
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 100)), 1000);
    const nowMs = query.nowMs ?? this.#now();
    const out: ApprovalRecord[] = [];
    for (const record of this.#records.values()) if (effectiveStatus(record, nowMs) === status) out.push(record);
    return out.sort(newestFirst).slice(0, limit);
  }

  async decide(id: string, approver: string, verdict: DecideVerdict, nowMs: number, comment?: string): Promise<DecideResult> {
    const { result, next } = decideTransition(this.#records.get(id) ?? null, approver, verdict, nowMs, comment);
    if (next) this.#records.set(id, next);
    return result;
  }

  async consume(id: string, binding: string, nowMs: number, decisionId: string): Promise<ApprovalFacts> {
    const { facts, next } = consumeTransition(id, this.#records.get(id) ?? null, binding, nowMs, decisionId);
    if (next) this.#records.set(id, next);
    return facts;
  }

  async restore(id: string, decisionId: string): Promise<boolean> {
    const { restored, next } = restoreTransition(this.#records.get(id) ?? null, decisionId);
    if (next) this.#records.set(id, next);
    return restored;
  }

  async close(): Promise<void> {
    this.#records.clear();
  }

  #sweep(): void {
    const cutoff = this.#now() - this.#retainMs;
    for (const [id, record] of this.#records) if (expiresMs(record) < cutoff) this.#records.delete(id);
  }
}

export function newestFirst(a: ApprovalRecord, b: ApprovalRecord): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? -1 : 1;
}
