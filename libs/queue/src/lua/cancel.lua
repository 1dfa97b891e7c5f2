-- lsCancel: the one cancel. A job no agent holds (queued, or retrying in its backoff) leaves the
-- queue and ends `cancelled` at once; a running job is flagged and its agent told on the pool's
-- cancel channel (it also checks the flag now and then, and a claim of a flagged job ends it).
-- KEYS[1]: BullMQ's repeat key; [2] classes. ARGV[1]: JSON { base, id, now, message, R }.
-- Returns 'missing' | 'final:<state>' | 'cancelled:<previous state>' | 'flagged:<state>'.
local P = cjson.decode(ARGV[1])
local base, id = P.base, P.id
local rk = recKey(base, id)
if lsCall('EXISTS', rk) == 0 then return 'missing' end
local state = lsCall('HGET', rk, 'state')
if isFinal(state) then return 'final:' .. state end
lsCall('HSET', rk, 'cancel', '1', 'updatedAt', P.now)
if (state == 'queued' or state == 'retrying') and lsCall('EXISTS', base .. id .. ':lock') == 0 then
  indexRemove(base, id)
  bull_removeJob({ base .. id, KEYS[1] }, { id, '0', base })
  lsCall('DEL', base .. id)
  lsCall('HSET', rk, 'failureClass', 'cancelled', 'message', P.message)
  finalize(base, id, 'cancelled', P.now, P.R)
  return 'cancelled:' .. state
end
lsCall('PUBLISH', base .. 'cancel', id)
return 'flagged:' .. state
