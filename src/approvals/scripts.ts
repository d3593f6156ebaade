import { script } from '../redis/index.js';

/**
 * Lua run atomically inside Redis (rate-limit-redis's pattern): each script is one uninterruptible step, so of any
 * number of concurrent decide/consume calls across gateway instances exactly one changes a record.
 * They mirror decideTransition()/consumeTransition() in record.ts check for check; the contract suite runs both.
 *
 * Records are JSON with an extra `expires_ms` number (Lua cannot parse RFC 3339 cheaply). cjson re-encodes an
 * empty array as `{}`, so the reader normalizes `reasons`; every other member is a string.
 */

/** KEYS: record, pending index, all index. ARGV: id, json, px, expires_ms, purge_ms, now_ms. → 1 created, 0 exists. */
export const CREATE = script(`
if not redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[6])
return 1
`);

/**
 * KEYS: record, pending index. ARGV: approver, verdict, now_ms, now_iso, comment ('' = none).
 * → {'ok', json} or {reason, json?}.
 */
export const DECIDE = script(`
local raw = redis.call('GET', KEYS[1])
if not raw then return {'approval_unknown'} end
local r = cjson.decode(raw)
if r.agent == ARGV[1] then return {'approver_is_requester', raw} end
if r.status == 'expired' then return {'approval_expired', raw} end
if r.status ~= 'pending' then return {'approval_not_pending', raw} end
local reason = 'ok'
if tonumber(ARGV[3]) >= tonumber(r.expires_ms) then
  r.status = 'expired'
  reason = 'approval_expired'
else
  if ARGV[2] == 'approve' then r.status = 'approved' else r.status = 'denied' end
  r.decided_by = ARGV[1]
  r.decided_at = ARGV[4]
  if ARGV[5] ~= '' then r.comment = ARGV[5] end
end
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
redis.call('ZREM', KEYS[2], r.id)
return {reason, out}
`);

/**
 * KEYS: record. ARGV: decision_id. used → approved when that decision spent it (restoreTransition in record.ts).
 * → 1 restored, 0 not.
 */
export const RESTORE = script(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local r = cjson.decode(raw)
if r.status ~= 'used' or r.used_by_decision ~= ARGV[1] then return 0 end
r.status = 'approved'
r.used_at = nil
r.used_by_decision = nil
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
`);

/**
 * KEYS: record, pending index. ARGV: binding, now_ms, now_iso, decision_id.
 * → {status, approved_by?} as in ApprovalFacts.
 */
export const CONSUME = script(`
local raw = redis.call('GET', KEYS[1])
if not raw then return {'unknown'} end
local r = cjson.decode(raw)
if r.binding ~= ARGV[1] then return {'mismatch'} end
if r.status == 'used' then return {'used', r.decided_by} end
if r.status == 'denied' or r.status == 'expired' then return {r.status} end
if tonumber(ARGV[2]) >= tonumber(r.expires_ms) then
  r.status = 'expired'
  redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
  redis.call('ZREM', KEYS[2], r.id)
  return {'expired'}
end
if r.status == 'pending' then return {'pending'} end
r.status = 'used'
r.used_at = ARGV[3]
r.used_by_decision = ARGV[4]
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return {'approved', r.decided_by}
`);
