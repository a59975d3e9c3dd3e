--[[
  Finishes routed stream entries of one partition in one step: acknowledges them, marks their
  event ids as routed (the worker's duplicate gate), takes their events off the backlog
  counter that ingest's backpressure reads, counts them as routed, and writes the router's
  trace records. Called only after history and fan-out are written.

  KEYS[1]  the partition stream
  KEYS[2]  the partition's backlog counter
  KEYS[3]  the routed-ids set of bucket B
  KEYS[4]  the partition's routed-total counter (events ever acknowledged: the out-rate)
  KEYS[5]  the partition's trace hash of this time

  ARGV[1]  consumer group
  ARGV[2]  window (bucket width) in milliseconds
  ARGV[3]  B, the bucket the caller computed KEYS[3] for
  ARGV[4]  time to live of the trace hash in milliseconds (0: tracing is off)
  ARGV[5]  E, the number of entries
  ARGV[6]  M, the number of event ids to mark as routed
  then     per entry: its id, then how many events it holds (2E values)
  then     the M event ids
  then     trace field, value pairs, to the end

  Returns the number of entries acknowledged now. An entry acknowledged before (a retry after
  a crash) counts 0 and its events are not taken off the backlog (or counted) twice.
  Error "BUCKET <b>" when Redis's clock puts now in bucket b, not B.
]]
--- @include "redis-time-bucket"
local window = tonumber(ARGV[2])
local wrong = wrong_bucket(redis_now_ms(), window, ARGV[3])
if wrong then return wrong end

local entries = tonumber(ARGV[5])
local ids = tonumber(ARGV[6])
local first_entry = 7
local first_id = first_entry + 2 * entries
local first_field = first_id + ids

local acked = 0
local taken = 0
for i = first_entry, first_id - 1, 2 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    acked = acked + 1
    taken = taken + tonumber(ARGV[i + 1])
  end
end
if taken > 0 then
  if redis.call('DECRBY', KEYS[2], taken) < 0 then redis.call('SET', KEYS[2], 0) end
  redis.call('INCRBY', KEYS[4], taken)
end

for i = first_id, first_field - 1, 500 do
  redis.call('SADD', KEYS[3], unpack(ARGV, i, math.min(i + 499, first_field - 1)))
end
redis.call('PEXPIRE', KEYS[3], 2 * window + 60000)

local trace_ttl = tonumber(ARGV[4])
if trace_ttl > 0 and first_field <= #ARGV then
  for i = first_field, #ARGV, 1000 do
    redis.call('HSET', KEYS[5], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIRE', KEYS[5], trace_ttl)
end
return acked
