-- lsReopen (RetryJob): a finished job runs once more — record reopened and queued again, at the
-- back of its priority, in one step. KEYS[1..9]: BullMQ's addPrioritizedJob keys; [10] classes.
-- ARGV[1]: JSON { base, id, now, order, cls, lostBudget, maxAttempts, name,
-- bullPriority }.
-- Returns 'ok', 'missing', or the (unfinished) state the job is in.
local P = cjson.decode(ARGV[1])
local base, id = P.base, P.id
local rk, lk = recKey(base, id), logKey(base, id)
if lsCall('EXISTS', rk) == 0 then return 'missing' end
local state = lsCall('HGET', rk, 'state')
if not isFinal(state) then return state end
lsCall('ZREM', base .. 'finished', id)
lsCall('HSET', rk, 'state', 'queued', 'updatedAt', P.now, 'order', P.order, 'cls', P.cls, 'lostBudget', P.lostBudget, 'maxAttempts', P.maxAttempts)
lsCall('HDEL', rk, 'finishedAt', 'exitCode', 'failureClass', 'message', 'cancel', 'token')
lsCall('HSETNX', rk, 'logBytes', 0)
lsCall('PERSIST', rk)
lsCall('PERSIST', lk)
lsCall('XADD', lk, '*', 's', 'system', 't', '[longshore] run again by request')
lsCall('DEL', base .. id, base .. id .. ':lock')
local r = bull_addPrioritizedJob({ unpack(KEYS, 1, 9) }, {
  cmsgpack.pack({ base, id, P.name, tostring(P.now) }),
  '{}',
  cmsgpack.pack({ priority = P.bullPriority, attempts = 1 }),
})
if r ~= id then error('BullMQ refused job ' .. id .. ': ' .. tostring(r)) end
indexAdd(base, id)
lsCall('PUBLISH', evChannel(base, id), 'state')
lsCall('PUBLISH', base .. 'added', 'added')
return 'ok'
