--[[
  Moves a stream entry to its partition's dead letters, once: acknowledges it and, only if this
  call acknowledged it (it was still pending), appends it to the dead letters with the reason
  and takes its events off the backlog. Two consumers of a partition that both claimed the
  entry around a lease handover therefore make one dead letter, not two.

  KEYS[1]  the partition stream
  KEYS[2]  the partition's dead-letter stream
  KEYS[3]  the partition's backlog counter

  ARGV[1]  consumer group
  ARGV[2]  the entry's id
  ARGV[3]  most dead letters kept (MAXLEN ~)
  ARGV[4]  the reason
  ARGV[5]  how many events the entry holds (taken off the backlog)
  ARGV[6..]  the entry's own fields and values

  Returns 1 when moved now, 0 when the entry was acknowledged before.
]]
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'entry', ARGV[2], 'reason', ARGV[4], unpack(fields))
local events = tonumber(ARGV[5])
if events > 0 then redis.call('DECRBY', KEYS[3], events) end
return 1
