--[[
  Shared by the scripts that keep per-window sets numbered by Redis's clock (not the caller's,
  so processes with skewed clocks agree). Pulled in with `--- @include "redis-time-bucket"`.
]]

-- Redis's clock, in epoch milliseconds.
local function redis_now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- nil when the caller's bucket is Redis's bucket for `now`; otherwise the error reply
-- "BUCKET <b>", on which the caller calls again with b.
local function wrong_bucket(now, window, callers_bucket)
  local bucket = math.floor(now / window)
  if bucket ~= tonumber(callers_bucket) then
    return redis.error_reply('BUCKET ' .. string.format('%d', bucket))
  end
  return nil
end
