--[[
  The coalescing gate of one mobile device's "pull now" signals: at most one signal per window,
  and the newest signal held back during a window sent when the window ends.

  Invariant: the last signal of a burst is always followed by a send that carries its cursor or
  a newer one, at most one window (plus queue latency) later. A held signal stays in KEYS[2]
  until a send takes it (the next window's first signal, or the trailing job that every call
  answering 'held' makes sure exists), and a send always takes it.

  KEYS[1]  the device's push window: a string (the window's id) that expires with the window
  KEYS[2]  the device's held signal: a hash, c = its cursor, s = its JSON

  ARGV[1]  'signal' (a signal of a delivery job) or 'trailing' (a window's trailing job)
  ARGV[2]  the window, ms
  ARGV[3]  the id of the window this call opens, if it opens one
  ARGV[4]  'signal': the signal's cursor (<ms>-<seq>)
  ARGV[5]  'signal': the signal's JSON
  ARGV[6]  'signal': how long a held signal is kept at most, ms (its trailing job should take it long before)

  Returns
    { 'send', json }         no window was open; this call opened one. Send json: the signal, or
                             a held one with a newer cursor (then the held one is taken)
    { 'held', id, pttl }     'signal': window `id` is open for pttl ms more; the signal is held,
                             unless one held already has a newer cursor. Its trailing job must exist
    { 'wait', id, pttl }     'trailing': something is held but window `id` is open for pttl ms more
    { 'none' }               'trailing': nothing is held (a send since took it)
]]
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then
    return am > bm
  end
  return as > bs
end

local window = ARGV[2]

if ARGV[1] == 'signal' then
  local cursor, signal = ARGV[4], ARGV[5]
  if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'PX', window) then
    local held = redis.call('HMGET', KEYS[2], 'c', 's')
    redis.call('DEL', KEYS[2])
    if held[1] and newer(held[1], cursor) then
      return { 'send', held[2] }
    end
    return { 'send', signal }
  end
  local heldCursor = redis.call('HGET', KEYS[2], 'c')
  if not heldCursor or not newer(heldCursor, cursor) then
    redis.call('HSET', KEYS[2], 'c', cursor, 's', signal)
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  return { 'held', redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]) }
end

if redis.call('EXISTS', KEYS[2]) == 0 then
  return { 'none' }
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then
  return { 'wait', redis.call('GET', KEYS[1]), pttl }
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', window)
local signal = redis.call('HGET', KEYS[2], 's')
redis.call('DEL', KEYS[2])
return { 'send', signal }
