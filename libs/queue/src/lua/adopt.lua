-- lsAdopt: an agent that started again with the same id takes over a run it left behind and
-- that is still alive: a new fencing token (the old one died with the old process), BullMQ's
-- lock set again, the job `running` once more. No attempt is charged: it is the same attempt.
-- A live agent whose claim lapsed (it was paused, or cut off) takes its claim back the same way,
-- naming the attempt it still runs: only that attempt, so never one the queue opened since.
-- KEYS[1]: BullMQ's active list; [2] stalled set. ARGV[1]: JSON { base, id, agent, token, lockMs, now, attempt? }.
-- Returns { attempt, spec, trace, the attempt's record (JSON), logLines (see append-logs.lua) }, or {} when the job is not this agent's to adopt (finished,
-- put back in the queue, or another agent's by now).
local P = cjson.decode(ARGV[1])
local base, id = P.base, P.id
local rk = recKey(base, id)
local f = lsCall('HMGET', rk, 'agent', 'state', 'attempts', 'spec', 'trace', 'logLines')
if f[1] ~= P.agent or not (f[2] == 'claimed' or f[2] == 'running' or f[2] == 'orphaned') then return {} end
if P.attempt and tonumber(f[3]) ~= P.attempt then return {} end
if not lsCall('LPOS', KEYS[1], id) then return {} end
lsCall('HSET', rk, 'token', P.token, 'state', 'running', 'updatedAt', P.now)
lsCall('HDEL', rk, 'orphanedAt')
lsCall('SET', base .. id .. ':lock', P.token, 'PX', P.lockMs)
lsCall('SREM', KEYS[2], id)
lsCall('PUBLISH', evChannel(base, id), 'state')
return { f[3], f[4], f[5] or '', lsCall('HGET', rk, 'a:' .. f[3]) or '{}', f[6] or '' }
