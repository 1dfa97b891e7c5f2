-- lsAppendLogs: appends output lines, fenced: only while the job's token is the caller's.
-- Lines go in until the job's log reaches its cap, then one truncation marker, then nothing.
-- KEYS[1]: record; [2]: log. ARGV: [1] events channel, [2] token, [3] cap bytes, then pairs of
-- (stream, text). Returns the number of lines stored, or -1 when fenced off.
local rk, lk = KEYS[1], KEYS[2]
local f = redis.call('HMGET', rk, 'token', 'logTruncated', 'logBytes')
if f[1] ~= ARGV[2] then return -1 end
if f[2] == '1' then return 0 end
local cap = tonumber(ARGV[3])
local bytes = tonumber(f[3] or '0')
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
end
redis.call('HSET', rk, 'logBytes', bytes)
redis.call('PUBLISH', ARGV[1], 'log')
return stored
