-- Shared by every lifecycle script: the job record's keys and the transitions several scripts
-- make. `base` is the pool's tagged prefix `<prefix>:{<pool>}:` (PoolKeys.base); every key a
-- script derives starts with it, so a script touches exactly one Redis Cluster slot.
local lsCall = redis.call

local function recKey(base, id) return base .. 'rec:' .. id end
local function logKey(base, id) return base .. 'log:' .. id end
local function evChannel(base, id) return base .. 'ev:' .. id end

local function isFinal(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end

-- The weight-class index: every claimable job (in BullMQ's wait list or prioritized set) is in
-- exactly one `class:<weight>[:<lane>]` sorted set, scored by its queue order, so a claim finds
-- the first job that fits by looking at one head per class, at any queue depth.
local function indexAdd(base, id)
  local f = lsCall('HMGET', recKey(base, id), 'cls', 'order')
  if not f[1] then return end
  lsCall('ZADD', base .. 'class:' .. f[1], f[2], id)
  lsCall('SADD', base .. 'classes', f[1])
end
local function indexRemove(base, id)
  local cls = lsCall('HGET', recKey(base, id), 'cls')
  if cls then lsCall('ZREM', base .. 'class:' .. cls, id) end
end

-- Deletes the oldest finished jobs of the pool: those past retentionMs and those beyond
-- maxFinished, at most 200 per call, so a call stays short.
local function trimFinished(base, now, R)
  local finished = base .. 'finished'
  local victims = lsCall('ZRANGEBYSCORE', finished, '-inf', now - R.retentionMs, 'LIMIT', 0, 100)
  local over = lsCall('ZCARD', finished) - #victims - R.maxFinished
  if over > 0 then
    local more = lsCall('ZRANGE', finished, #victims, #victims + math.min(over, 100) - 1)
    for _, v in ipairs(more) do table.insert(victims, v) end
  end
  for _, v in ipairs(victims) do
    lsCall('DEL', recKey(base, v), logKey(base, v))
    lsCall('ZREM', finished, v)
    lsCall('ZREM', base .. 'index', v)
  end
end

-- What only a queued or running job needs: a finished record drops it, so it stays small
-- (RetryJob, which reopens it, writes these again). Its last change is its finish (updatedAt
-- reads finishedAt).
local TRANSIENT_FIELDS = { 'token', 'cls', 'order', 'lostBudget', 'maxAttempts', 'trace', 'retryAt', 'updatedAt', 'run', 'reattach', 'orphanedAt', 'logLines' }

-- A job reaches its final state: recorded, set to expire, and the pool's oldest finished jobs
-- trimmed. R = { retentionMs, maxFinished }. `x` (optional), from a caller that already knows:
-- set/gone = more fields to write/delete in the same HSET/HDEL; message and logged = the
-- message it stores and whether the job has a log (else both are read); deferTrim = the caller
-- trims once for its whole batch.
local function finalize(base, id, state, now, R, x)
  x = x or {}
  local rk = recKey(base, id)
  local set = x.set or {}
  set[#set + 1] = 'state'
  set[#set + 1] = state
  set[#set + 1] = 'finishedAt'
  set[#set + 1] = now
  lsCall('HSET', rk, unpack(set))
  local message, logged = x.message, x.logged
  if message == nil then
    local f = lsCall('HMGET', rk, 'message', 'logBytes')
    message, logged = f[1], f[2] ~= false
  end
  local gone = x.gone or {}
  for _, f in ipairs(TRANSIENT_FIELDS) do gone[#gone + 1] = f end
  -- An empty message says nothing.
  if message == '' then gone[#gone + 1] = 'message' end
  lsCall('HDEL', rk, unpack(gone))
  local ttl = math.max(1, math.ceil(R.retentionMs / 1000))
  lsCall('EXPIRE', rk, ttl)
  if logged then lsCall('EXPIRE', logKey(base, id), ttl) end
  lsCall('ZADD', base .. 'finished', now, id)
  if not x.deferTrim then trimFinished(base, now, R) end
  lsCall('PUBLISH', evChannel(base, id), 'state')
end

-- Closes an attempt whose agent stopped renewing its claim as `lost`. Returns true when the job
-- has been lost more often than its budget allows (or is out of attempts): it must fail.
local function closeLost(base, id, now, message)
  local rk = recKey(base, id)
  local n = tonumber(lsCall('HGET', rk, 'attempts') or '0')
  if n == 0 then return false end
  local raw = lsCall('HGET', rk, 'a:' .. n)
  if not raw then return false end
  local prev = cjson.decode(raw)
  if prev.finishedAt ~= nil then return false end
  prev.finishedAt = now
  prev.failureClass = 'lost'
  prev.message = message
  lsCall('HSET', rk, 'a:' .. n, cjson.encode(prev))
  local lost = lsCall('HINCRBY', rk, 'rc:lost', 1)
  local maxAttempts = tonumber(lsCall('HGET', rk, 'maxAttempts') or '0')
  local counted = n - tonumber(lsCall('HGET', rk, 'handedBack') or '0')
  if lost > tonumber(lsCall('HGET', rk, 'lostBudget') or '0') or (maxAttempts > 0 and counted >= maxAttempts) then
    lsCall('HSET', rk, 'failureClass', 'lost', 'message', 'its agent was lost ' .. lost .. ' time(s) and no retries are left')
    lsCall('HDEL', rk, 'exitCode')
    return true
  end
  return false
end

-- Drops BullMQ's transport job of a job that needs no run (BullMQ keeps none for removed jobs).
local function dropTransport(base, activeKey, stalledKey, id)
  lsCall('LREM', activeKey, -1, id)
  lsCall('SREM', stalledKey, id)
  lsCall('DEL', base .. id, base .. id .. ':lock')
end

-- The caller's record token matched, so the job is still its own: a BullMQ lock that lapsed
-- (and was not swept yet, or the sweep would have taken the token) is set again, so BullMQ's
-- own scripts accept the move.
local function reclaimLock(base, id, token)
  local lock = base .. id .. ':lock'
  if lsCall('GET', lock) ~= token then lsCall('SET', lock, token, 'PX', 5000) end
end

-- BullMQ's moveToActive options for a claim, msgpacked as BullMQ's own client does.
local function claimOpts(C)
  return cmsgpack.pack({ token = C.token, lockDuration = C.lockMs, name = C.agent })
end
