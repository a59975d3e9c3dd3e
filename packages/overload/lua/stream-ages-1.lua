--[[
  How long the oldest entry of one priority-stream partition that the router has not read yet
  has been waiting: what an event of that partition waits before its routing can begin.
  Entries read and not acknowledged (pending) are left out: a crashed worker's entries wait for
  their reclaim, which shedding cannot speed up.

  KEYS[1]  the partition's stream
  ARGV[1]  the router's consumer group

  Returns { now, oldest }: Redis's clock and the oldest unread entry's time (its id's
  milliseconds), both epoch ms; oldest is -1 when nothing waits. Without the group (no router
  has started yet) every entry waits.
]]
--- @include "redis-time-bucket"
local now = redis_now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then return { now, -1 } end
local start = '-'
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, delivered
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then delivered = group[i + 1] end
  end
  if name == ARGV[1] and delivered then start = '(' .. delivered end
end
local first = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 1)
if #first == 0 then return { now, -1 } end
local id = first[1][1]
return { now, tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)) }
