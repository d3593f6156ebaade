import { script } from '../redis/index.js';

/**
 * REMEMBER: one atomic "first time?" for the Redis replay store, with a cap that does not depend on Redis'
 * maxmemory policy (an evicting Redis would forget nonces early, i.e. let replays through).
 *
 * KEYS[1] a sorted set: member = SHA-256 (base64url) of the replay key, score = expiry in ms on Redis' clock (one
 *         clock for every gateway instance). Hashing fixes each entry's size whatever the key's length.
 * ARGV[1] member, ARGV[2] ttl in ms (integer >= 1), ARGV[3] most live entries.
 * Returns 1 (first sight), 0 (replay) or -1 (full of live entries: the caller fails closed).
 */
export const REMEMBER = script(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);
