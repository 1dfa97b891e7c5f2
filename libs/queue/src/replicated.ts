import { UnavailableError } from '@longshore/domain';
import { isCluster, type Redis } from '@longshore/store';
import { runScript as runOnMaster, type ScriptName } from './scripts.js';

/**
 * LONGSHORE_REDIS_WAIT_REPLICAS / _TIMEOUT, as services pass them (their config objects carry
 * these fields). 0 replicas = acknowledge once the master has the change.
 */
export interface ReplicationSettings {
  redisWaitReplicas: number;
  redisWaitTimeoutMs: number;
}

/** Scripts that submit a job or change its state; log appends, lock renewal and trims are not waited for. */
const STATE_CHANGES = new Set<ScriptName>(['lsSubmit', 'lsClaim', 'lsFinish', 'lsHandBack', 'lsCancel', 'lsReopen', 'lsSweep']);

interface Waiting {
  replicas: number;
  timeoutMs: number;
  /** Bumped whenever the connection (or a Cluster node's) closed: a WAIT after that proves nothing. */
  epoch: number;
}

const waiting = new WeakMap<Redis, Waiting>();

/**
 * Makes every state-changing script run on `redis` (through {@link runScript}) wait for
 * `redisWaitReplicas` replicas (Redis `WAIT`) before it counts as done. Called by each
 * JobLifecycle for its connection; the largest setting on one connection wins.
 */
export function requireReplicas(redis: Redis, settings: Partial<ReplicationSettings>): void {
  const replicas = settings.redisWaitReplicas ?? 0;
  if (replicas <= 0) return;
  const timeoutMs = settings.redisWaitTimeoutMs ?? 1000;
  const w = waiting.get(redis);
  if (w) {
    w.replicas = Math.max(w.replicas, replicas);
    w.timeoutMs = Math.max(w.timeoutMs, timeoutMs);
    return;
  }
  const state: Waiting = { replicas, timeoutMs, epoch: 0 };
  waiting.set(redis, state);
  const bump = () => {
    state.epoch++;
  };
  redis.on('close', bump);
  redis.on('reconnecting', bump);
  if (isCluster(redis)) {
    redis.on('-node', bump);
    redis.on('node error', bump);
  }
}

/**
 * Runs a lifecycle script; a state change on a connection that must wait for replicas is
 * acknowledged only once `WAIT` says enough replicas have it. WAIT counts the writes of the
 * connection it is sent on, so it goes down the same connection (on a Cluster, the node serving
 * the script's first key: a pipeline is sent to that key's node), and a reconnect in between
 * makes the outcome unknown. Either way short of the count, it throws UNAVAILABLE: the change
 * may or may not survive a failover, so it is not acknowledged (a client retries a submit with
 * its idempotency key; an agent leaves the claim to lapse, and the sweep settles the job).
 */
export async function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
  const w = STATE_CHANGES.has(name) ? waiting.get(redis) : undefined;
  if (!w) return runOnMaster(redis, name, keys, args);
  const epoch = w.epoch;
  const result = await runOnMaster(redis, name, keys, args);
  const acked = await waitFor(redis, keys[0]!, w);
  if (w.epoch !== epoch) {
    throw new UnavailableError(`the Redis connection was lost while waiting for LONGSHORE_REDIS_WAIT_REPLICAS=${w.replicas} replicas: the change may not survive a failover; retry`);
  }
  if (acked < w.replicas) {
    throw new UnavailableError(
      `only ${acked} of LONGSHORE_REDIS_WAIT_REPLICAS=${w.replicas} Redis replicas confirmed the change within LONGSHORE_REDIS_WAIT_TIMEOUT (${w.timeoutMs} ms): ` +
        'it may not survive a failover; retry, and check the replicas (INFO replication), or lower LONGSHORE_REDIS_WAIT_REPLICAS',
    );
  }
  return result;
}

async function waitFor(redis: Redis, key: string, w: Waiting): Promise<number> {
  // EXISTS only routes the pipeline to the key's node on a Cluster; on one server it is harmless.
  const res = await redis.pipeline().exists(key).call('WAIT', w.replicas, w.timeoutMs).exec();
  const [err, acked] = res?.[1] ?? [new Error('no reply to WAIT'), 0];
  if (err) throw err;
  return Number(acked);
}
