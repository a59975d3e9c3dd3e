--[[
  Takes or keeps a partition lease: succeeds when the lease is free or already ours, and then
  (re)sets its expiry. Never takes a lease another live worker holds.

  KEYS[1]  the lease key
  ARGV[1]  this worker's id
  ARGV[2]  lease time in milliseconds

  Returns 1 when the lease is ours now, 0 when another worker holds it.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
