import {
  InvalidArgumentError,
  executorsOf,
  newJobId,
  validateJobSpec,
  formatMilli,
  resolveLimits,
  secretAllowed,
  secretNamesOf,
  type JobSpec,
} from '@longshore/domain';
import type { JobSpec as ProtoJobSpec } from '@longshore/proto';
import type { NewJob } from '@longshore/queue';
import { specFromProto } from '@longshore/rpc';
import type { PoolStore, StoredPool } from '@longshore/store';
import { activeTraceId } from '@longshore/telemetry';
import type { DockerAllowCheck } from './docker-allow-check.js';

/** A job ready to be stored and queued. */
export type PreparedJob = NewJob;

/** Total attempts when the spec does not cap them: 0 = only the per-class retry budgets limit them. */
export const DEFAULT_MAX_ATTEMPTS = 0;

/** Prefixes a validation error's field with where it sits in a batch (`specs[3].weight`). */
function inBatch<T>(index: number | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (index !== undefined && err instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(`specs[${index}].${err.field}`, err.message.slice(err.field.length + 2));
    }
    throw err;
  }
}

async function inBatchAsync(index: number | undefined, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    inBatch(index, () => {
      throw err;
    });
  }
}

/** Refuses a job naming an executor its pool does not allow (pools that list none allow all). */
function checkExecutors(spec: JobSpec, pool: StoredPool, index: number | undefined): void {
  const allowed = pool.executors;
  const wanted = executorsOf(spec);
  if (!allowed || allowed.length === 0 || !wanted) return;
  const other = wanted.find((e) => !allowed.includes(e));
  if (other === undefined) return;
  inBatch(index, () => {
    throw new InvalidArgumentError(
      spec.executor === 'auto' ? 'allowed_executors' : 'executor',
      `"${other}" is not an executor of pool "${pool.id}", which runs jobs with: ${allowed.join(', ')} (longshore pools update ${pool.id} --executors …)`,
    );
  });
}

/** Refuses a job whose env references a secret its pool's allow-list does not name (pools that list none allow any). */
function checkSecrets(spec: JobSpec, pool: StoredPool, index: number | undefined): void {
  const allowed = pool.secrets;
  if (!allowed || allowed.length === 0) return;
  const other = secretNamesOf(spec.env).find((name) => !secretAllowed(name, allowed));
  if (other === undefined) return;
  const field = Object.keys(spec.env).find((k) => secretNamesOf({ [k]: spec.env[k]! }).includes(other)) ?? '';
  inBatch(index, () => {
    throw new InvalidArgumentError(
      `env.${field}`,
      `secret "${other}" is not allowed in pool "${pool.id}", whose jobs may use: ${allowed.join(', ')} (ask an admin: longshore pools update ${pool.id} --secrets …)`,
    );
  });
}

/** The validated spec of a request's `specs[index]` (or `spec`). */
function parseSpec(proto: ProtoJobSpec | undefined, index: number | undefined): JobSpec {
  if (!proto) throw new InvalidArgumentError(index === undefined ? 'spec' : `specs[${index}]`, 'is required');
  return inBatch(index, () => validateJobSpec(specFromProto(proto)));
}

/** The pool a spec names (the default pool if none), read from the store once per request. */
async function resolvePool(spec: JobSpec, pools: PoolStore, poolCache: Map<string, StoredPool>): Promise<StoredPool> {
  const pool = await pools.resolve(spec.pool);
  poolCache.set(spec.pool, pool);
  return pool;
}

/** Refuses what the pool cannot run; returns the job's weight (its own, else the pool's default). */
function checkAgainstPool(spec: JobSpec, pool: StoredPool, index: number | undefined): number {
  const weightMilli = spec.weightMilli || pool.defaultWeightMilli;
  if (weightMilli > pool.maxWeightMilli) {
    inBatch(index, () => {
      throw new InvalidArgumentError(
        'weight',
        `${formatMilli(weightMilli)} is more than pool "${pool.id}" accepts (at most ${formatMilli(pool.maxWeightMilli)}, its agents' capacity): lower the weight or use a pool with bigger agents`,
      );
    });
  }
  checkExecutors(spec, pool, index);
  checkSecrets(spec, pool, index);
  return weightMilli;
}

/**
 * The job to store: its resolved spec, a new id and its submit time. Its trace context is set
 * where it is stored (the enqueue span, `inEnqueueSpan`), once for its whole batch.
 */
function newJob(spec: JobSpec, pool: StoredPool, weightMilli: number, index: number | undefined, traceId: string | undefined): PreparedJob {
  // Under a standard agent the weight is the limit: the job's share, or less if it asks for less.
  const limits = inBatch(index, () => resolveLimits(spec, weightMilli, pool));
  const resolved: JobSpec = { ...spec, ...limits, pool: pool.id, weightMilli, maxAttempts: spec.maxAttempts || DEFAULT_MAX_ATTEMPTS };
  const now = Date.now();
  const id = newJobId(pool.id, now);
  return { record: { id, spec: resolved, weightMilli, createdAt: now, ...(traceId ? { traceId } : {}) }, trace: {} };
}

/**
 * One spec prepared: a promise only when it needs Redis (its pool's first mention in the request,
 * docker options that need the agents' allowance), so a batch of plain jobs costs none per job.
 */
function prepareOne(
  proto: ProtoJobSpec | undefined,
  pools: PoolStore,
  poolCache: Map<string, StoredPool>,
  index: number | undefined,
  docker: DockerAllowCheck | undefined,
  traceId: string | undefined,
): PreparedJob | Promise<PreparedJob> {
  const spec = parseSpec(proto, index);
  const withPool = (pool: StoredPool): PreparedJob | Promise<PreparedJob> => {
    const weightMilli = checkAgainstPool(spec, pool, index);
    const make = () => newJob(spec, pool, weightMilli, index, traceId);
    return docker && spec.docker ? inBatchAsync(index, () => docker.check(spec, pool.id)).then(make) : make();
  };
  const cached = poolCache.get(spec.pool);
  return cached ? withPool(cached) : resolvePool(spec, pools, poolCache).then(withPool);
}

/**
 * Validates a proto spec, resolves its pool (the default if none), weight (the pool's default if
 * none) and limits (its weight's share of the pool's standard agent, if the pool has one), and
 * refuses weights the pool cannot run, limits above the share and, given `docker`, docker
 * options no live docker agent of the pool allows. Nothing is written.
 */
export async function prepareJob(
  proto: ProtoJobSpec | undefined,
  pools: PoolStore,
  poolCache: Map<string, StoredPool>,
  index?: number,
  docker?: DockerAllowCheck,
): Promise<PreparedJob> {
  return prepareOne(proto, pools, poolCache, index, docker, activeTraceId());
}

/**
 * {@link prepareJob} for every spec of a batch, in order, each then given to `accept` (which may
 * refuse it by throwing). Awaits only what needs Redis (see {@link prepareOne}).
 */
export async function prepareBatch(
  protos: readonly ProtoJobSpec[],
  pools: PoolStore,
  docker: DockerAllowCheck | undefined,
  accept: (job: PreparedJob, index: number) => void,
): Promise<PreparedJob[]> {
  const poolCache = new Map<string, StoredPool>();
  const traceId = activeTraceId();
  const out: PreparedJob[] = [];
  for (let i = 0; i < protos.length; i++) {
    const got = prepareOne(protos[i], pools, poolCache, i, docker, traceId);
    const job = got instanceof Promise ? await got : got;
    accept(job, i);
    out.push(job);
  }
  return out;
}
