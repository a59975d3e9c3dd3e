--[[
  Appends accepted events to one priority-stream partition, each event id at most once within
  the idempotency window. Atomic: two requests racing with the same id cannot both append.

  KEYS[1]       the partition stream
  KEYS[2..N+1]  the idempotency mark of each event, in event order (all on the stream's slot)

  ARGV[1]       backlog limit: when the stream holds this many entries or more, nothing is written
  ARGV[2]       stream cap for XADD MAXLEN ~ (a safety net above the limit, never reached while it holds)
  ARGV[3]       idempotency window in milliseconds (the marks' TTL)
  ARGV[4..N+3]  the serialized events, in event order

  Returns one entry per event: its stream id when appended, 0 when its id was already seen.
  Error "BACKLOG <length>" when the stream is at or over the limit; then nothing was written.
]]
local stream = KEYS[1]
local length = redis.call('XLEN', stream)
if length >= tonumber(ARGV[1]) then
  return redis.error_reply('BACKLOG ' .. length)
end

local results = {}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[3]) then
    results[i - 1] = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 2])
  else
    results[i - 1] = 0
  end
end
return results
