-- lsClaim: an agent takes the first queued jobs that fit it (see pick.lua, claim-many.lua).
-- KEYS[1..11]: BullMQ's moveToActive keys; [12] classes; [13] reservation.
-- ARGV[1]: JSON claim params (as claim-many.lua's C, without classes and reservation).
local C = cjson.decode(ARGV[1])
C.classes, C.reservation = KEYS[12], KEYS[13]
return claimMany({ unpack(KEYS, 1, 11) }, C)
