--[[
  Finishes routed stream entries of one partition in one step: acknowledges them, marks their
  event ids as routed (the worker's duplicate gate), and takes their events off the backlog
  counter that ingest's backpressure reads. Called only after history and fan-out are written.

  KEYS[1]  the partition stream
  KEYS[2]  the partition's backlog counter
  KEYS[3]  the routed-ids set of bucket B

  ARGV[1]  consumer group
  ARGV[2]  window (bucket width) in milliseconds
  ARGV[3]  B, the bucket the caller computed KEYS[3] for
  ARGV[4]  E, the number of entries that follow
  ARGV[5..4+2E]   per entry: its id, then how many events it holds
  ARGV[5+2E..]    event ids to mark as routed

  Returns the number of entries acknowledged now. An entry acknowledged before (a retry after
  a crash) counts 0 and its events are not taken off the backlog twice.
  Error "BUCKET <b>" when Redis's clock puts now in bucket b, not B.
]]
--- @include "redis-time-bucket"
local window = tonumber(ARGV[2])
local wrong = wrong_bucket(redis_now_ms(), window, ARGV[3])
if wrong then return wrong end

local entries = tonumber(ARGV[4])
local acked = 0
local taken = 0
for i = 5, 4 + 2 * entries, 2 do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    acked = acked + 1
    taken = taken + tonumber(ARGV[i + 1])
  end
end
if taken > 0 and redis.call('DECRBY', KEYS[2], taken) < 0 then
  redis.call('SET', KEYS[2], 0)
end

for i = 5 + 2 * entries, #ARGV, 500 do
  redis.call('SADD', KEYS[3], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('PEXPIRE', KEYS[3], 2 * window + 60000)
return acked
