-- lsSubmit: stores a batch of one pool's new jobs — records, index, weight classes and BullMQ's
-- queue entries, and the idempotency key if given — in one step: wholly or not at all.
-- KEYS[1..9]: BullMQ's addPrioritizedJob keys (marker, meta, id, prioritized, delayed, completed,
-- active, events, pc); [10] index; [11] classes.
-- ARGV[1]: JSON { base, idem = { key, id, ttlMs } | null, count }; then per job, in order:
--   id, BullMQ's packed args, BullMQ's packed opts, weight class, queue order, n, then n record
--   field/value pairs. Flat, so nothing per job is decoded here (a JSON payload of 1,000 jobs
--   cost more to decode than storing them), and BullMQ's msgpack arguments come packed.
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
local bullKeys = { unpack(KEYS, 1, 9) } -- BullMQ's script only reads them
-- The index and weight-class entries are added together after the loop: fewer calls.
local index, classes = {}, {}
local at = 2
for _ = 1, P.count do
  local id, cls, order, n = ARGV[at], ARGV[at + 3], ARGV[at + 4], tonumber(ARGV[at + 5])
  lsCall('HSET', recKey(base, id), unpack(ARGV, at + 6, at + 5 + 2 * n))
  local r = bull_addPrioritizedJob(bullKeys, { ARGV[at + 1], '{}', ARGV[at + 2] })
  if r ~= id then error('BullMQ refused job ' .. id .. ': ' .. tostring(r)) end
  index[#index + 1] = 0
  index[#index + 1] = id
  local members = classes[cls]
  if not members then
    members = {}
    classes[cls] = members
  end
  members[#members + 1] = order
  members[#members + 1] = id
  at = at + 6 + 2 * n
end
-- In chunks, well inside Lua's limit on unpacked values.
local function zaddAll(key, pairs)
  for i = 1, #pairs, 1000 do lsCall('ZADD', key, unpack(pairs, i, math.min(i + 999, #pairs))) end
end
zaddAll(KEYS[10], index)
for cls, members in pairs(classes) do
  zaddAll(base .. 'class:' .. cls, members)
  lsCall('SADD', KEYS[11], cls)
end
if P.idem ~= cjson.null and P.idem then lsCall('SET', P.idem.key, P.idem.id, 'PX', P.idem.ttlMs) end
lsCall('PUBLISH', base .. 'added', 'added')
return { 'ok' }
