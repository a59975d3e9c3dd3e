--[[
  Records the last cursor a device acknowledged, only ever moving it forward (acks can arrive
  out of order, from several sockets of one device, or after a reconnect).

  KEYS[1]  the account's acknowledged-cursor hash (deviceId -> cursor)
  ARGV[1]  the device id
  ARGV[2]  the acknowledged cursor (<ms>-<seq>)
  ARGV[3]  time to live of the hash in milliseconds, refreshed on each ack

  Returns 1 when the cursor moved forward, 0 when the stored one was newer or the same.
]]
local function newer(a, b)
  local a_ms, a_seq = string.match(a, '(%d+)-(%d+)')
  local b_ms, b_seq = string.match(b, '(%d+)-(%d+)')
  if a_ms == nil or b_ms == nil then return b_ms == nil end
  if a_ms ~= b_ms then
    if #a_ms ~= #b_ms then return #a_ms > #b_ms end
    return a_ms > b_ms
  end
  if #a_seq ~= #b_seq then return #a_seq > #b_seq end
  return a_seq > b_seq
end

local current = redis.call('HGET', KEYS[1], ARGV[1])
local moved = 0
if not current or newer(ARGV[2], current) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  moved = 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return moved
