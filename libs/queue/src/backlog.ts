import type { PoolKeys, Redis } from '@longshore/store';

/** 2^42: a queue order score is `bullPriority * 2^42 + ms the job entered the queue` (see queueOrder). */
const ORDER_TIME = 2 ** 42;

/** The weighted backlog of a pool's claimable jobs, from the weight-class index. */
export interface QueueBacklog {
  /** Claimable jobs (waiting to be claimed; a retry in its back-off is not claimable until due). */
  jobs: number;
  /** Their summed weight, in thousandths of a standard agent. */
  weightMilli: number;
  /** When the longest-waiting of them entered the queue (epoch ms: its submit, or its re-open), if any waits. */
  oldestQueuedAt: number | undefined;
}

/** The weight (thousandths) of a weight class `<weight>[:<lane>][@<executor>,…]`. */
export function classWeight(cls: string): number {
  return Number(/^\d+/.exec(cls)?.[0] ?? 0);
}

/** When a job entered the queue, from its queue order score. */
export function queuedAtOf(score: number): number {
  return score % ORDER_TIME;
}

/** The priority band (1..2001) a queue order score is in. */
function bandOf(score: number): number {
  return Math.floor(score / ORDER_TIME);
}

/**
 * The pool's weighted backlog: for every weight class (a sorted set of claimable job ids scored
 * by queue order) its size × its weight. The oldest waiting job is exact without reading every
 * job: within a class, scores sort by priority band, then by time queued, so the oldest job of
 * each band present is the first of that band; walking the bands (one ZRANGEBYSCORE … LIMIT 0 1
 * per band present, pipelined across classes) costs one round trip per distinct priority in use,
 * not per job. Reads only the pool's keys (one Redis Cluster slot).
 */
export async function readBacklog(redis: Redis, k: PoolKeys): Promise<QueueBacklog> {
  const classes = await redis.smembers(k.classes);
  if (classes.length === 0) return { jobs: 0, weightMilli: 0, oldestQueuedAt: undefined };
  const first = redis.pipeline();
  for (const c of classes) first.zcard(k.weightClass(c)).zrange(k.weightClass(c), 0, 0, 'WITHSCORES');
  const res = (await first.exec()) ?? [];
  let jobs = 0;
  let weightMilli = 0;
  let oldest: number | undefined;
  const see = (score: number) => {
    const at = queuedAtOf(score);
    if (oldest === undefined || at < oldest) oldest = at;
  };
  // Classes whose next band is still to be looked at, with the band just seen.
  let walk: { cls: string; band: number }[] = [];
  classes.forEach((c, i) => {
    const n = Number(res[2 * i]?.[1] ?? 0);
    jobs += n;
    weightMilli += n * classWeight(c);
    const head = res[2 * i + 1]?.[1] as string[] | undefined;
    if (head && head.length >= 2) {
      const score = Number(head[1]);
      see(score);
      walk.push({ cls: c, band: bandOf(score) });
    }
  });
  while (walk.length > 0) {
    const p = redis.pipeline();
    for (const w of walk) p.zrangebyscore(k.weightClass(w.cls), (w.band + 1) * ORDER_TIME, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
    const next = (await p.exec()) ?? [];
    const more: { cls: string; band: number }[] = [];
    walk.forEach((w, i) => {
      const head = next[i]?.[1] as string[] | undefined;
      if (head && head.length >= 2) {
        const score = Number(head[1]);
        see(score);
        more.push({ cls: w.cls, band: bandOf(score) });
      }
    });
    walk = more;
  }
  return { jobs, weightMilli, oldestQueuedAt: oldest };
}
