-- lsAppendLogs: appends output lines, fenced: only while the job's token is the caller's.
-- Lines go in until the job's log reaches its cap, then one truncation marker, then nothing.
-- KEYS[1]: record; [2]: log. ARGV: [1] events channel, [2] token, [3] cap bytes, then pairs of
-- (stream, text). Returns the number of lines stored, or -1 when fenced off. Counts the
-- running attempt's stdout and stderr lines (`logLines` = attempt:stdout:stderr), so an agent
-- that adopts the run re-attaches after the last line stored.
local rk, lk = KEYS[1], KEYS[2]
local f = redis.call('HMGET', rk, 'token', 'logTruncated', 'logBytes', 'attempts', 'logLines')
if f[1] ~= ARGV[2] then return -1 end
if f[2] == '1' then return 0 end
local cap = tonumber(ARGV[3])
local bytes = tonumber(f[3] or '0')
local attempt = f[4] or '0'
local out, err = 0, 0
if f[5] then
  local a, o, e = string.match(f[5], '^(%d+):(%d+):(%d+)$')
  if a == attempt then out, err = tonumber(o), tonumber(e) end
end
local stored = 0
for i = 4, #ARGV, 2 do
  local text = ARGV[i + 1]
  if bytes + #text > cap then
    redis.call('XADD', lk, '*', 's', 'system', 't', '[longshore] log truncated: this job reached its log cap of ' .. cap .. ' bytes; later output was dropped')
    redis.call('HSET', rk, 'logTruncated', '1')
    break
  end
  bytes = bytes + #text
  redis.call('XADD', lk, '*', 's', ARGV[i], 't', text)
  stored = stored + 1
  if ARGV[i] == 'stdout' then out = out + 1 elseif ARGV[i] == 'stderr' then err = err + 1 end
end
redis.call('HSET', rk, 'logBytes', bytes, 'logLines', attempt .. ':' .. out .. ':' .. err)
redis.call('PUBLISH', ARGV[1], 'log')
return stored
