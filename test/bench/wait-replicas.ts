/**
 * What LONGSHORE_REDIS_WAIT_REPLICAS=1 costs: one job's whole data path (submit, claim, finish —
 * each a state change that waits for a replica when asked) run in-process against a Sentinel
 * set-up of one master and one replica, with and without the wait, alternating.
 */
import { newJobId, type JobSpec } from '@longshore/domain';
import { JobLifecycle } from '@longshore/queue';
import { createRedis, waitForRedis } from '@longshore/store';
import { startRedisSentinel } from '@longshore/testing';
import { median } from './stats.js';

export interface WaitReplicasResult {
  jobs: number;
  /** Jobs per second through submit → claim → finish, one at a time, per round. */
  noWait: number[];
  waitOne: number[];
}

const SETTINGS = { agentId: 'bench-wait', lockMs: 30_000, reserveAfterMs: 24 * 3_600_000 };
const ROOM = { freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] };
const DONE = { state: 'succeeded' as const, exitCode: 0, message: '', attempt: { agentId: 'bench-wait', executor: 'noop' as const, startedAt: 1, finishedAt: 2 } };

export async function runWaitReplicas(opts: { jobs: number; rounds: number }): Promise<WaitReplicasResult> {
  const s = await startRedisSentinel();
  const redis = createRedis(s.url, 'worker');
  try {
    await waitForRedis(redis, 'the benchmark Sentinel set-up');
    await s.waitForReplica();
    const plain = new JobLifecycle(redis, { retentionMs: 3_600_000, maxFinished: 1_000_000 });
    // A second connection: the wait is set per connection.
    const waitRedis = createRedis(s.url, 'worker');
    await waitForRedis(waitRedis, 'the benchmark Sentinel set-up');
    const waited = new JobLifecycle(waitRedis, { retentionMs: 3_600_000, maxFinished: 1_000_000, redisWaitReplicas: 1, redisWaitTimeoutMs: 5_000 });
    const out: WaitReplicasResult = { jobs: opts.jobs, noWait: [], waitOne: [] };
    try {
      for (let round = 0; round < opts.rounds; round++) {
        out.noWait.push(await oneByOne(plain, `nowait-${round}`, opts.jobs));
        out.waitOne.push(await oneByOne(waited, `wait-${round}`, opts.jobs));
      }
    } finally {
      waitRedis.disconnect();
    }
    return out;
  } finally {
    redis.disconnect();
    await s.stop();
  }
}

async function oneByOne(lc: JobLifecycle, pool: string, n: number): Promise<number> {
  const spec: JobSpec = { pool, allowedExecutors: [], command: ['true'], env: {}, weightMilli: 250, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const createdAt = Date.now();
    await lc.submit(pool, [{ record: { id: newJobId(pool, createdAt), spec, weightMilli: 250, createdAt }, trace: {} }]);
    const claimed = await lc.claim(pool, SETTINGS, ROOM, `t${i}`);
    const c = claimed.jobs[0];
    if (!c) throw new Error(`job ${i} of ${pool} was not claimed`);
    await lc.finish(pool, [{ claim: c, outcome: DONE, retry: { budget: 0, maxAttempts: 0, delayMs: 0 } }]);
  }
  return (n * 1000) / (performance.now() - t);
}

export const waitRatio = (r: WaitReplicasResult): number => median(r.waitOne) / median(r.noWait);
