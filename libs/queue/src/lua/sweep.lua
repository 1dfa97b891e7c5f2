-- lsSweep: BullMQ's stalled-job check (a job whose lock lapsed — its agent died, or was paused
-- or cut off — goes back to the queue), with each such job's record moved in the same step: its
-- attempt closed as `lost`, and the job queued again, or failed when it is out of lost-attempt
-- budget. Agents are woken at once when a job came back.
-- KEYS[1..9]: BullMQ's moveStalledJobsToWait keys (stalled, wait, active, stalled-check, meta,
-- paused, marker, events, repeat). ARGV[1]: JSON { base, now, intervalMs, R }.
-- Returns the number of jobs put back or ended.
local P = cjson.decode(ARGV[1])
local base, now = P.base, P.now
local stalled = bull_moveStalledJobsToWait({ unpack(KEYS, 1, 9) }, { '1000000', base, tostring(now), tostring(P.intervalMs) })
local requeued = 0
for _, id in ipairs(stalled) do
  local rk = recKey(base, id)
  local state = lsCall('HGET', rk, 'state')
  local drop = function()
    lsCall('LREM', KEYS[2], 0, id)
    lsCall('DEL', base .. id, base .. id .. ':lock')
  end
  if not state or isFinal(state) then
    drop()
  elseif lsCall('HGET', rk, 'cancel') == '1' then
    drop()
    closeLost(base, id, now, 'its agent stopped renewing its claim')
    lsCall('HSET', rk, 'failureClass', 'cancelled', 'message', 'cancelled while its agent was lost')
    finalize(base, id, 'cancelled', now, P.R)
  elseif closeLost(base, id, now, 'its agent stopped renewing its claim') then
    drop()
    finalize(base, id, 'failed', now, P.R)
  else
    lsCall('HSET', rk, 'state', 'queued', 'updatedAt', now)
    lsCall('HDEL', rk, 'token')
    indexAdd(base, id)
    lsCall('PUBLISH', evChannel(base, id), 'state')
    requeued = requeued + 1
  end
end
if requeued > 0 then lsCall('PUBLISH', base .. 'added', 'stalled') end
return #stalled
