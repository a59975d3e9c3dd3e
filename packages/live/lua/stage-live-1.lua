--[[
  Stages the live messages of one web/TV delivery job in its partition's slot, before the job
  is added: the job then carries only what its metrics and traces need, and the messages cross
  the network once (router → Redis); the delivery moves them into the live stream inside Redis.

  A batch routed again (after a crash) keeps the messages of its first routing when they are
  still staged: its job has the same id, so it is the first routing's job that runs.

  KEYS[1]  the job's staged list
  ARGV[1]  time to live of the list in milliseconds (as long as a failed job is kept)
  ARGV[2..]  the live messages (LiveMessage JSON), in order

  Returns 1 when staged now, 0 when the list was there already.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
