-- lsSubmit: stores a batch of one pool's new jobs — records, index, weight classes and BullMQ's
-- queue entries, and the idempotency key if given — in one step: wholly or not at all.
-- KEYS[1..9]: BullMQ's addPrioritizedJob keys (marker, meta, id, prioritized, delayed, completed,
-- active, events, pc); [10] index; [11] classes.
-- ARGV[1]: JSON { base, now, idem = { key, id, ttlMs } | null,
--   jobs = [{ id, fields = [k, v, …], name, bullPriority, cls, order }] }.
-- Returns {'ok'} | {'duplicate', existing id}.
local P = cjson.decode(ARGV[1])
local base = P.base
if P.idem ~= cjson.null and P.idem then
  local existing = lsCall('GET', P.idem.key)
  if existing then return { 'duplicate', existing } end
end
-- BullMQ keeps 10,000 queue events by default; nothing of Longshore's reads them (its own
-- records and channels say what happened), so a few are kept for people who look.
lsCall('HSETNX', KEYS[2], 'opts.maxLenEvents', 500)
local bullOpts = {}
for _, job in ipairs(P.jobs) do
  local rk = recKey(base, job.id)
  lsCall('HSET', rk, unpack(job.fields))
  lsCall('ZADD', KEYS[10], 0, job.id)
  local r = bull_addPrioritizedJob({ unpack(KEYS, 1, 9) }, {
    cmsgpack.pack({ base, job.id, job.name, tostring(P.now) }),
    '{}',
    cmsgpack.pack({ priority = job.bullPriority, attempts = 1 }),
  })
  if r ~= job.id then error('BullMQ refused job ' .. job.id .. ': ' .. tostring(r)) end
  lsCall('ZADD', base .. 'class:' .. job.cls, job.order, job.id)
  lsCall('SADD', KEYS[11], job.cls)
end
if P.idem ~= cjson.null and P.idem then lsCall('SET', P.idem.key, P.idem.id, 'PX', P.idem.ttlMs) end
lsCall('PUBLISH', base .. 'added', 'added')
return { 'ok' }
