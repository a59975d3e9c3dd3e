--[[
  Re-drives one dead letter: removes it and, only if this call removed it, appends its events
  back to the partition stream and adds them to the backlog. Two re-drives of one dead letter
  cannot both append.

  KEYS[1]  the partition's dead-letter stream
  KEYS[2]  the partition stream
  KEYS[3]  the partition's backlog counter

  ARGV[1]  the dead letter's id
  ARGV[2]  its event count (field n)
  ARGV[3]  its events (field e, a JSON array)

  Returns the new stream entry id, or false when the dead letter was already gone.
]]
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return false
end
local id = redis.call('XADD', KEYS[2], '*', 'n', ARGV[2], 'e', ARGV[3])
redis.call('INCRBY', KEYS[3], ARGV[2])
return id
