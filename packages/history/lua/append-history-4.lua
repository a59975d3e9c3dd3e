--[[
  Appends notifications to one account's history, each event id at most once: an event the
  history already took (within the idempotency window) is not appended again, and its
  existing cursor is returned. So a worker that crashed after appending and retries the same
  stream entry neither loses nor duplicates anything.

  KEYS[1]  the account's history stream
  KEYS[2]  hash eventId -> cursor for idempotency bucket B (the current one)
  KEYS[3]  the same for bucket B - 1
  KEYS[4]  the newest cursor trimmed from the history (so readers can tell a gap); a history
           that starts anew sets it to just before now

  ARGV[1]  window (bucket width) in milliseconds
  ARGV[2]  B, the bucket the caller computed KEYS[2] and KEYS[3] for
  ARGV[3]  most entries the history keeps: past it, it is trimmed to nine tenths of that at once,
           so an account that keeps appending trims once per tenth of its length, not on every
           call (the trim, which reads the entries it removes for the trimmed marker, is most of
           what an append of one event costs)
  ARGV[4]  retention in milliseconds: older entries are trimmed, an idle history expires
  ARGV[5..4+2N]  per notification: its event id, then its HistoryEntry JSON, in order

  Returns { cursor, flag, prev, cursor, flag, prev, ... }: flag 1 appended now, 0 appended
  before; prev, for an entry appended now, the id of the entry just before it in the stream
  ('' when there is none), so a gateway can tell whether it delivered everything before it
  (for an entry appended before, prev is '': not known here).
  Error "BUCKET <b>" when Redis's clock puts now in bucket b, not B (call again with b).
]]
--- @include "redis-time-bucket"
local window = tonumber(ARGV[1])
local now = redis_now_ms()
local wrong = wrong_bucket(now, window, ARGV[2])
if wrong then return wrong end

-- Whether stream id a is after stream id b.
local function newer(a, b)
  local a_ms, a_seq = string.match(a, '(%d+)-(%d+)')
  local b_ms, b_seq = string.match(b, '(%d+)-(%d+)')
  if a_ms ~= b_ms then return tonumber(a_ms) > tonumber(b_ms) end
  return tonumber(a_seq) > tonumber(b_seq)
end

-- A history that starts anew (first ever, or after expiring while idle) cannot vouch for
-- anything before now: mark everything older as trimmed.
local length = redis.call('XLEN', KEYS[1])
if length == 0 then
  redis.call('SET', KEYS[4], string.format('%d', now - 1) .. '-0')
end

-- One look-up per bucket for the whole call, not one per event.
local ids = {}
for i = 5, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local inCurrent = redis.call('HMGET', KEYS[2], unpack(ids))
local inPrevious = redis.call('HMGET', KEYS[3], unpack(ids))

local reply = {}
local appended = 0
local written = {}
local newPairs = {}
-- The newest entry before this call's first append (read once, only if something is appended).
local previous = nil
for j, id in ipairs(ids) do
  local cursor = inCurrent[j] or inPrevious[j] or written[id]
  if cursor then
    reply[#reply + 1] = cursor
    reply[#reply + 1] = 0
    reply[#reply + 1] = ''
  else
    if previous == nil then
      previous = ''
      if length > 0 then previous = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1] end
    end
    cursor = redis.call('XADD', KEYS[1], '*', 'e', ARGV[4 + 2 * j])
    written[id] = cursor
    newPairs[#newPairs + 1] = id
    newPairs[#newPairs + 1] = cursor
    reply[#reply + 1] = cursor
    reply[#reply + 1] = 1
    reply[#reply + 1] = previous
    previous = cursor
    appended = appended + 1
  end
end
for i = 1, #newPairs, 500 do
  redis.call('HSET', KEYS[2], unpack(newPairs, i, math.min(i + 499, #newPairs)))
end

if appended > 0 then
  local retention = tonumber(ARGV[4])
  redis.call('PEXPIRE', KEYS[2], 2 * window + 60000)

  -- Trim by length and by age, remembering the newest id removed. The entry after the
  -- excess ones is the first that stays: its age says whether to trim by age too.
  local last = false
  local first = nil
  local max_length = tonumber(ARGV[3])
  local excess = length + appended - max_length
  if excess > 0 then
    excess = excess + math.floor(max_length / 10)
    local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess + 1)
    last = oldest[excess][1]
    first = oldest[excess + 1]
  else
    first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  end
  local minid = string.format('%d', now - retention)
  if first and newer(minid .. '-0', first[1]) then
    local expired = redis.call('XREVRANGE', KEYS[1], '(' .. minid .. '-0', '-', 'COUNT', 1)
    if #expired > 0 and (not last or newer(expired[1][1], last)) then
      last = expired[1][1]
    end
  end
  if last then
    local ms, seq = string.match(last, '(%d+)-(%d+)')
    redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. string.format('%d', tonumber(seq) + 1))
    redis.call('SET', KEYS[4], last)
  end
  redis.call('PEXPIRE', KEYS[1], retention)
  redis.call('PEXPIRE', KEYS[4], retention)
end
return reply
