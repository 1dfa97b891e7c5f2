-- lsSweep: BullMQ's stalled-job check (a job whose lock lapsed — its agent died, or was paused
-- or cut off — goes back to the queue), with each such job's record moved in the same step: its
-- attempt closed as `lost`, and the job queued again, or failed when it is out of lost-attempt
-- budget. Agents are woken at once when a job came back.
-- KEYS[1..9]: BullMQ's moveStalledJobsToWait keys (stalled, wait, active, stalled-check, meta,
-- paused, marker, events, repeat). ARGV[1]: JSON { base, now, intervalMs, adoptWindowMs, R }.
-- Returns the number of jobs put back or ended.
local P = cjson.decode(ARGV[1])
local base, now = P.base, P.now
-- A run that outlives its agent (a container, an ECS task) is not put back in the queue when
-- its claim lapses: it is `orphaned` for P.adoptWindowMs, kept out of BullMQ's stalled check by
-- a lock of that length, so that its agent, started again with the same id, can adopt it.
-- Once that lock lapses too, the job goes back to the queue like any other (a lost attempt).
if P.adoptWindowMs > 0 then
  for _, id in ipairs(lsCall('SMEMBERS', KEYS[1])) do
    local lock = base .. id .. ':lock'
    if lsCall('EXISTS', lock) == 0 then
      local rk = recKey(base, id)
      local f = lsCall('HMGET', rk, 'state', 'reattach')
      if (f[1] == 'running' or f[1] == 'claimed') and f[2] == '1' then
        lsCall('SET', lock, 'orphaned', 'PX', P.adoptWindowMs)
        lsCall('HSET', rk, 'state', 'orphaned', 'orphanedAt', now, 'updatedAt', now)
        lsCall('HDEL', rk, 'token')
        lsCall('PUBLISH', evChannel(base, id), 'state')
      end
    end
  end
end
local stalled = bull_moveStalledJobsToWait({ unpack(KEYS, 1, 9) }, { '1000000', base, tostring(now), tostring(P.intervalMs) })
local requeued = 0
for _, id in ipairs(stalled) do
  local rk = recKey(base, id)
  local state = lsCall('HGET', rk, 'state')
  local why = state == 'orphaned' and 'its agent did not come back to adopt its run within the adopt window (LONGSHORE_ADOPT_WINDOW)'
    or 'its agent stopped renewing its claim'
  local drop = function()
    lsCall('LREM', KEYS[2], 0, id)
    lsCall('DEL', base .. id, base .. id .. ':lock')
  end
  if not state or isFinal(state) then
    drop()
  elseif lsCall('HGET', rk, 'cancel') == '1' then
    drop()
    closeLost(base, id, now, why)
    lsCall('HSET', rk, 'failureClass', 'cancelled', 'message', 'cancelled while its agent was lost')
    finalize(base, id, 'cancelled', now, P.R)
  elseif closeLost(base, id, now, why) then
    drop()
    finalize(base, id, 'failed', now, P.R)
  else
    lsCall('HSET', rk, 'state', 'queued', 'updatedAt', now)
    lsCall('HDEL', rk, 'token', 'run', 'reattach', 'orphanedAt')
    indexAdd(base, id)
    lsCall('PUBLISH', evChannel(base, id), 'state')
    requeued = requeued + 1
  end
end
if requeued > 0 then lsCall('PUBLISH', base .. 'added', 'stalled') end
return #stalled
