--[[
  Moves a delivery job's staged live messages into its partition's live stream, each with the
  next sequence number of the partition, sends each on the partition's shard channel as it is
  appended, and deletes the staged list. The channel is the fast path; the stream is the truth:
  a gateway node that sees a sequence number skip (or lost its subscription, or fell behind)
  reads the stream from its own position.

  A job run again finds no list and appends nothing (and were it to append again, gateways drop
  what a connection has delivered already).

  KEYS[1]  the job's staged list (see stage-live-1.lua)
  KEYS[2]  the partition's live stream
  KEYS[3]  the partition's sequence counter (the number of the last message appended)
  ARGV[1]  the partition's shard channel (its name carries the keys' hash tag: SPUBLISH from a
           script must stay in the script's slot)
  ARGV[2]  most entries the stream keeps (MAXLEN ~)

  Each entry: `s` its sequence number, `m` the message. Each channel message:
  `<seq> <entry id> <message>`.

  Returns the number of messages appended (0: none staged, or moved before).
]]
local messages = redis.call('LRANGE', KEYS[1], 0, -1)
local count = #messages
if count == 0 then return 0 end
local last = redis.call('INCRBY', KEYS[3], count)
for i, message in ipairs(messages) do
  local seq = string.format('%d', last - count + i)
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 's', seq, 'm', message)
  redis.call('SPUBLISH', ARGV[1], seq .. ' ' .. id .. ' ' .. message)
end
redis.call('DEL', KEYS[1])
return count
