-- lsHandBack: the agent gives a job back (it is shutting down): the attempt is closed as handed
-- back and does not count; the job returns to the front of its priority in the queue.
-- KEYS[1..9]: BullMQ's moveJobFromActiveToWait keys (active, wait, stalled, paused, meta, limiter,
-- prioritized, marker, events). ARGV[1]: JSON { base, id, token, now, attempt (JSON text) }.
-- Returns 1, or 0 when fenced off.
local P = cjson.decode(ARGV[1])
local base, id = P.base, P.id
local rk = recKey(base, id)
if lsCall('HGET', rk, 'token') ~= P.token then return 0 end
-- Checked before the first write: a script's writes survive a later error.
if lsCall('EXISTS', base .. id) == 0 or not lsCall('LPOS', KEYS[1], id) then
  error('job ' .. id .. ' is held under its fence but is not active in BullMQ: it was not handed back')
end
reclaimLock(base, id, P.token)
local n = lsCall('HGET', rk, 'attempts')
lsCall('HSET', rk, 'a:' .. n, P.attempt, 'state', 'queued', 'updatedAt', P.now)
lsCall('HINCRBY', rk, 'handedBack', 1)
lsCall('HDEL', rk, 'token', 'run', 'reattach')
local r = bull_moveJobFromActiveToWait({ unpack(KEYS, 1, 9) }, { id, P.token, base .. id })
if type(r) == 'number' and r < 0 then error('BullMQ could not hand back job ' .. id .. ': ' .. r) end
indexAdd(base, id)
lsCall('PUBLISH', evChannel(base, id), 'state')
lsCall('PUBLISH', base .. 'added', 'released')
return 1
