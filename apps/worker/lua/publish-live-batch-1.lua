--[[
  Publishes a web/TV delivery job's staged live messages on its priority's live channel, in
  order, and leaves the string "sent" in the list's place: a job run again (its worker died
  before completing it, or it was retried by hand) publishes nothing twice.

  KEYS[1]  the job's live batch list (see stage-live-batch-1.lua)
  ARGV[1]  the live channel
  ARGV[2]  time to live of the "sent" mark in milliseconds

  Returns the number of messages published now: 0 when they were published before, -1 when
  there is nothing under the key (not staged yet, or expired): the caller fails the job, and
  BullMQ retries it.
]]
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then return 0 end
if kind ~= 'list' then return -1 end
local messages = redis.call('LRANGE', KEYS[1], 0, -1)
for _, message in ipairs(messages) do redis.call('PUBLISH', ARGV[1], message) end
redis.call('SET', KEYS[1], 'sent', 'PX', ARGV[2])
return #messages
