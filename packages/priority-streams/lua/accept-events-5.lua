--[[
  Appends accepted events to one priority-stream partition as ONE stream entry, each event id at
  most once within the idempotency window. Atomic: two requests racing with the same id cannot
  both append it, and a refused call writes nothing.

  Ids are remembered in sets, one per time bucket as wide as the window: an id is a duplicate
  when it is in the current or the previous bucket, so it is remembered for at least one
  window and at most two. Buckets are numbered by Redis's clock, not the caller's.

  KEYS[1]  the partition stream
  KEYS[2]  the partition's backlog counter: events appended and not yet acknowledged
  KEYS[3]  the id set of bucket B (the current one)
  KEYS[4]  the id set of bucket B - 1
  KEYS[5]  the partition's accepted-total counter (events ever appended: the in-rate)

  ARGV[1]  backlog limit: when the counter is at or over it, nothing is written
  ARGV[2]  stream cap for XADD MAXLEN ~ (a safety net far above what the limit lets in)
  ARGV[3]  window (bucket width) in milliseconds
  ARGV[4]  B, the bucket the caller computed KEYS[3] and KEYS[4] for
  ARGV[5]  N, the number of events
  ARGV[6..5+N]  the events' ids, in order
  ARGV[6+N..5+2N]  the byte length of each event's JSON in ARGV[6+2N]
  ARGV[6+2N]  the events as one JSON array, in order: `[e1,e2,…,eN]`

  The entry has fields n (event count) and e (a JSON array of the accepted events, in order).
  The caller joins the array: when every event is new (nearly always) it is the entry as it
  is, and Lua's table.concat, a third of this script's time, runs only for a call with
  duplicates, to leave them out.
  Returns { entry id or "", flag per event: 1 appended, 0 already seen }.
  Errors: "BUCKET <b>" when Redis's clock puts now in bucket b, not B (call again with b);
          "BACKLOG <count>" when the backlog is at or over the limit.
]]
--- @include "redis-time-bucket"
local window = tonumber(ARGV[3])
local wrong = wrong_bucket(redis_now_ms(), window, ARGV[4])
if wrong then return wrong end

local backlog = tonumber(redis.call('GET', KEYS[2]) or '0')
if backlog >= tonumber(ARGV[1]) then
  return redis.error_reply('BACKLOG ' .. backlog)
end

-- One look-up per bucket for the whole call, not one per event.
local count = tonumber(ARGV[5])
local first_length = 6 + count
local joined = ARGV[6 + 2 * count]
local ids = {}
for j = 1, count do ids[j] = ARGV[5 + j] end
local inCurrent = redis.call('SMISMEMBER', KEYS[3], unpack(ids))
local inPrevious = redis.call('SMISMEMBER', KEYS[4], unpack(ids))

local fresh = {}
local seenHere = {}
local reply = { '' }
for j, id in ipairs(ids) do
  if inCurrent[j] == 1 or inPrevious[j] == 1 or seenHere[id] then
    reply[j + 1] = 0
  else
    seenHere[id] = true
    fresh[#fresh + 1] = id
    reply[j + 1] = 1
  end
end

for i = 1, #fresh, 500 do
  redis.call('SADD', KEYS[3], unpack(fresh, i, math.min(i + 499, #fresh)))
end

if #fresh > 0 then
  local entry = joined
  if #fresh < count then
    -- Some were duplicates: the entry is the new events only, cut out of the joined array.
    local accepted = {}
    local start = 2
    for j = 1, count do
      local length = tonumber(ARGV[first_length + j - 1])
      if reply[j + 1] == 1 then accepted[#accepted + 1] = string.sub(joined, start, start + length - 1) end
      start = start + length + 1
    end
    entry = '[' .. table.concat(accepted, ',') .. ']'
  end
  redis.call('PEXPIRE', KEYS[3], 2 * window + 60000)
  reply[1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'n', #fresh, 'e', entry)
  redis.call('INCRBY', KEYS[2], #fresh)
  redis.call('INCRBY', KEYS[5], #fresh)
end
return reply
