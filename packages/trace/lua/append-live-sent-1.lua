--[[
  Appends gateway sends to live messages' `liveSent` fields of one trace hash (see
  @herald/trace's trace-records.ts): each field's value is the segments of every write to it,
  so gateway nodes sending pushes of the same message never overwrite each other's.

  KEYS[1]  the trace hash (a router batch's trace bucket)
  ARGV[1]  time to live in milliseconds, set when the hash has none (the router sets it when it
           writes first; a gateway may write first)
  ARGV[2..]  per field: its name, then the segment to append

  Returns the number of fields written.
]]
for i = 2, #ARGV, 2 do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  redis.call('HSET', KEYS[1], ARGV[i], (value or '') .. ARGV[i + 1])
end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return (#ARGV - 1) / 2
