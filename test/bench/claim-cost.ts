/**
 * Claim cost against queue depth: what one agent's claim costs Redis when nothing fits, on an
 * empty pool and on a pool with many queued jobs too heavy for it, and whether a job that fits,
 * queued behind all of them, is found by the very next claim. Runs the lifecycle in-process
 * against the benchmark cluster's Redis (its own pools), so the figures are Redis's own.
 */
import { newJobId, type JobSpec } from '@longshore/domain';
import { JobLifecycle, type ClaimRequest, type NewJob } from '@longshore/queue';
import { createRedis, waitForRedis, type Redis } from '@longshore/store';
import { median } from './stats.js';

export interface ClaimCostOptions {
  /** Queued jobs that do not fit, in the deep pool. */
  depth: number;
  /** Claims timed per pool. */
  claims: number;
}

export interface ClaimCostFigures {
  pool: string;
  queued: number;
  /** Redis time per claim script call (INFO commandstats, evalsha), µs. */
  redisUsPerClaim: number;
  /** Client round trip per claim, median, µs. */
  wallUsP50: number;
}

export interface ClaimCostResult {
  empty: ClaimCostFigures;
  deep: ClaimCostFigures;
  /** A weight-0.25 job submitted behind `depth` jobs of weight 1.0, claimed with 0.5 free. */
  fitFoundBehindDepth: boolean;
}

const SETTINGS = { agentId: 'bench-claim', lockMs: 30_000, reserveAfterMs: 24 * 3_600_000 };
/** Half the capacity free: the deep pool's jobs (weight 1.0) never fit. */
const ROOM: ClaimRequest = { freeMilli: 500, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] };
const SUBMIT_BATCH = 1000;

export async function runClaimCost(redisUrl: string, opts: ClaimCostOptions): Promise<ClaimCostResult> {
  const redis = createRedis(redisUrl, 'worker');
  try {
    await waitForRedis(redis, 'the benchmark Redis');
    const lc = new JobLifecycle(redis, { retentionMs: 3_600_000, maxFinished: 1_000_000 });
    const run = Date.now().toString(36);
    const emptyPool = `claim-empty-${run}`;
    const deepPool = `claim-deep-${run}`;
    await fill(lc, deepPool, opts.depth, 1000);
    const empty = await timeClaims(redis, lc, emptyPool, 0, opts.claims);
    const deep = await timeClaims(redis, lc, deepPool, opts.depth, opts.claims);
    await fill(lc, deepPool, 1, 250);
    const found = await lc.claim(deepPool, SETTINGS, ROOM, `${run}-fit`);
    return { empty, deep, fitFoundBehindDepth: found.jobs.length === 1 && found.jobs[0]!.specJson.includes('"weightMilli":250') };
  } finally {
    redis.disconnect();
  }
}

/** Ids carry their submit time; jobs are fresh, so no reservation is due (it would rightly block the claim). */
let clock = Date.now();
function spec(pool: string, weightMilli: number): JobSpec {
  return { pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };
}

async function fill(lc: JobLifecycle, pool: string, n: number, weightMilli: number): Promise<void> {
  for (let i = 0; i < n; i += SUBMIT_BATCH) {
    const jobs: NewJob[] = Array.from({ length: Math.min(SUBMIT_BATCH, n - i) }, () => {
      const createdAt = ++clock;
      return { record: { id: newJobId(pool, createdAt), spec: spec(pool, weightMilli), weightMilli, createdAt }, trace: {} };
    });
    await lc.submit(pool, jobs);
  }
}

async function evalshaStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await redis.info('commandstats'));
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0) };
}

async function timeClaims(redis: Redis, lc: JobLifecycle, pool: string, queued: number, claims: number): Promise<ClaimCostFigures> {
  await lc.claim(pool, SETTINGS, ROOM, 'warm'); // loads the script on this connection
  const before = await evalshaStats(redis);
  const wall: number[] = [];
  for (let i = 0; i < claims; i++) {
    const t = process.hrtime.bigint();
    const r = await lc.claim(pool, SETTINGS, ROOM, `c${i}`);
    wall.push(Number(process.hrtime.bigint() - t) / 1000);
    if (r.jobs.length > 0) throw new Error(`a claim in ${pool} took a job that cannot fit`);
  }
  const after = await evalshaStats(redis);
  return { pool, queued, redisUsPerClaim: (after.usec - before.usec) / Math.max(1, after.calls - before.calls), wallUsP50: median(wall) };
}
