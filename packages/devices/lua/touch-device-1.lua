--[[
  Replaces a device record only if it is still exactly the one the caller read: a
  compare-and-set, so refreshing `lastSeenAt` (or dropping a dead push token) can never bring
  back a device deleted (or undo a registration changed) since.

  KEYS[1]  the account's devices hash
  ARGV[1]  the device id (field)
  ARGV[2]  the record JSON the caller read
  ARGV[3]  the new record JSON

  Returns 1 when replaced, 0 when the record changed or is gone (nothing written).
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
