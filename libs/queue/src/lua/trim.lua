-- lsTrim: deletes a pool's `count` oldest finished jobs (record, log, index entry), to bring
-- Redis under LONGSHORE_REDIS_BUDGET. KEYS[1]: finished; [2]: index. ARGV[1]: base, [2]: count.
-- Returns how many were deleted.
local base = ARGV[1]
local victims = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, v in ipairs(victims) do
  redis.call('DEL', base .. 'rec:' .. v, base .. 'log:' .. v)
  redis.call('ZREM', KEYS[1], v)
  redis.call('ZREM', KEYS[2], v)
end
return #victims
