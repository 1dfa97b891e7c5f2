-- lsHeldBy: the jobs of a pool whose latest attempt belongs to an agent id and has not ended
-- (claimed, running, or orphaned while their agent was away), for that agent when it starts
-- again: it re-adopts the runs that are still alive and clears up the rest.
-- KEYS[1]: BullMQ's active list. ARGV: base, agent id.
-- Returns { id, state, attempt, run reference or '', '1' | '0' (re-attachable) } per job.
local base, agent = ARGV[1], ARGV[2]
local out = {}
for _, id in ipairs(lsCall('LRANGE', KEYS[1], 0, -1)) do
  local f = lsCall('HMGET', recKey(base, id), 'agent', 'state', 'attempts', 'run', 'reattach')
  if f[1] == agent and (f[2] == 'claimed' or f[2] == 'running' or f[2] == 'orphaned') then
    out[#out + 1] = { id, f[2], f[3] or '0', f[4] or '', f[5] or '0' }
  end
end
return out
