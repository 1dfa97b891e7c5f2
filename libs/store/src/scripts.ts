import type { Redis } from 'ioredis';

/**
 * Lua scripts for every job-record transition. Each runs atomically in Redis, and every write
 * by an agent is fenced: it applies only while the job's `token` is the one the agent claimed
 * with, so an agent that lost its claim (it stalled, its lock expired, the job was handed to
 * someone else) can no longer change the job or append to its log.
 *
 * Keys other than KEYS[] are built from the prefix in ARGV; that is fine on a single Redis or
 * Sentinel, and is what a Redis Cluster deployment would change (see README, "Redis").
 */

/** Shared by the scripts that end a job: final state, end-of-log marker, expiry, retention trim. */
const FINALIZE = `
local function finalize(jobKey, logKey, prefix, id, state, now, retentionMs, maxFinished)
  redis.call('HSET', jobKey, 'state', state, 'updatedAt', now, 'finishedAt', now)
  redis.call('HDEL', jobKey, 'token')
  redis.call('XADD', logKey, '*', 'e', 'end')
  local ttl = math.max(1, math.ceil(retentionMs / 1000))
  redis.call('EXPIRE', jobKey, ttl)
  redis.call('EXPIRE', logKey, ttl)
  local finished = prefix .. ':jobs:finished'
  local jobs = prefix .. ':jobs'
  redis.call('ZADD', finished, now, id)
  local victims = redis.call('ZRANGEBYSCORE', finished, '-inf', now - retentionMs, 'LIMIT', 0, 100)
  local over = redis.call('ZCARD', finished) - maxFinished
  if over > 0 then
    local more = redis.call('ZRANGE', finished, 0, math.min(over, 100) - 1)
    for _, v in ipairs(more) do table.insert(victims, v) end
  end
  for _, v in ipairs(victims) do
    redis.call('DEL', prefix .. ':job:' .. v, prefix .. ':log:' .. v)
    redis.call('ZREM', finished, v)
    redis.call('ZREM', jobs, v)
  end
  redis.call('PUBLISH', prefix .. ':ev:' .. id, 'state')
end
local function isFinal(state)
  return state == 'succeeded' or state == 'failed' or state == 'cancelled'
end
`;

/**
 * KEYS: job, log. ARGV: prefix, id, token, agentId, attemptJson, now, retentionMs, maxFinished,
 * lostBudget, maxAttempts. Returns 'missing', a final state (nothing to run), or
 * 'ok:<attempt number>'. A previous attempt still open (its agent was lost) is closed as `lost`;
 * when the job has been lost more often than its budget allows, it fails instead of running.
 */
const CLAIM = `${FINALIZE}
local jobKey, logKey = KEYS[1], KEYS[2]
local prefix, id, token, agent, attempt, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
if redis.call('EXISTS', jobKey) == 0 then return 'missing' end
local state = redis.call('HGET', jobKey, 'state')
if isFinal(state) then return state end
if redis.call('HGET', jobKey, 'cancel') == '1' then
  redis.call('HSET', jobKey, 'failureClass', 'cancelled', 'message', 'cancelled before it started')
  finalize(jobKey, logKey, prefix, id, 'cancelled', now, tonumber(ARGV[7]), tonumber(ARGV[8]))
  return 'cancelled'
end
local n = tonumber(redis.call('HGET', jobKey, 'attempts') or '0')
if n > 0 and (state == 'claimed' or state == 'running') then
  local prev = cjson.decode(redis.call('HGET', jobKey, 'a:' .. n))
  if prev.finishedAt == nil then
    prev.finishedAt = now
    prev.failureClass = 'lost'
    prev.message = 'its agent stopped renewing its claim'
    redis.call('HSET', jobKey, 'a:' .. n, cjson.encode(prev))
    local lost = redis.call('HINCRBY', jobKey, 'rc:lost', 1)
    local maxAttempts = tonumber(ARGV[10])
    local counted = n - tonumber(redis.call('HGET', jobKey, 'handedBack') or '0')
    if lost > tonumber(ARGV[9]) or (maxAttempts > 0 and counted >= maxAttempts) then
      redis.call('HSET', jobKey, 'failureClass', 'lost', 'message', 'its agent was lost ' .. lost .. ' time(s) and no retries are left')
      redis.call('HDEL', jobKey, 'exitCode')
      finalize(jobKey, logKey, prefix, id, 'failed', now, tonumber(ARGV[7]), tonumber(ARGV[8]))
      return 'failed'
    end
  end
end
n = n + 1
redis.call('HSET', jobKey, 'attempts', n, 'a:' .. n, attempt, 'state', 'claimed', 'token', token, 'agent', agent, 'updatedAt', now)
redis.call('PUBLISH', prefix .. ':ev:' .. id, 'state')
return 'ok:' .. n
`;

/** KEYS: job. ARGV: prefix, id, token, now. Returns 1, or 0 when fenced off. */
const MARK_RUNNING = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'running', 'updatedAt', ARGV[4])
redis.call('PUBLISH', ARGV[1] .. ':ev:' .. ARGV[2], 'state')
return 1
`;

/**
 * KEYS: job, log. ARGV: prefix, id, token, capBytes, then pairs of (stream, text).
 * Appends lines until the job's log reaches its cap, then one truncation marker, then nothing.
 * Returns the number of lines stored, or -1 when fenced off.
 */
const APPEND_LOGS = `
local jobKey, logKey = KEYS[1], KEYS[2]
if redis.call('HGET', jobKey, 'token') ~= ARGV[3] then return -1 end
if redis.call('HGET', jobKey, 'logTruncated') == '1' then return 0 end
local cap = tonumber(ARGV[4])
local bytes = tonumber(redis.call('HGET', jobKey, 'logBytes') or '0')
local stored = 0
for i = 5, #ARGV, 2 do
  local text = ARGV[i + 1]
  if bytes + #text > cap then
    redis.call('XADD', logKey, '*', 's', 'system', 't', '[longshore] log truncated: this job reached its log cap of ' .. cap .. ' bytes; later output was dropped')
    redis.call('HSET', jobKey, 'logTruncated', '1')
    break
  end
  bytes = bytes + #text
  redis.call('XADD', logKey, '*', 's', ARGV[i], 't', text)
  stored = stored + 1
end
redis.call('HSET', jobKey, 'logBytes', bytes)
redis.call('PUBLISH', ARGV[1] .. ':ev:' .. ARGV[2], 'log')
return stored
`;

/**
 * KEYS: job, log. ARGV: prefix, id, token, state, now, retentionMs, maxFinished, exitCode|'',
 * failureClass|'', message, attemptJson, retryBudget, maxAttempts, retryDelayMs.
 * Ends the attempt if the token still matches. A failed attempt whose class has retries left
 * (and within maxAttempts) leaves the job `retrying`; otherwise the job ends.
 * Returns 2 (retry), 1 (ended), or 0 when fenced off.
 */
const FINISH = `${FINALIZE}
local jobKey, logKey = KEYS[1], KEYS[2]
if redis.call('HGET', jobKey, 'token') ~= ARGV[3] then return 0 end
local n = tonumber(redis.call('HGET', jobKey, 'attempts'))
local now = tonumber(ARGV[5])
redis.call('HSET', jobKey, 'a:' .. n, ARGV[11], 'message', ARGV[10])
if ARGV[8] ~= '' then redis.call('HSET', jobKey, 'exitCode', ARGV[8]) else redis.call('HDEL', jobKey, 'exitCode') end
if ARGV[9] ~= '' then redis.call('HSET', jobKey, 'failureClass', ARGV[9]) else redis.call('HDEL', jobKey, 'failureClass') end
if ARGV[4] == 'failed' and ARGV[9] ~= '' then
  local used = tonumber(redis.call('HGET', jobKey, 'rc:' .. ARGV[9]) or '0')
  local maxAttempts = tonumber(ARGV[13])
  local counted = n - tonumber(redis.call('HGET', jobKey, 'handedBack') or '0')
  if used < tonumber(ARGV[12]) and (maxAttempts == 0 or counted < maxAttempts) then
    redis.call('HINCRBY', jobKey, 'rc:' .. ARGV[9], 1)
    redis.call('HSET', jobKey, 'state', 'retrying', 'updatedAt', now, 'retryAt', now + tonumber(ARGV[14]))
    redis.call('HDEL', jobKey, 'token')
    redis.call('PUBLISH', ARGV[1] .. ':ev:' .. ARGV[2], 'state')
    return 2
  end
end
finalize(jobKey, logKey, ARGV[1], ARGV[2], ARGV[4], now, tonumber(ARGV[6]), tonumber(ARGV[7]))
return 1
`;

/**
 * KEYS: job. ARGV: prefix, id, token, now, attemptJson. The agent gives the job back (it is
 * shutting down): the attempt is closed as handed back and does not count; the job is queued.
 * Returns 1, or 0 when fenced off.
 */
const HAND_BACK = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[3] then return 0 end
local n = redis.call('HGET', KEYS[1], 'attempts')
redis.call('HSET', KEYS[1], 'a:' .. n, ARGV[5], 'state', 'queued', 'updatedAt', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'handedBack', 1)
redis.call('HDEL', KEYS[1], 'token')
redis.call('PUBLISH', ARGV[1] .. ':ev:' .. ARGV[2], 'state')
return 1
`;

/**
 * KEYS: job, log, finished index. ARGV: prefix, id, now. Reopens a finished job for one more
 * attempt (RetryJob): no longer expiring, out of the finished index, its end-of-log marker
 * removed so followers go on. Returns 'ok', 'missing', or the state it is in.
 */
const REOPEN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'succeeded' and state ~= 'failed' and state ~= 'cancelled' then return state end
redis.call('HSET', KEYS[1], 'state', 'queued', 'updatedAt', ARGV[3])
redis.call('HDEL', KEYS[1], 'finishedAt', 'exitCode', 'failureClass', 'message', 'cancel', 'token')
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] and last[1][2][1] == 'e' then redis.call('XDEL', KEYS[2], last[1][1]) end
redis.call('XADD', KEYS[2], '*', 's', 'system', 't', '[longshore] run again by request')
redis.call('PUBLISH', ARGV[1] .. ':ev:' .. ARGV[2], 'state')
return 'ok'
`;

/**
 * KEYS: job. ARGV: now. Flags the job for cancellation.
 * Returns 'missing', or the state it was in (final states are left alone).
 */
const REQUEST_CANCEL = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'succeeded' or state == 'failed' or state == 'cancelled' then return state end
redis.call('HSET', KEYS[1], 'cancel', '1', 'updatedAt', ARGV[1])
return state
`;

/**
 * KEYS: job, log. ARGV: prefix, id, now, retentionMs, maxFinished, message.
 * Cancels a job that no agent holds (queued or retrying). Returns 1, or 0 if an agent holds it.
 */
const CANCEL_UNCLAIMED = `${FINALIZE}
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'retrying' then return 0 end
redis.call('HSET', KEYS[1], 'failureClass', 'cancelled', 'message', ARGV[6])
finalize(KEYS[1], KEYS[2], ARGV[1], ARGV[2], 'cancelled', tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
return 1
`;

const SCRIPTS = {
  lsClaim: { numberOfKeys: 2, lua: CLAIM },
  lsMarkRunning: { numberOfKeys: 1, lua: MARK_RUNNING },
  lsAppendLogs: { numberOfKeys: 2, lua: APPEND_LOGS },
  lsFinish: { numberOfKeys: 2, lua: FINISH },
  lsRequestCancel: { numberOfKeys: 1, lua: REQUEST_CANCEL },
  lsCancelUnclaimed: { numberOfKeys: 2, lua: CANCEL_UNCLAIMED },
  lsHandBack: { numberOfKeys: 1, lua: HAND_BACK },
  lsReopen: { numberOfKeys: 3, lua: REOPEN },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Runs one of the scripts above (loaded once per connection, then by SHA). */
export function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  const r = redis as unknown as Record<string, ScriptFn | undefined>;
  if (!r[name]) {
    for (const [n, def] of Object.entries(SCRIPTS)) redis.defineCommand(n, def);
  }
  return (r[name] as ScriptFn)(...keys, ...args);
}
