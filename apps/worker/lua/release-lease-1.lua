--[[
  Gives a partition lease back, only if it is still ours.

  KEYS[1]  the lease key
  ARGV[1]  this worker's id

  Returns 1 when released, 0 when it was not ours.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
