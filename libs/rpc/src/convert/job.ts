import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_RETRY_BUDGETS,
  EXECUTORS,
  InvalidArgumentError,
  type ExecutorName,
  type DockerJobOptions,
  type EcsJobOptions,
  type JobRecord,
  type JobSpec,
  type RetryPolicy,
} from '@longshore/domain';
import type { DockerOptions, DockerOptionsSchema, EcsOptions, JobSchema, JobSpec as ProtoJobSpec, JobSpecSchema, RetryPolicy as ProtoRetryPolicy } from '@longshore/proto';
import { executorEnum, failureClassEnum, jobStateEnum, pullPolicyEnum } from './enums.js';

function executorName(field: string, e: number): ExecutorName | undefined {
  if (e === 0) return undefined;
  const name = executorEnum.fromProto(e);
  if (!name) throw new InvalidArgumentError(field, `unknown executor ${e}: use one of ${EXECUTORS.join(', ')}`);
  return name;
}

function optional<T>(v: T, empty: T): T | undefined {
  return v === empty ? undefined : v;
}

/** A proto retry policy with every unset budget at its default. */
export function retryFromProto(r: ProtoRetryPolicy | undefined): RetryPolicy {
  const d = DEFAULT_RETRY_BUDGETS;
  return {
    budgets: {
      exit: r?.exit ?? d.exit,
      timeout: r?.timeout ?? d.timeout,
      oom: r?.oom ?? d.oom,
      start_failed: r?.startFailed ?? d.start_failed,
      lost: r?.lost ?? d.lost,
    },
    backoffMs: Number(r?.backoffMs || DEFAULT_BACKOFF_MS),
    maxBackoffMs: Number(r?.maxBackoffMs || DEFAULT_MAX_BACKOFF_MS),
  };
}

/** Proto docker options as the domain's: only what is set (absent when nothing is). */
export function dockerFromProto(p: DockerOptions | undefined): DockerJobOptions | undefined {
  if (!p) return undefined;
  const pull = p.pullPolicy === 0 ? undefined : pullPolicyEnum.fromProto(p.pullPolicy);
  if (p.pullPolicy !== 0 && !pull) throw new InvalidArgumentError('docker.pull_policy', `unknown pull policy ${p.pullPolicy}: use if_not_present, always or never`);
  const all: DockerJobOptions = {
    pull,
    buildSteps: p.buildSteps.length ? [...p.buildSteps] : undefined,
    buildArgs: Object.keys(p.buildArgs).length ? { ...p.buildArgs } : undefined,
    user: optional(p.user, ''),
    network: optional(p.network, ''),
    labels: Object.keys(p.labels).length ? { ...p.labels } : undefined,
    readOnlyRoot: optional(p.readOnlyRoot, false),
    capAdd: p.capAdd.length ? [...p.capAdd] : undefined,
    mounts: p.mounts.length ? p.mounts.map((m) => ({ source: m.source, target: m.target, readOnly: m.readOnly })) : undefined,
    devices: p.devices.length ? [...p.devices] : undefined,
    privileged: optional(p.privileged, false),
    hostPid: optional(p.hostPid, false),
    hostIpc: optional(p.hostIpc, false),
  };
  const set = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as DockerJobOptions;
  return Object.keys(set).length ? set : undefined;
}

/** Proto ECS options as the domain's: only what is set (absent when nothing is). */
export function ecsFromProto(p: EcsOptions | undefined): EcsJobOptions | undefined {
  if (!p) return undefined;
  const set: EcsJobOptions = {
    ...(p.taskDefinition ? { taskDefinition: p.taskDefinition } : {}),
    ...(p.container ? { container: p.container } : {}),
    ...(p.runTaskOverrides ? { runTaskOverrides: p.runTaskOverrides } : {}),
  };
  return Object.keys(set).length ? set : undefined;
}

/** The domain's docker options as the API shows them. */
export function dockerToProto(d: DockerJobOptions): MessageInitShape<typeof DockerOptionsSchema> {
  return {
    pullPolicy: d.pull ? pullPolicyEnum.toProto(d.pull) : 0,
    buildSteps: d.buildSteps ?? [],
    buildArgs: d.buildArgs ?? {},
    user: d.user ?? '',
    network: d.network ?? '',
    labels: d.labels ?? {},
    readOnlyRoot: d.readOnlyRoot ?? false,
    capAdd: d.capAdd ?? [],
    mounts: d.mounts ?? [],
    devices: d.devices ?? [],
    privileged: d.privileged ?? false,
    hostPid: d.hostPid ?? false,
    hostIpc: d.hostIpc ?? false,
  };
}

/** A proto spec as the domain's (not yet validated: run validateJobSpec on it). */
export function specFromProto(p: ProtoJobSpec): JobSpec {
  const spec: JobSpec = {
    pool: p.pool,
    allowedExecutors: p.allowedExecutors.map((e, i) => executorName(`allowed_executors[${i}]`, e)!).filter(Boolean),
    command: [...p.command],
    env: { ...p.env },
    weightMilli: p.weightMilli,
    timeoutMs: Number(p.timeoutMs),
    maxAttempts: p.maxAttempts,
    priority: p.priority,
    labels: { ...p.labels },
    retry: retryFromProto(p.retry),
  };
  const executor = executorName('executor', p.executor);
  if (executor) spec.executor = executor;
  // Only what is set (no undefined keys), field by field: a batch converts up to 1,000 specs.
  if (p.workingDir !== '') spec.workingDir = p.workingDir;
  if (p.lane !== '') spec.lane = p.lane;
  if (p.memoryBytes !== 0n) spec.memoryBytes = Number(p.memoryBytes);
  if (p.cpusMilli !== 0) spec.cpusMilli = p.cpusMilli;
  if (p.idempotencyKey !== '') spec.idempotencyKey = p.idempotencyKey;
  if (p.image !== '') spec.image = p.image;
  const docker = dockerFromProto(p.docker);
  if (docker) spec.docker = docker;
  const ecs = ecsFromProto(p.ecs);
  if (ecs) spec.ecs = ecs;
  return spec;
}

/** The domain spec as the API shows it. */
export function specToProto(s: JobSpec): MessageInitShape<typeof JobSpecSchema> {
  return {
    pool: s.pool,
    executor: s.executor ? executorEnum.toProto(s.executor) : 0,
    allowedExecutors: s.allowedExecutors.map(executorEnum.toProto),
    command: s.command,
    env: s.env,
    workingDir: s.workingDir ?? '',
    weightMilli: s.weightMilli,
    lane: s.lane ?? '',
    memoryBytes: BigInt(s.memoryBytes ?? 0),
    cpusMilli: s.cpusMilli ?? 0,
    timeoutMs: BigInt(s.timeoutMs),
    maxAttempts: s.maxAttempts,
    priority: s.priority,
    labels: s.labels,
    idempotencyKey: s.idempotencyKey ?? '',
    image: s.image ?? '',
    ...(s.docker ? { docker: dockerToProto(s.docker) } : {}),
    ...(s.ecs ? { ecs: { taskDefinition: s.ecs.taskDefinition ?? '', container: s.ecs.container ?? '', runTaskOverrides: s.ecs.runTaskOverrides ?? '' } } : {}),
    retry: s.retry && {
      exit: s.retry.budgets.exit,
      timeout: s.retry.budgets.timeout,
      oom: s.retry.budgets.oom,
      startFailed: s.retry.budgets.start_failed,
      lost: s.retry.budgets.lost,
      backoffMs: BigInt(s.retry.backoffMs),
      maxBackoffMs: BigInt(s.retry.maxBackoffMs),
    },
  };
}

/** A job record as the API shows it. */
export function jobToProto(r: JobRecord): MessageInitShape<typeof JobSchema> {
  return {
    id: r.id,
    spec: specToProto(r.spec),
    state: jobStateEnum.toProto(r.state),
    weightMilli: r.weightMilli,
    attempts: r.attempts.map((a) => ({
      number: a.number,
      agentId: a.agentId,
      executor: executorEnum.toProto(a.executor),
      executorReason: a.executorReason ?? '',
      startedAt: timestampFromMs(a.startedAt),
      finishedAt: a.finishedAt ? timestampFromMs(a.finishedAt) : undefined,
      exitCode: a.exitCode,
      failureClass: a.failureClass ? failureClassEnum.toProto(a.failureClass) : 0,
      message: a.message ?? '',
      handedBack: a.handedBack ?? false,
      secrets: (a.secrets ?? []).map((u) => ({ name: u.name, provider: u.provider, version: u.version })),
      runDetail: a.runDetail ?? '',
    })),
    createdAt: timestampFromMs(r.createdAt),
    updatedAt: timestampFromMs(r.updatedAt),
    finishedAt: r.finishedAt ? timestampFromMs(r.finishedAt) : undefined,
    exitCode: r.exitCode,
    failureClass: r.failureClass ? failureClassEnum.toProto(r.failureClass) : 0,
    message: r.message ?? '',
    agentId: r.agentId ?? '',
    traceId: r.traceId ?? '',
    logTruncated: r.logTruncated,
  };
}
