import { script } from '../redis/index.js';

/**
 * Shared by both scripts. A counter is two keys: a sorted set (score = entry time in ms, member =
 * "<reservation id>:<index>:<cost>") and a string holding the sum of its members' costs, so a check costs
 * O(log n + entries pruned) instead of re-summing the window (a daily budget can hold thousands of entries).
 * Sums are written with %.17g, which round-trips a double exactly.
 */
const COMMON = `
local function cost_of(member)
  return tonumber(string.match(member, ':([^:]*)$')) or 0
end
local function fits(used, cost, max)
  return used + cost <= max + 1e-9 * math.max(1, math.abs(max))
end
local function num(x)
  return string.format('%.17g', x)
end
`;

/**
 * Reserve every limit or none, atomically (Redis runs one script at a time). Mirrors window.ts.
 * KEYS[2i-1], KEYS[2i]: sorted set and running sum of limit i (a counter may repeat: `pending` adds up).
 * ARGV[1]: now (ms); then per limit i, ARGV[2+4(i-1) ..]: window ms, max, cost, member.
 * Returns 0 when reserved, or {i, used, retry_ms} for the first limit that does not fit (numbers as strings:
 * Redis would truncate Lua numbers to integers).
 */
export const RESERVE = script(`${COMMON}
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local live = {}
local pending = {}

-- Drops the entries that left the window and returns the sum of those left.
local function prune(zkey, skey, window)
  local cutoff = string.format('%.0f', now - window)
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', cutoff)
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', cutoff)
  end
  if redis.call('ZCARD', zkey) == 0 then
    redis.call('DEL', skey)
    return 0
  end
  local sum = tonumber(redis.call('GET', skey) or '')
  if sum == nil then
    -- The sum went missing (evicted under maxmemory, say): recount once from the entries.
    sum = 0
    for _, m in ipairs(redis.call('ZRANGE', zkey, 0, -1)) do
      sum = sum + cost_of(m)
    end
    redis.call('SET', skey, num(sum), 'PX', string.format('%.0f', window))
  elseif #old > 0 then
    for _, m in ipairs(old) do
      sum = sum - cost_of(m)
    end
    if sum < 0 then sum = 0 end
    redis.call('SET', skey, num(sum), 'KEEPTTL')
  end
  return sum
end

-- Milliseconds until enough of the oldest entries age out for cost to fit; reads oldest first, in batches.
local function retry_after(zkey, used, cost, max, window)
  local remaining = used
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', zkey, start, start + 99, 'WITHSCORES')
    if #batch == 0 then return window end
    for j = 1, #batch, 2 do
      remaining = remaining - cost_of(batch[j])
      if fits(remaining, cost, max) then
        return tonumber(batch[j + 1]) + window - now
      end
    end
    start = start + 100
  end
end

for i = 1, n do
  local zkey = KEYS[2 * i - 1]
  local a = 1 + (i - 1) * 4
  local window = tonumber(ARGV[a + 1])
  local max = tonumber(ARGV[a + 2])
  local cost = tonumber(ARGV[a + 3])
  if live[zkey] == nil then
    live[zkey] = prune(zkey, KEYS[2 * i], window)
  end
  local used = live[zkey] + (pending[zkey] or 0)
  if not fits(used, cost, max) then
    return {i, num(used), string.format('%.0f', retry_after(zkey, used, cost, max, window))}
  end
  pending[zkey] = (pending[zkey] or 0) + cost
end

for i = 1, n do
  local zkey = KEYS[2 * i - 1]
  local a = 1 + (i - 1) * 4
  local cost = tonumber(ARGV[a + 3])
  -- A zero cost can never change a sum: storing it would only grow the set.
  if cost > 0 then
    -- NX: a reused reservation id must not count a cost the set does not hold.
    if redis.call('ZADD', zkey, 'NX', ARGV[1], ARGV[a + 4]) == 1 then
      live[zkey] = live[zkey] + cost
    end
    redis.call('PEXPIRE', zkey, ARGV[a + 1])
    redis.call('SET', KEYS[2 * i], num(live[zkey]), 'PX', ARGV[a + 1])
  end
end
return 0
`);

/**
 * Release: counter i (KEYS[2i-1], KEYS[2i]) loses member ARGV[i]. One script, so a release is all-or-nothing
 * too; a member already gone (released twice, or aged out) changes nothing.
 */
export const RELEASE = script(`${COMMON}
for i = 1, #KEYS / 2 do
  local zkey = KEYS[2 * i - 1]
  local skey = KEYS[2 * i]
  if redis.call('ZREM', zkey, ARGV[i]) == 1 then
    if redis.call('ZCARD', zkey) == 0 then
      redis.call('DEL', zkey, skey)
    else
      local sum = tonumber(redis.call('GET', skey) or '')
      if sum ~= nil then
        sum = sum - cost_of(ARGV[i])
        if sum < 0 then sum = 0 end
        redis.call('SET', skey, num(sum), 'KEEPTTL')
      end
    end
  end
end
return 0
`);
