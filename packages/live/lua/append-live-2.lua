--[[
  Appends live messages to one partition's live stream, each with the next sequence number of
  the partition, and sends each on the partition's shard channel as it is appended. The channel
  is the fast path; the stream is the truth: a gateway node that sees a sequence number skip
  (or lost its subscription, or fell behind) reads the stream from its own position.

  KEYS[1]  the partition's live stream
  KEYS[2]  the partition's sequence counter (the number of the last message appended)
  ARGV[1]  the partition's shard channel (its name carries the keys' hash tag: SPUBLISH from a
           script must stay in the script's slot)
  ARGV[2]  most entries the stream keeps (MAXLEN ~)
  ARGV[3..]  the live messages (LiveMessage JSON), in order

  Each entry: `s` its sequence number, `m` the message. Each channel message:
  `<seq> <entry id> <message>`.

  Returns the sequence number of the last message appended.
]]
local count = #ARGV - 2
local last = redis.call('INCRBY', KEYS[2], count)
for i = 1, count do
  local seq = string.format('%d', last - count + i)
  local message = ARGV[2 + i]
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 's', seq, 'm', message)
  redis.call('SPUBLISH', ARGV[1], seq .. ' ' .. id .. ' ' .. message)
end
return last
