--[[
  Stages the live messages of one web/TV delivery job, before the job is added: the job then
  carries only what its metrics and traces need, and its notifications cross the network once
  (router → Redis) instead of three times (job in, job out, publish).

  A batch routed again (after a crash) stages nothing when its list, or the mark its delivery
  left once published, is still there: the job of the first routing is the one that runs (job
  ids are deterministic), so its messages are the ones to keep.

  KEYS[1]  the job's live batch list
  ARGV[1]  time to live of the list in milliseconds (as long as a failed job is kept)
  ARGV[2..]  the live messages, in order

  Returns 1 when staged now, 0 when the list (or its published mark) was there already.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
