-- Claims up to C.max jobs for one agent in one step (see pick.lua, which runs inside BullMQ's
-- moveToActive so its prelude — delayed-job promotion, pause and rate-limit checks — runs once).
-- C: base, agent, now, free, capacity, laneRoom ({lane = free slots} for capped lanes), tokenBase,
--    max, reserveAfter, resTtl, lockMs, R, classes, reservation.
-- Returns { n, (id, attempt, spec, trace) × n, tail kind ('none' | 'reserved'), tail value }.
local function claimMany(keys, C)
  C.token = C.tokenBase .. ':0'
  local r = fitClaim(keys, { C.base, tostring(C.now), claimOpts(C) }, C)
  -- BullMQ's prelude answers with numbers when the queue is paused or rate-limited: nothing to claim.
  if r[1] ~= 'claims' then return { 0, 'none', -1 } end
  return r[2]
end
