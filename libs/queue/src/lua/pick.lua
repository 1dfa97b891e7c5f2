-- The fit-aware claim, run inside BullMQ's own moveToActive (its locks, events, delayed-job
-- promotion, rate-limit and pause handling untouched) in place of its last step, "pop the head
-- of the queue". BullMQ's prelude runs once per claim; then it takes, up to P.max times, the
-- first job in queue order (priority, then arrival) that fits what is still free (weight and
-- per-lane room), found through the weight-class index (one head per class, so the cost does
-- not grow with queue depth), claims the job's record in the same step under its own token
-- (`<P.tokenBase>:<n>`, n from 0), and stops at the first pick that gives no job.
--
-- P: base, agent, tokenBase, max, now, free, capacity, laneRoom ({lane = free slots} for capped
--    lanes), reserveAfter, resTtl, classes, reservation (keys), dueIds (delayed jobs the
--    prelude promoted), R (retention).
-- Returns { 'claims', { n, (id, attempt, spec, trace) × n, tail kind, tail value } }, tail:
-- 'reserved', id (this agent holds the reservation for it) | 'none', ms until a delayed job
-- is due or -1.
local prioritizedKey = KEYS[3]
local base = P.base
for _, id in ipairs(P.dueIds) do indexAdd(base, id) end

-- A class is `<weight>[:<lane>][@<executor>,…]`: its weight, lane (or nil) and the executors
-- that can run its jobs (or nil: any agent can).
local function parseClass(cls)
  local w, lane, execs = string.match(cls, '^(%d+):?([^@]*)@?(.*)$')
  if lane == '' then lane = nil end
  if execs == '' then execs = nil end
  return tonumber(w), lane, execs
end
local function laneFull(lane) return lane ~= nil and P.fullLanes[lane] == true end
-- The executors this agent can run now, as a set.
local canRun = {}
for _, e in ipairs(P.executors or {}) do canRun[e] = true end
local function runnableHere(execs)
  if execs == nil then return true end
  for e in string.gmatch(execs, '[^,]+') do
    if canRun[e] then return true end
  end
  return false
end

-- One head per weight class: the first that fits, and the first that could run here once this
-- agent drains (a reservation candidate), both in queue order.
-- The pool's classes are read once per claim: within it, only heads() removes one.
local classList
local function heads()
  local fit, fitScore, wait, waitScore, waitW
  classList = classList or lsCall('SMEMBERS', P.classes)
  local live = {}
  for _, cls in ipairs(classList) do
    local head = lsCall('ZRANGE', base .. 'class:' .. cls, 0, 0, 'WITHSCORES')
    if #head == 0 then
      lsCall('SREM', P.classes, cls)
    else
      live[#live + 1] = cls
      local w, lane, execs = parseClass(cls)
      local score = tonumber(head[2])
      if not runnableHere(execs) then
        -- Not for this agent: it has none of the executors these jobs can use.
      elseif w <= P.free and not laneFull(lane) then
        if not fit or score < fitScore or (score == fitScore and head[1] < fit) then fit, fitScore = head[1], score end
      elseif w <= P.capacity and not laneFull(lane) then
        if not wait or score < waitScore or (score == waitScore and head[1] < wait) then wait, waitScore, waitW = head[1], score, w end
      end
    end
  end
  classList = live
  return fit, fitScore, wait, waitScore, waitW
end

-- Moves a claimable job to active under the caller's lock, then claims its record.
-- Returns the result for the caller, or nil when the job needs no run (cancelled, gone, or
-- out of lost-attempt budget): it was dropped and the caller looks again.
local function take(id)
  local rk = recKey(base, id)
  local f = lsCall('HMGET', rk, 'state', 'cancel', 'attempts', 'spec', 'trace', 'cls')
  local state = f[1]
  if f[6] then lsCall('ZREM', base .. 'class:' .. f[6], id) end
  if lsCall('ZREM', prioritizedKey, id) == 0 then lsCall('LREM', waitKey, 1, id) end
  lsCall('LPUSH', activeKey, id)
  prepareJobForProcessing(ARGV[1], rateLimiterKey, eventStreamKey, id, ARGV[2], maxJobs, limiterDuration, markerKey, opts)
  if not state or isFinal(state) then
    dropTransport(base, activeKey, KEYS[5], id)
    return nil
  end
  if f[2] == '1' then
    dropTransport(base, activeKey, KEYS[5], id)
    lsCall('HSET', rk, 'failureClass', 'cancelled', 'message', 'cancelled before it started')
    finalize(base, id, 'cancelled', P.now, P.R)
    return nil
  end
  if (state == 'claimed' or state == 'running') and closeLost(base, id, P.now, 'its agent stopped renewing its claim') then
    dropTransport(base, activeKey, KEYS[5], id)
    finalize(base, id, 'failed', P.now, P.R)
    return nil
  end
  local n = tonumber(f[3] or '0') + 1
  local attempt = cjson.encode({ agentId = P.agent, startedAt = P.now })
  lsCall('HSET', rk, 'attempts', n, 'a:' .. n, attempt, 'state', 'running', 'token', P.token, 'agent', P.agent, 'updatedAt', P.now)
  if state == 'retrying' then lsCall('HDEL', rk, 'retryAt') end
  lsCall('PUBLISH', evChannel(base, id), 'state')
  return { 'job', id, n, f[4], f[5] or '', f[6] }
end

local function nextDue()
  local d = lsCall('ZRANGE', KEYS[7], 0, 0, 'WITHSCORES')
  if #d == 0 then return -1 end
  return math.max(0, math.floor(tonumber(d[2]) / 0x1000) - P.now)
end

-- The pool's reservation, read (and checked: is its job still claimable?) once per claim;
-- within the claim only this script changes it.
local resChecked, resJob, resAgent = false, nil, nil
local function dropReservation()
  lsCall('DEL', P.reservation)
  resJob, resAgent = nil, nil
end

-- One pick: {'job', id, attempt, spec, trace, cls} | {'reserved', id} | {'none', ms or -1}.
local function pickOne()
  if not resChecked then
    resChecked = true
    local res = lsCall('GET', P.reservation)
    if res then
      resJob, resAgent = string.match(res, '^([^|]+)|([^|]+)')
      local cls = resJob and lsCall('HGET', recKey(base, resJob), 'cls')
      if not cls or not lsCall('ZSCORE', base .. 'class:' .. cls, resJob) then dropReservation() end
    end
  end

  -- Holding a reservation: admit nothing but its job, and only once it fits.
  if resJob and resAgent == P.agent then
    local w, lane = parseClass(lsCall('HGET', recKey(base, resJob), 'cls'))
    if w <= P.free and not laneFull(lane) then
      local job = resJob
      dropReservation()
      local r = take(job)
      if r then return r end
    else
      lsCall('PEXPIRE', P.reservation, P.resTtl)
      return { 'reserved', resJob }
    end
  end

  for _ = 1, 20 do
    local fit, fitScore, wait, waitScore, waitW = heads()
    -- A job ahead of the first fitting one that waited past the threshold, and could run here once
    -- this agent drains, gets the pool's one reservation: from now on this agent admits nothing else.
    if not resJob and wait and (not fit or waitScore < fitScore) then
      local since = waitScore % 0x40000000000
      if P.now - since >= P.reserveAfter then
        lsCall('SET', P.reservation, wait .. '|' .. P.agent .. '|' .. waitW .. '|' .. P.now, 'PX', P.resTtl)
        resJob, resAgent = wait, P.agent
        return { 'reserved', wait }
      end
    end
    if not fit then return { 'none', nextDue() } end
    -- Any agent that can start the reserved job now takes it; the reservation is then over.
    if fit == resJob then dropReservation() end
    local r = take(fit)
    if r then return r end
  end
  return { 'none', 0 }
end

local out, n, tail = {}, 0, { 'none', -1 }
-- With no room at all it still looks once: an agent may take the pool's reservation then.
while n < P.max and (n == 0 or P.free > 0) do
  P.fullLanes = {}
  for lane, room in pairs(P.laneRoom) do
    if room <= 0 then P.fullLanes[lane] = true end
  end
  P.token = P.tokenBase .. ':' .. n
  opts['token'] = P.token -- BullMQ's lock on the job is this pick's token
  local r = pickOne()
  if r[1] ~= 'job' then
    tail = r
    break
  end
  n = n + 1
  for i = 2, 5 do out[#out + 1] = r[i] end
  local w, lane = parseClass(r[6])
  P.free = P.free - w
  if lane ~= nil and P.laneRoom[lane] ~= nil then P.laneRoom[lane] = P.laneRoom[lane] - 1 end
end
table.insert(out, 1, n)
out[#out + 1] = tail[1]
out[#out + 1] = tail[2] or -1
return { 'claims', out }
