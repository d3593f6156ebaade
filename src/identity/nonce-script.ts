import { script } from '../redis/index.js';

/**
 * REMEMBER: one atomic "first time?" for the Redis replay store, with a cap that does not depend on Redis'
 * maxmemory policy (an evicting Redis would forget nonces early, i.e. let replays through), and a fence for a Redis
 * that lost its data.
 *
 * KEYS[1] a sorted set: member = SHA-256 (base64url) of the replay key, score = expiry in ms on Redis' clock (one
 *         clock for every gateway instance). Hashing fixes each entry's size whatever the key's length.
 * KEYS[2] the store's epoch, "id|created ms|fenced until ms", never expiring. A Redis that restarted without
 *         persistence, failed over to an empty node or was flushed has none (or another): a caller that knew the
 *         earlier one has seen the data go, so the epoch is fenced from its creation for ARGV[5] ms (the longest a
 *         signature seen before may stay valid), and every caller is refused until then. A caller that never knew
 *         one (a fresh start) starts an unfenced epoch: nothing was lost that it could know of.
 * ARGV[1] member, ARGV[2] ttl in ms (integer >= 1), ARGV[3] most live entries, ARGV[4] the epoch id this caller
 *         knows ("" for none), ARGV[5] fence in ms.
 * Returns {status, epoch id, fenced until ms}: status 1 (first sight), 0 (replay), -1 (full of live entries: the
 * caller fails closed) or -2 (fenced: the caller fails closed).
 */
export const REMEMBER = script(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = ARGV[4]
local fence = tonumber(ARGV[5])
local id, created, fenced
local epoch = redis.call('GET', KEYS[2])
if epoch then
  local a, b, c = string.match(epoch, '^([^|]+)|(%d+)|(%d+)$')
  if a then id, created, fenced = a, tonumber(b), tonumber(c) end
end
if not id then
  id = t[1] .. '.' .. t[2]
  created = now
  fenced = now
  if known ~= '' then fenced = now + fence end
  redis.call('SET', KEYS[2], id .. '|' .. created .. '|' .. fenced)
elseif known ~= '' and known ~= id and fenced < created + fence then
  fenced = created + fence
  redis.call('SET', KEYS[2], id .. '|' .. created .. '|' .. fenced)
end
if now < fenced then return {-2, id, fenced} end
local ttl = tonumber(ARGV[2])
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then return {0, id, fenced} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return {-1, id, fenced} end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return {1, id, fenced}
`);
