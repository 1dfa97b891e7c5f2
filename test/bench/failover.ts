/**
 * Failover: agent SIGKILL → its job running again on another agent. Longshore with its default
 * lease (4 s) and stalled check (2 s): a pool of 2 agents, a `sleep 30` job, SIGKILL the agent
 * that runs it at a random moment 0.5–4.5 s into the job, and read the job record's second
 * attempt `startedAt`; the killed agent is then replaced and the next trial begins. Plain BullMQ with its defaults (lockDuration 30 s,
 * stalledInterval 30 s), measured the same way: two Worker processes whose processor sleeps
 * 60 s, SIGKILL the one running the job as randomly, wait for the other to start it.
 *
 * This file is also that BullMQ worker process: started by {@link runFailover} as
 * `node --import tsx failover.ts` with FAILOVER_BULLMQ_WORKER=1 (and FAILOVER_REDIS_URL,
 * FAILOVER_QUEUE, FAILOVER_PREFIX, FAILOVER_WORKER_ID), it logs `{"msg":"ready"}` once
 * connected and `{"msg":"started","job":…,"at":…}` when its processor starts a job.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { JobState, type Job } from '@longshore/client';
import { repoRoot, sleep, startProcess, waitFor, type ProcessHandle } from '@longshore/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchCluster } from './longshore-jobs.js';
import { table, type SummaryRow } from './report.js';
import { median } from './stats.js';

export interface FailoverOptions {
  /** Longshore trials (the issue asks for ≥ 10; smoke 2). */
  longshoreTrials: number;
  /** BullMQ trials, 0 to skip (each takes 30–60 s with BullMQ's defaults). */
  bullmqTrials: number;
  /** Why BullMQ runs fewer trials or none, printed beside its figures. */
  bullmqNote: string;
}

/** Where a Longshore failover's time went, per trial (ms after the kill). */
export interface LongshoreTrialDetail {
  /** When the job was killed, after it started running (chosen at random, see {@link KILL_DELAY_MS}). */
  killDelayMs: number;
  /** BullMQ's stalled-job check put the job back in the queue (its `stalled` event). */
  requeuedMs: number;
  /** The job's second attempt started (= the failover time). */
  rerunMs: number;
}

/** One system's failover times. */
export interface FailoverFigures {
  system: string;
  settings: string;
  /** Trials attempted. */
  planned: number;
  /** Kill → job running again, in ms, one per completed trial. */
  failoverMs: number[];
  medianMs: number;
  maxMs: number;
  note?: string;
  /** Trials that broke (timed out, …), with why. */
  errors: string[];
  /** Longshore only: the failover split at the moment the job went back to the queue. */
  details?: LongshoreTrialDetail[];
}

export interface FailoverResult {
  goalMedianMs: number;
  longshore: FailoverFigures;
  bullmq: FailoverFigures;
}

/** The goal: a lost job runs again within 5 s of its agent dying (median). */
const GOAL_MEDIAN_MS = 5_000;
const POOL = 'failover';
const SELF = fileURLToPath(import.meta.url);
/** Bound on one Longshore trial's waits. */
const LONGSHORE_WAIT_MS = 30_000;
/** Bound on one BullMQ trial's wait for the re-run (its defaults need about 60 s). */
const BULLMQ_WAIT_MS = 150_000;
/**
 * An agent dies at any moment of its job, not just after claiming it: each trial kills the agent
 * (or BullMQ worker) a random time in this range after the job started, which spans several of
 * Longshore's lock renewals (every 4/3 s) and stalled checks (every 2 s), so their phases are
 * sampled rather than fixed. (For BullMQ's 30 s periods it changes little.)
 */
const KILL_DELAY_MS = [500, 4_500] as const;
/** BullMQ's event stream of the pool's queue (see the key schema in libs/store/src/keys.ts). */
const EVENTS_KEY = `ls:{${POOL}}:events`;
const LONGSHORE_SETTINGS = 'LONGSHORE_LEASE 4s, LONGSHORE_STALLED_CHECK 2s (defaults)';
const BULLMQ_SETTINGS = 'lockDuration 30s, stalledInterval 30s (defaults)';

/** Runs both measurements; a trial that breaks is recorded and the next one runs. */
export async function runFailover(bc: BenchCluster, opts: FailoverOptions): Promise<FailoverResult> {
  const longshore = await runLongshore(bc, opts.longshoreTrials);
  const bullmq =
    opts.bullmqTrials > 0
      ? await runBullmq(bc.cluster.redis.url, opts.bullmqTrials, opts.bullmqNote)
      : figures('bullmq', BULLMQ_SETTINGS, 0, [], [], `not run: ${opts.bullmqNote}`);
  return { goalMedianMs: GOAL_MEDIAN_MS, longshore, bullmq };
}

function randomKillDelay(): number {
  const [lo, hi] = KILL_DELAY_MS;
  return lo + Math.random() * (hi - lo);
}

function figures(system: string, settings: string, planned: number, failoverMs: number[], errors: string[], note?: string, details?: LongshoreTrialDetail[]): FailoverFigures {
  return {
    system,
    settings,
    planned,
    failoverMs,
    medianMs: median(failoverMs),
    maxMs: failoverMs.length ? Math.max(...failoverMs) : NaN,
    ...(note ? { note } : {}),
    errors,
    ...(details ? { details } : {}),
  };
}

async function runLongshore(bc: BenchCluster, trials: number): Promise<FailoverFigures> {
  await bc.ls.registry.createPool({ id: POOL, maxWeightMilli: 1000 });
  let n = 0;
  const startAgent = () => bc.cluster.startAgent({ LONGSHORE_POOL: POOL, LONGSHORE_AGENT_ID: `${POOL}-${++n}` });
  const live = new Map<string, ProcessHandle>();
  for (const agent of await Promise.all([startAgent(), startAgent()])) live.set(agentId(agent), agent);
  const times: number[] = [];
  const details: LongshoreTrialDetail[] = [];
  const errors: string[] = [];
  const redis = new Redis(bc.cluster.redis.url, { maxRetriesPerRequest: 1 });
  try {
    for (let trial = 1; trial <= trials; trial++) {
      try {
        const { detail, victim } = await longshoreTrial(bc, redis, live);
        times.push(detail.rerunMs);
        details.push(detail);
        console.error(
          `  failover longshore trial ${trial}/${trials}: ${(detail.rerunMs / 1000).toFixed(2)} s ` +
            `(killed ${detail.killDelayMs} ms into the job; back in the queue after ${detail.requeuedMs} ms)`,
        );
        live.delete(victim);
      } catch (err) {
        errors.push(`trial ${trial}: ${err instanceof Error ? err.message : String(err)}`);
        console.error(`  failover longshore trial ${trial}/${trials} broke:`, err);
      }
      // Back to two live agents before the next trial (not during one: a starting process loads the machine).
      for (const [id, agent] of live) if (agent.exited) live.delete(id);
      while (live.size < 2) {
        const agent = await startAgent();
        live.set(agentId(agent), agent);
      }
    }
  } finally {
    redis.disconnect();
    await Promise.all([...live.values()].map((a) => a.stop(10_000).catch(() => undefined)));
  }
  return figures('longshore', LONGSHORE_SETTINGS, trials, times, errors, undefined, details);
}

/** The id an agent was started with (its handle is named after it). */
function agentId(agent: ProcessHandle): string {
  return agent.name;
}

/**
 * One trial: a job runs on one of the live agents; SIGKILL that agent at a random moment of the
 * job; time until the job's second attempt starts, and when BullMQ's `stalled` event put it back.
 */
async function longshoreTrial(bc: BenchCluster, redis: Redis, live: Map<string, ProcessHandle>): Promise<{ detail: LongshoreTrialDetail; victim: string }> {
  const { ls } = bc;
  // exec: the job is one process, which ends by itself within 30 s once its agent is gone.
  const job = await ls.submit({ pool: POOL, command: ['sh', '-c', 'exec sleep 30'], labels: { bench: 'failover' } });
  try {
    const running = await pollJob(bc, job.id, (j) => j.state === JobState.RUNNING && j.attempts.length === 1, 'the job to run');
    const victim = running.attempts[0]!.agentId;
    const agent = live.get(victim);
    if (!agent) throw new Error(`job ${job.id} runs on ${victim}, which is not one of this benchmark's agents`);
    const startedAt = timestampMs(running.attempts[0]!.startedAt!);
    await sleep(Math.max(0, startedAt + randomKillDelay() - Date.now()));
    agent.signal('SIGKILL');
    const killedAt = Date.now();
    const rerun = await pollJob(bc, job.id, (j) => j.attempts[1]?.startedAt !== undefined, 'the job to run again');
    return {
      detail: {
        killDelayMs: killedAt - startedAt,
        requeuedMs: (await stalledAt(redis, job.id)) - killedAt,
        rerunMs: timestampMs(rerun.attempts[1]!.startedAt!) - killedAt,
      },
      victim,
    };
  } finally {
    await ls.dispatcher.cancelJob({ id: job.id }).catch(() => undefined);
    await pollJob(bc, job.id, (j) => j.finishedAt !== undefined, 'the cancelled job to end').catch(() => undefined);
  }
}

/** When BullMQ's stalled-job check put `jobId` back in the queue (its event stream entry's time), or NaN. */
async function stalledAt(redis: Redis, jobId: string): Promise<number> {
  const entries = await redis.xrevrange(EVENTS_KEY, '+', '-', 'COUNT', 500);
  for (const [id, fields] of entries) {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
    if (f.get('event') === 'stalled' && f.get('jobId') === jobId) return Number(id.split('-')[0]);
  }
  return NaN;
}

function pollJob(bc: BenchCluster, id: string, pred: (j: Job) => boolean, what: string): Promise<Job> {
  return waitFor(
    async () => {
      const j = await bc.ls.getJob(id, { timeoutMs: 5_000 });
      return pred(j) ? j : undefined;
    },
    { timeoutMs: LONGSHORE_WAIT_MS, intervalMs: 50, what: `${what} (job ${id})` },
  );
}

async function runBullmq(redisUrl: string, trials: number, note: string): Promise<FailoverFigures> {
  const times: number[] = [];
  const errors: string[] = [];
  for (let trial = 1; trial <= trials; trial++) {
    try {
      const ms = await bullmqTrial(redisUrl);
      times.push(ms);
      console.error(`  failover bullmq trial ${trial}/${trials}: ${(ms / 1000).toFixed(2)} s`);
    } catch (err) {
      errors.push(`trial ${trial}: ${err instanceof Error ? err.message : String(err)}`);
      console.error(`  failover bullmq trial ${trial}/${trials} broke:`, err);
    }
  }
  return figures('bullmq', BULLMQ_SETTINGS, trials, times, errors, note);
}

/** One trial on a fresh queue and two fresh worker processes; both are killed afterwards. */
async function bullmqTrial(redisUrl: string): Promise<number> {
  const queueName = `failover-${randomUUID().slice(0, 8)}`;
  const prefix = 'bench';
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const workers = ['bullmq-1', 'bullmq-2'].map((id) => startBullWorker(redisUrl, queueName, prefix, id));
  try {
    await Promise.all(workers.map((w) => w.waitForLog((l) => l['msg'] === 'ready', 30_000)));
    const job = await queue.add('sleep', {});
    const startedOn = (w: ProcessHandle) => w.waitForLog((l) => l['msg'] === 'started' && l['job'] === job.id, 15_000).then((l) => ({ w, at: Number(l['at']) }));
    const { w: victim, at } = await Promise.any(workers.map(startedOn));
    const other = workers.find((w) => w !== victim)!;
    await sleep(Math.max(0, at + randomKillDelay() - Date.now()));
    victim.signal('SIGKILL');
    const killedAt = Date.now();
    const started = await other.waitForLog((l) => l['msg'] === 'started' && l['job'] === job.id, BULLMQ_WAIT_MS);
    return Number(started['at']) - killedAt;
  } finally {
    for (const w of workers) w.signal('SIGKILL');
    await Promise.all(workers.map((w) => w.waitForExit(10_000).catch(() => undefined)));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await connection.quit().catch(() => undefined);
  }
}

function startBullWorker(redisUrl: string, queue: string, prefix: string, id: string): ProcessHandle {
  const { NODE_OPTIONS: _loaders, ...env } = process.env; // tsx's own loader must not leak in twice
  return startProcess({
    name: id,
    command: process.execPath,
    args: ['--import', 'tsx', SELF],
    cwd: repoRoot,
    env: { ...env, FAILOVER_BULLMQ_WORKER: '1', FAILOVER_REDIS_URL: redisUrl, FAILOVER_QUEUE: queue, FAILOVER_PREFIX: prefix, FAILOVER_WORKER_ID: id },
  });
}

/** The BullMQ worker process: default Worker options, a processor that sleeps 60 s. */
async function bullWorkerMain(env: NodeJS.ProcessEnv): Promise<void> {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required in the failover worker`);
    return v;
  };
  // BullMQ Workers need maxRetriesPerRequest: null (blocking commands).
  const connection = new Redis(need('FAILOVER_REDIS_URL'), { maxRetriesPerRequest: null });
  const worker = new Worker(
    need('FAILOVER_QUEUE'),
    async (job) => {
      console.log(JSON.stringify({ msg: 'started', job: job.id, at: Date.now() }));
      await sleep(60_000);
    },
    { connection, prefix: need('FAILOVER_PREFIX') },
  );
  worker.on('error', (err) => console.error(JSON.stringify({ msg: 'worker error', err: err.message })));
  process.once('SIGTERM', () => process.exit(0));
  await worker.waitUntilReady();
  const { lockDuration, stalledInterval, maxStalledCount } = worker.opts;
  console.log(JSON.stringify({ msg: 'ready', worker: need('FAILOVER_WORKER_ID'), lockDuration, stalledInterval, maxStalledCount }));
}

if (process.env['FAILOVER_BULLMQ_WORKER'] === '1' && process.argv[1] === SELF) await bullWorkerMain(process.env);

const secs = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');

export function formatFailover(r: FailoverResult): string {
  const rows = [r.longshore, r.bullmq].map((f) => [
    f.system,
    f.settings,
    `${f.failoverMs.length}/${f.planned}`,
    secs(f.medianMs),
    secs(f.maxMs),
    f.failoverMs.map((ms) => (ms / 1000).toFixed(1)).join(' ') || '-',
  ]);
  const d = r.longshore.details ?? [];
  const split =
    d.length > 0
      ? [
          `  longshore, median of ${d.length} trials: killed ${secs(median(d.map((x) => x.killDelayMs)))} into the job; back in the queue ` +
            `(BullMQ stalled check) ${secs(median(d.map((x) => x.requeuedMs)))} after the kill, max ${secs(Math.max(...d.map((x) => x.requeuedMs)))}; ` +
            `then claimed ${secs(median(d.map((x) => x.rerunMs - x.requeuedMs)))} later, max ${secs(Math.max(...d.map((x) => x.rerunMs - x.requeuedMs)))}`,
        ]
      : [];
  const notes = [...split, ...[r.longshore, r.bullmq].flatMap((f) => [
    ...(f.note ? [`  ${f.system}: ${f.note}`] : []),
    ...f.errors.map((e) => `  ${f.system} ${e}`),
  ])];
  return [
    `Failover: agent SIGKILL → its job running again on another agent (goal: median ≤ ${secs(r.goalMedianMs)})`,
    table(['system', 'settings', 'trials', 'median', 'max', 'each (s)'], rows)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
    ...notes,
  ].join('\n');
}

export function failoverSummary(r: FailoverResult): SummaryRow[] {
  const b = 'failover';
  const l = r.longshore;
  return [
    {
      benchmark: b,
      metric: 'longshore median (max), defaults',
      value: `${secs(l.medianMs)} (${secs(l.maxMs)}) over ${l.failoverMs.length} trials`,
      goal: `≤ ${secs(r.goalMedianMs)}`,
      met: l.failoverMs.length > 0 ? l.medianMs <= r.goalMedianMs : false,
    },
    {
      benchmark: b,
      metric: 'bullmq median (max), defaults',
      value: r.bullmq.failoverMs.length > 0 ? `${secs(r.bullmq.medianMs)} (${secs(r.bullmq.maxMs)}) over ${r.bullmq.failoverMs.length} trials` : 'not run',
      goal: '',
      met: null,
    },
  ];
}
