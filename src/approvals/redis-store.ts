import { UnavailableError } from '../errors.js';
import type { ApprovalFacts } from '../policy/types.js';
import { connectRedis, evalScript, requireSendCommand, type LuaScript, type RedisStoreOptions, type SendCommand } from '../redis/index.js';
import { newestFirst } from './memory-store.js';
import { effectiveStatus, expiresMs, isApprovalId } from './record.js';
import { CONSUME, CREATE, DECIDE, RESTORE } from './scripts.js';
import { APPROVAL_STATUSES, type ApprovalListQuery, type ApprovalRecord, type ApprovalStore, type DecideRefusal, type DecideResult, type DecideVerdict } from './types.js';

export interface RedisApprovalStoreOptions extends RedisStoreOptions {
  /** Key prefix. Default "toolgate:" (records under `toolgate:approval:<id>`). */
  readonly prefix?: string;
  /** How long a record outlives `expires_at`, so late lookups still say `used`/`expired`. Default 900_000 ms. */
  readonly retainMs?: number;
}

// Listing reads at most this many ids from an index: the API is for humans, who page through pending work.
const LIST_SCAN = 5000;

/**
 * Approvals shared by every gateway instance. Records are JSON under `<prefix>approval:<id>` with PEXPIRE at
 * `expires_at` + retainMs; `<prefix>approvals:pending` (score expires_ms) indexes what awaits a decision and
 * `<prefix>approvals:all` (score purge time) everything else. decide/consume are Lua scripts (scripts.ts).
 * Keys span slots: on Redis Cluster give a prefix with a hash tag, e.g. "{toolgate}:".
 */
export class RedisApprovalStore implements ApprovalStore {
  readonly #send: SendCommand;
  readonly #prefix: string;
  readonly #retainMs: number;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #pendingKey: string;
  readonly #allKey: string;

  constructor(options: Readonly<RedisApprovalStoreOptions>) {
    this.#send = requireSendCommand(options, 'RedisApprovalStore');
    this.#prefix = options.prefix ?? 'toolgate:';
    this.#retainMs = options.retainMs ?? 900_000;
    this.#onClose = options.onClose;
    this.#pendingKey = `${this.#prefix}approvals:pending`;
    this.#allKey = `${this.#prefix}approvals:all`;
  }

  /**
   * Connects an ioredis client the store owns. Commands fail fast while Redis is unreachable (no offline queue,
   * one retry) so approvals fail closed instead of hanging requests.
   */
  static async connect(url: string, options: { prefix?: string; retainMs?: number; commandTimeoutMs?: number } = {}): Promise<RedisApprovalStore> {
    const connection = await connectRedis(url, { reason: 'approvals_unavailable', purpose: 'approvals', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisApprovalStore({ ...options, ...connection });
  }

  async create(record: ApprovalRecord): Promise<void> {
    if (!isApprovalId(record.id)) throw new TypeError(`approval id "${String(record.id).slice(0, 40)}" must be 1-128 characters of A-Z a-z 0-9 _ -`);
    const exp = expiresMs(record);
    const created = Date.parse(record.created_at);
    if (!Number.isFinite(exp) || !Number.isFinite(created)) throw new TypeError('approval created_at and expires_at must be RFC 3339 timestamps');
    // TTL from the record's own times, not the wall clock: a record is kept for its lifetime plus retainMs.
    const px = Math.max(1, exp - created + this.#retainMs);
    const json = JSON.stringify({ ...record, expires_ms: exp });
    const created1 = await this.#eval(CREATE, [this.#key(record.id), this.#pendingKey, this.#allKey], [record.id, json, String(px), String(exp), String(created + px), String(created)]);
    if (created1 !== 1) throw new Error(`approval ${record.id} already exists: ids must be unique (use newApprovalRecord())`);
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    if (!isApprovalId(id)) return null;
    const raw = await this.#call('GET', this.#key(id));
    return typeof raw === 'string' ? parseRecord(raw) : null;
  }

  async list(query: ApprovalListQuery = {}): Promise<ApprovalRecord[]> {
    const status = query.status ?? 'pending';
    if (!APPROVAL_STATUSES.includes(status)) throw new TypeError(`unknown approval status "${String(status)}"`);
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 100)), 1000);
    const nowMs = query.nowMs ?? Date.now();
    // Pending ones are found through their own index (score expires_ms, so the unexpired are > now).
    const index = status === 'pending' ? this.#pendingKey : this.#allKey;
    const ids = await this.#call('ZRANGEBYSCORE', index, `(${nowMs}`, '+inf', 'LIMIT', '0', String(LIST_SCAN));
    if (!Array.isArray(ids) || ids.length === 0) return [];
    const raws = await this.#call('MGET', ...ids.map((id) => this.#key(String(id))));
    const out: ApprovalRecord[] = [];
    for (const raw of Array.isArray(raws) ? raws : []) {
      if (typeof raw !== 'string') continue;
      const record = parseRecord(raw);
      if (record && effectiveStatus(record, nowMs) === status) out.push(record);
    }
    return out.sort(newestFirst).slice(0, limit);
  }

  async decide(id: string, approver: string, verdict: DecideVerdict, nowMs: number, comment?: string): Promise<DecideResult> {
    if (!isApprovalId(id)) return { ok: false, reason: 'approval_unknown', record: null };
    const reply = await this.#eval(DECIDE, [this.#key(id), this.#pendingKey], [approver, verdict, String(nowMs), new Date(nowMs).toISOString(), comment ?? '']);
    const [reason, raw] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const record = typeof raw === 'string' ? parseRecord(raw) : null;
    if (reason === 'ok' && record) return { ok: true, record };
    return { ok: false, reason: (typeof reason === 'string' ? reason : 'approval_unknown') as DecideRefusal, record };
  }

  async consume(id: string, binding: string, nowMs: number, decisionId: string): Promise<ApprovalFacts> {
    if (!isApprovalId(id)) return { id: String(id).slice(0, 128), status: 'unknown' };
    const reply = await this.#eval(CONSUME, [this.#key(id), this.#pendingKey], [binding, String(nowMs), new Date(nowMs).toISOString(), decisionId]);
    const [status, approvedBy] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (!isFactsStatus(status)) throw unavailable(new Error(`unexpected consume reply ${JSON.stringify(reply)}`));
    return typeof approvedBy === 'string' && approvedBy !== '' ? { id, status, approved_by: approvedBy } : { id, status };
  }

  async restore(id: string, decisionId: string): Promise<boolean> {
    if (!isApprovalId(id)) return false;
    return (await this.#eval(RESTORE, [this.#key(id)], [decisionId])) === 1;
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }

  #key(id: string): string {
    return `${this.#prefix}approval:${id}`;
  }

  async #call(...args: string[]): Promise<unknown> {
    try {
      return await this.#send(...args);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async #eval(lua: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await evalScript(this.#send, lua, keys, args);
    } catch (error) {
      throw unavailable(error);
    }
  }
}

const FACTS_STATUSES: ReadonlySet<string> = new Set(['approved', 'denied', 'expired', 'used', 'mismatch', 'unknown', 'pending']);

function isFactsStatus(value: unknown): value is ApprovalFacts['status'] {
  return typeof value === 'string' && FACTS_STATUSES.has(value);
}

const STRING_MEMBERS = ['id', 'agent', 'tool', 'binding', 'args_sha256', 'decision_id', 'created_at', 'expires_at'] as const;
// The order ApprovalRecord documents, so API responses read the same from either store.
const MEMBER_ORDER = ['id', 'status', 'agent', 'tool', 'binding', 'args_sha256', 'reasons', 'decision_id', 'summary', 'created_at', 'expires_at', 'decided_by', 'decided_at', 'comment', 'used_at', 'used_by_decision'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A stored record back into an ApprovalRecord; null for anything that is not one (never trust storage blindly). */
function parseRecord(raw: string): ApprovalRecord | null {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || !APPROVAL_STATUSES.includes(doc.status as never)) return null;
  for (const m of STRING_MEMBERS) if (typeof doc[m] !== 'string') return null;
  // cjson writes an empty array back as {}.
  const reasons = Array.isArray(doc.reasons) ? (doc.reasons as unknown[]).filter(isObject).map((r) => ({ code: String(r.code), message: String(r.message) })) : [];
  const out: Record<string, unknown> = {};
  for (const m of MEMBER_ORDER) {
    if (m === 'reasons') out.reasons = reasons;
    else if (typeof doc[m] === 'string') out[m] = doc[m];
  }
  return out as unknown as ApprovalRecord;
}

function unavailable(cause: unknown): UnavailableError {
  return new UnavailableError(
    'approvals_unavailable',
    'The approval store (Redis) cannot be reached, so no approval can be checked or spent and nothing was executed. Check that Redis at TOOLGATE_REDIS_URL is up, then retry.',
    { cause },
  );
}
