-- Claims up to C.max jobs for one agent in one step, each the first in queue order that fits
-- what is still free after the ones before it (weight and per-lane room), each under its own
-- token (C.tokens). Stops at the first claim that gives no job.
-- C: base, agent, now, free, capacity, laneRoom ({lane = free slots} for capped lanes), tokens,
--    max, reserveAfter, resTtl, lockMs, R, classes, reservation.
-- Returns { n, (id, attempt, spec, trace) × n, tail kind ('none' | 'reserved'), tail value }.
local function claimMany(keys, C)
  local out = {}
  local n = 0
  local tail = { 'none', -1 }
  -- With no room at all it still looks once: an agent may take the pool's reservation then.
  while n < C.max and (n == 0 or C.free > 0) do
    C.fullLanes = {}
    for lane, room in pairs(C.laneRoom) do
      if room <= 0 then C.fullLanes[lane] = true end
    end
    C.token = C.tokens[n + 1]
    local r = fitClaim(keys, { C.base, tostring(C.now), claimOpts(C) }, C)
    if type(r[1]) ~= 'string' then break end
    if r[1] ~= 'job' then
      tail = r
      break
    end
    n = n + 1
    for i = 2, 5 do table.insert(out, r[i]) end
    local w, lane = string.match(r[6], '^(%d+):?(.*)$')
    C.free = C.free - tonumber(w)
    if lane ~= '' and C.laneRoom[lane] ~= nil then C.laneRoom[lane] = C.laneRoom[lane] - 1 end
  end
  table.insert(out, 1, n)
  table.insert(out, tail[1])
  table.insert(out, tail[2] or -1)
  return out
end
