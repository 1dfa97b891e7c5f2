-- lsSubmit: stores a batch of one pool's new jobs — records, index, weight classes and BullMQ's
-- queue entries, and the idempotency key if given — in one step: wholly or not at all.
-- KEYS[1..9]: BullMQ's addPrioritizedJob keys (marker, meta, id, prioritized, delayed, completed,
-- active, events, pc); [10] index; [11] classes.
-- ARGV[1]: JSON { base, idem = { key, id, ttlMs } | null }.
-- ARGV[2]: now (ms). ARGV[3]: the batch, one msgpack argument (so neither the client nor Redis
--   handles tens of thousands of arguments for a batch of 1,000): { shapes, jobs }. A shape is
--   what jobs of a batch mostly share, sent once: { BullMQ job name, BullMQ priority, weight
--   class, queue order, { the record's other fields and values, flat } }; jobs is flat, three
--   values a job, in order: id, spec (JSON), its shape's number. (Redis's cmsgpack cannot read
--   msgpack's bin type, so BullMQ's own packed arguments are packed here.)
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
local now = ARGV[2]
local B = cmsgpack.unpack(ARGV[3])
local shapes, jobs = B[1], B[2]
for _, S in ipairs(shapes) do
  S.opts = cmsgpack.pack({ priority = S[2], attempts = 1 })
  if not classes[S[3]] then classes[S[3]] = {} end
end
for i = 1, #jobs, 3 do
  local id, S = jobs[i], shapes[jobs[i + 2]]
  lsCall('HSET', recKey(base, id), 'id', id, 'spec', jobs[i + 1], unpack(S[5]))
  local r = bull_addPrioritizedJob(bullKeys, { cmsgpack.pack({ base, id, S[1], now }), '{}', S.opts })
  if r ~= id then error('BullMQ refused job ' .. id .. ': ' .. tostring(r)) end
  index[#index + 1] = 0
  index[#index + 1] = id
  local members = classes[S[3]]
  members[#members + 1] = S[4]
  members[#members + 1] = id
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
