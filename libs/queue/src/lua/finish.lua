-- lsFinish: an agent ends attempts — for each, the record and BullMQ's transport job move
-- together — and, when it asks, claims its next jobs in the same step (as BullMQ's fetch-next
-- does), so a busy agent makes one round trip per batch of runs that ended.
-- A failed attempt whose class has retries left (within maxAttempts) makes the job `retrying`
-- and puts it in BullMQ's delayed set for its backoff; otherwise the job ends.
-- KEYS[1..11]: BullMQ's moveToActive keys; [12] completed; [13] metrics; [14] classes;
-- [15] reservation.
-- ARGV[1]: JSON { base, now, R, ends = [{ id, token, state, exitCode, failureClass, message,
--   attempt (JSON text), budget, maxAttempts, delayMs }], next = claim params (as lsClaim) | null }.
-- Returns { { 'retry' | 'ended' | 'fenced' per end }, then lsClaim's result when `next` was given }.
local P = cjson.decode(ARGV[1])
local base, now = P.base, P.now
local nul = cjson.null
local results = {}
local ended = false
-- BullMQ's options for moving an ended job out of active. Token '0': BullMQ leaves the lock to
-- us — the record's token is the fence, checked below, and the lock goes with the job.
local finishOpts = cmsgpack.pack({ token = '0', keepJobs = { count = 0 }, lockDuration = 30000, attempts = 1, maxMetricsSize = '' })
-- A script's writes are not undone by a later error, so whatever could fail mid-batch is checked
-- first: each end whose fence holds must find its BullMQ job active. Otherwise the batch fails
-- with nothing written (its runs are abandoned and swept as lost), never half recorded.
-- The record fields each end needs are read here, once (a batch never holds one job twice).
local heldOf = {}
for i, E in ipairs(P.ends) do
  local held = lsCall('HMGET', recKey(base, E.id), 'token', 'attempts', 'logBytes')
  heldOf[i] = held
  if held[1] == E.token and (lsCall('EXISTS', base .. E.id) == 0 or not lsCall('LPOS', KEYS[2], E.id)) then
    error('job ' .. E.id .. ' is held under its fence but is not active in BullMQ: none of the ' .. #P.ends .. ' ends of this batch was recorded')
  end
end
for i, E in ipairs(P.ends) do
  local id = E.id
  local rk = recKey(base, id)
  local result
  local held = heldOf[i]
  if held[1] ~= E.token then
    result = 'fenced'
  else
    local n = tonumber(held[2])
    -- The attempt's fields, written with the state change in one HSET (and one HDEL).
    local set, gone = { 'a:' .. n, E.attempt }, {}
    if E.message ~= '' then set[#set + 1] = 'message'; set[#set + 1] = E.message else gone[#gone + 1] = 'message' end
    if E.exitCode ~= nul then set[#set + 1] = 'exitCode'; set[#set + 1] = E.exitCode else gone[#gone + 1] = 'exitCode' end
    if E.failureClass ~= nul then set[#set + 1] = 'failureClass'; set[#set + 1] = E.failureClass else gone[#gone + 1] = 'failureClass' end
    result = 'ended'
    if E.state == 'failed' and E.failureClass ~= nul then
      local f = lsCall('HMGET', rk, 'rc:' .. E.failureClass, 'handedBack')
      local used = tonumber(f[1] or '0')
      local counted = n - tonumber(f[2] or '0')
      if used < E.budget and (E.maxAttempts == 0 or counted < E.maxAttempts) then
        -- A lock that lapsed but was not swept yet is still ours: BullMQ's move checks it.
        reclaimLock(base, id, E.token)
        lsCall('HINCRBY', rk, 'rc:' .. E.failureClass, 1)
        for _, v in ipairs({ 'state', 'retrying', 'updatedAt', now, 'retryAt', now + E.delayMs }) do set[#set + 1] = v end
        for _, v in ipairs({ 'token', 'run', 'reattach' }) do gone[#gone + 1] = v end
        lsCall('HSET', rk, unpack(set))
        lsCall('HDEL', rk, unpack(gone))
        local r = bull_moveToDelayed(
          { KEYS[11], KEYS[2], KEYS[3], KEYS[7], base .. id, KEYS[4], KEYS[9], KEYS[5], KEYS[1], KEYS[6], KEYS[10] },
          { base, tostring(now), id, E.token, tostring(E.delayMs), '0', nil, '0' })
        if r ~= 0 then error('BullMQ could not delay job ' .. id .. ': ' .. tostring(r)) end
        lsCall('PUBLISH', evChannel(base, id), 'state')
        result = 'retry'
      end
    end
    if result == 'ended' then
      lsCall('DEL', base .. id .. ':lock')
      lsCall('SREM', KEYS[5], id)
      local r = bull_moveToFinished(
        { KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[12], base .. id, KEYS[13], KEYS[11] },
        { id, tostring(now), 'returnvalue', 'null', 'completed', '0', base, finishOpts })
      if r ~= 0 then error('BullMQ could not finish job ' .. id .. ': ' .. tostring(r)) end
      finalize(base, id, E.state, now, P.R, { set = set, gone = gone, message = E.message, logged = held[3] ~= false, deferTrim = true })
      ended = true
    end
  end
  table.insert(results, result)
end
-- Retention is trimmed once for the whole batch.
if ended then trimFinished(base, now, P.R) end
if P.next == nul or not P.next then return { results } end
local C = P.next
C.classes, C.reservation = KEYS[14], KEYS[15]
return { results, claimMany({ unpack(KEYS, 1, 11) }, C) }
