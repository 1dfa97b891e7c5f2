-- lsClaim: an agent takes the first queued job that fits it (see pick.lua).
-- KEYS[1..11]: BullMQ's moveToActive keys; [12] classes; [13] reservation.
-- ARGV[1]: JSON { base, agent, token, now, free, capacity, fullLanes[], reserveAfter, resTtl, lockMs, R }.
local P = cjson.decode(ARGV[1])
local lanes = {}
for _, l in ipairs(P.fullLanes) do lanes[l] = true end
P.fullLanes = lanes
P.classes, P.reservation = KEYS[12], KEYS[13]
local r = fitClaim({ unpack(KEYS, 1, 11) }, { P.base, tostring(P.now), claimOpts(P) }, P)
if type(r[1]) ~= 'string' then return { 'none', -1 } end
return r
