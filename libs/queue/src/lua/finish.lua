-- lsFinish: an agent ends its attempt — the record and BullMQ's transport job move together —
-- and, when it asks, claims its next job in the same step (as BullMQ's fetch-next does).
-- A failed attempt whose class has retries left (within maxAttempts) makes the job `retrying`
-- and puts it in BullMQ's delayed set for its backoff; otherwise the job ends.
-- KEYS[1..11]: BullMQ's moveToActive keys; [12] completed; [13] metrics; [14] classes;
-- [15] reservation.
-- ARGV[1]: JSON { base, id, token, now, state, exitCode, failureClass, message, attempt (JSON
--   text), budget, maxAttempts, delayMs, R, next = claim params (as lsClaim) | null }.
-- Returns { 'retry' | 'ended' | 'fenced', then the next claim's result (as lsClaim) or 'none' }.
local P = cjson.decode(ARGV[1])
local base, id, now = P.base, P.id, P.now
local rk = recKey(base, id)
local nul = cjson.null
local result
if lsCall('HGET', rk, 'token') ~= P.token then
  result = 'fenced'
else
  -- The record's token is the fence. A lock that lapsed but was not swept yet is still ours.
  reclaimLock(base, id, P.token)
  local n = tonumber(lsCall('HGET', rk, 'attempts'))
  lsCall('HSET', rk, 'a:' .. n, P.attempt, 'message', P.message)
  if P.exitCode ~= nul then lsCall('HSET', rk, 'exitCode', P.exitCode) else lsCall('HDEL', rk, 'exitCode') end
  if P.failureClass ~= nul then lsCall('HSET', rk, 'failureClass', P.failureClass) else lsCall('HDEL', rk, 'failureClass') end
  result = 'ended'
  if P.state == 'failed' and P.failureClass ~= nul then
    local used = tonumber(lsCall('HGET', rk, 'rc:' .. P.failureClass) or '0')
    local counted = n - tonumber(lsCall('HGET', rk, 'handedBack') or '0')
    if used < P.budget and (P.maxAttempts == 0 or counted < P.maxAttempts) then
      lsCall('HINCRBY', rk, 'rc:' .. P.failureClass, 1)
      lsCall('HSET', rk, 'state', 'retrying', 'updatedAt', now, 'retryAt', now + P.delayMs)
      lsCall('HDEL', rk, 'token')
      local r = bull_moveToDelayed(
        { KEYS[11], KEYS[2], KEYS[3], KEYS[7], base .. id, KEYS[4], KEYS[9], KEYS[5], KEYS[1], KEYS[6], KEYS[10] },
        { base, tostring(now), id, P.token, tostring(P.delayMs), '0', nil, '0' })
      if r ~= 0 then error('BullMQ could not delay job ' .. id .. ': ' .. tostring(r)) end
      lsCall('PUBLISH', evChannel(base, id), 'state')
      result = 'retry'
    end
  end
  if result == 'ended' then
    local r = bull_moveToFinished(
      { KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[12], base .. id, KEYS[13], KEYS[11] },
      { id, tostring(now), 'returnvalue', 'null', 'completed', '0', base,
        cmsgpack.pack({ token = P.token, keepJobs = { count = 0 }, lockDuration = P.lockMs or 30000, attempts = 1, maxMetricsSize = '' }) })
    if r ~= 0 then error('BullMQ could not finish job ' .. id .. ': ' .. tostring(r)) end
    finalize(base, id, P.state, now, P.R)
  end
end
if P.next == nul or not P.next then return { result, 'none' } end
local C = P.next
local lanes = {}
for _, l in ipairs(C.fullLanes) do lanes[l] = true end
C.fullLanes = lanes
C.base, C.now, C.R = base, now, P.R
C.classes, C.reservation = KEYS[14], KEYS[15]
local r = fitClaim({ unpack(KEYS, 1, 11) }, { base, tostring(now), claimOpts(C) }, C)
if type(r[1]) ~= 'string' then return { result, 'none', -1 } end
table.insert(r, 1, result)
return r
