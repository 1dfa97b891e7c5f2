import { moveToActive } from 'bullmq/dist/esm/scripts/moveToActive-11.js';

/**
 * The fit-aware claim: BullMQ 6.7.0's own `moveToActive` script (locks, events, delayed-job
 * promotion, rate limits and pause handling untouched) with its last step, "pop the head of the
 * queue", replaced by "take the first job, in queue order, that fits the caller". BullMQ has no
 * peek or claim-by-id (DESIGN.md), so without this an agent learns a job's weight only after
 * popping it; with it, an agent never holds a job it cannot start (no hoarding) and backfills
 * lighter jobs behind a heavy one, atomically, with no pop-and-put-back churn.
 *
 * A job's weight and lane travel in its BullMQ name (`w250` or `w250:ingestion`), which BullMQ
 * stores as a plain hash field. The reservation (no starvation) is one key per pool:
 * `jobId|agentId|weight|since`, with a TTL the holder renews on every claim attempt.
 *
 * Extra KEYS[12]: the pool's reservation key. Extra ARGV: [4] agent id, [5] free capacity,
 * [6] total capacity, [7] comma list of lanes at their cap here, [8] reserve-after ms,
 * [9] how many queued jobs to look at, [10] reservation TTL ms.
 * Returns BullMQ's shape for a taken job ({hash, id, 0, 0}), {0,0,0,0,'reserved',id} while this
 * agent holds a reservation it cannot start yet, or {0,0,0,0} when nothing fits.
 */
const PICK = `
local agentId = ARGV[4]
local free = tonumber(ARGV[5])
local capacity = tonumber(ARGV[6])
local fullLanes = {}
for lane in string.gmatch(ARGV[7], '[^,]+') do fullLanes[lane] = true end
local reserveAfter = tonumber(ARGV[8])
local scanLimit = tonumber(ARGV[9])
local resTtl = tonumber(ARGV[10])
local now = tonumber(ARGV[2])
local prefix = ARGV[1]
local prioritizedKey = KEYS[3]
local resKey = KEYS[12]

-- Weight (thousandths) and lane of a queued job, from its name; nil weight if unknown.
local function jobMeta(jobId)
  local name = rcall("HGET", prefix .. jobId, "name")
  if not name then return nil, nil end
  local w, lane = string.match(name, "^w(%d+):?(.*)$")
  if lane == "" then lane = nil end
  return tonumber(w), lane
end

local function fits(w, lane)
  return w ~= nil and w <= free and not (lane and fullLanes[lane])
end

local function take(jobId, fromWait)
  if fromWait then rcall("LREM", waitKey, 1, jobId) else rcall("ZREM", prioritizedKey, jobId) end
  rcall("LPUSH", activeKey, jobId)
  return prepareJobForProcessing(prefix, rateLimiterKey, eventStreamKey, jobId, ARGV[2],
                                 maxJobs, limiterDuration, markerKey, opts)
end

-- The reservation, if any, and whether its job is still queued (and where).
local resJob, resAgent, resInWait
local res = rcall("GET", resKey)
if res then
  resJob, resAgent = string.match(res, "^([^|]+)|([^|]+)")
  if resJob then
    resInWait = rcall("LPOS", waitKey, resJob) ~= false
    if not resInWait and not rcall("ZSCORE", prioritizedKey, resJob) then
      rcall("DEL", resKey)
      resJob = nil
      resAgent = nil
    end
  end
end

-- Holding a reservation: admit nothing but its job, and only once it fits.
if resJob and resAgent == agentId then
  local w, lane = jobMeta(resJob)
  if fits(w, lane) then
    rcall("DEL", resKey)
    return take(resJob, resInWait)
  end
  rcall("PEXPIRE", resKey, resTtl)
  return {0, 0, 0, 0, "reserved", resJob}
end

-- Candidates in queue order: jobs put back after a stall first (oldest at the right end of
-- the wait list), then the prioritized set (priority, then arrival), read a few at a time so
-- the common case (the head fits) stays cheap.
local seen = 0
local function consider(id, fromWait)
  local w, lane = jobMeta(id)
  if fits(w, lane) then
    -- Any agent that can start the reserved job now takes it; the reservation is then over.
    if id == resJob then rcall("DEL", resKey) end
    return take(id, fromWait)
  end
  -- The first job that waited past the threshold and could run here once this agent drains
  -- gets the pool's one reservation: from now on this agent admits nothing else.
  if not resJob and w and w > free and w <= capacity and not (lane and fullLanes[lane]) then
    local ts = tonumber(rcall("HGET", prefix .. id, "timestamp") or now)
    if now - ts >= reserveAfter then
      rcall("SET", resKey, id .. "|" .. agentId .. "|" .. w .. "|" .. now, "PX", resTtl)
      return {0, 0, 0, 0, "reserved", id}
    end
  end
  return nil
end

local waiting = rcall("LRANGE", waitKey, -scanLimit, -1)
for i = #waiting, 1, -1 do
  if string.sub(waiting[i], 1, 2) ~= "0:" then
    seen = seen + 1
    local r = consider(waiting[i], true)
    if r then return r end
  end
end
local chunk = 16
local offset = 0
while seen < scanLimit do
  local ids = rcall("ZRANGE", prioritizedKey, offset, offset + math.min(chunk, scanLimit - seen) - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    seen = seen + 1
    local r = consider(id, false)
    if r then return r end
  end
  offset = offset + #ids
  chunk = math.min(chunk * 2, 256)
end
return {0, 0, 0, 0}
`;

const ANCHOR = '-- no job ID, try non-blocking move from wait to active';

/** Builds the script from the installed BullMQ's own; fails loudly if BullMQ changed shape. */
export function buildFitClaimScript(): string {
  const base = moveToActive.content;
  const at = base.indexOf(ANCHOR);
  const needed = ['local function prepareJobForProcessing', 'local limiterDuration', 'local markerKey = KEYS[11]'];
  if (at < 0 || needed.some((s) => !base.includes(s))) {
    throw new Error('the installed bullmq no longer has the moveToActive script Longshore extends (pinned to bullmq 6.7.0): update libs/queue/src/fit-claim-script.ts');
  }
  return base.slice(0, at) + PICK;
}

/** How many KEYS the fit-claim script takes: BullMQ's 11 plus the reservation key. */
export const FIT_CLAIM_KEYS = moveToActive.keys + 1;
