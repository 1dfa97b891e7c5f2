/**
 * The executors an agent can have (`LONGSHORE_EXECUTORS`) and a job may name directly. `noop`
 * runs nothing and exists for benchmarks only: an agent has it only when it is listed explicitly.
 * The one list of names: the API mapping, the CLI's choices and config validation derive from it.
 */
export const AGENT_EXECUTORS = ['subprocess', 'docker', 'ecs', 'noop'] as const;
export type AgentExecutorName = (typeof AGENT_EXECUTORS)[number];

/** Executors a job may name: one of {@link AGENT_EXECUTORS}, or `auto`, which picks from its `allowedExecutors`. */
export const EXECUTORS = [...AGENT_EXECUTORS, 'auto'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/**
 * A job's lifecycle: `queued → claimed → running → succeeded | failed | cancelled`,
 * with `retrying` while it waits for its next attempt, and `orphaned` while a run that outlives
 * its agent (a container, an ECS task) waits for that agent to come back and adopt it.
 */
export const JOB_STATES = ['queued', 'claimed', 'running', 'succeeded', 'failed', 'cancelled', 'retrying', 'orphaned'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

/** States a job never leaves. */
export const FINAL_STATES: readonly JobStateName[] = ['succeeded', 'failed', 'cancelled'];
export function isFinalState(state: JobStateName): boolean {
  return FINAL_STATES.includes(state);
}

/** Why an attempt ended without success; see DESIGN.md "Failure classes". */
export const FAILURE_CLASSES = ['start_failed', 'lost', 'oom', 'timeout', 'cancelled', 'exit'] as const;
export type FailureClassName = (typeof FAILURE_CLASSES)[number];

/** An agent's lifecycle as the registry sees it. */
export type AgentStateName = 'active' | 'draining' | 'lost';

/** Failure classes that may be retried, and the retry budget of each. */
export type RetryableClass = 'exit' | 'timeout' | 'oom' | 'start_failed' | 'lost';

/** Retries per failure class, and the backoff between them (resolved at submit: all set). */
export interface RetryPolicy {
  budgets: Record<RetryableClass, number>;
  backoffMs: number;
  maxBackoffMs: number;
}

/** A validated job spec: what an agent needs to run the job. Weight is resolved (never the pool default marker). */
export interface JobSpec {
  pool: string;
  /** Absent = the agent's configured default executor. */
  executor?: ExecutorName;
  allowedExecutors: ExecutorName[];
  command: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** Thousandths of a standard agent; 0 = "use the pool's default" before resolution. */
  weightMilli: number;
  lane?: string;
  /** Absent = none (or, before resolution at submit, the weight's share of the pool's standard agent). */
  memoryBytes?: number;
  /** CPU limit in thousandths of a CPU; absent as for `memoryBytes`. */
  cpusMilli?: number;
  /** 0 = the agent's default. */
  timeoutMs: number;
  maxAttempts: number;
  priority: number;
  labels: Record<string, string>;
  idempotencyKey?: string;
  image?: string;
  /** Absent in specs stored before retries existed: then no retries. */
  retry?: RetryPolicy;
  /** How the docker executor runs the job beyond its image; absent = the secure defaults. */
  docker?: DockerJobOptions;
  /** How the ecs executor runs the job; absent = the agent's ECS settings. */
  ecs?: EcsJobOptions;
}

/** What a job may choose of how the ecs executor runs it (within what its agent allows). */
export interface EcsJobOptions {
  /** Family, `family:revision` or ARN; absent = the agent's (or the one found for the job's image). */
  taskDefinition?: string;
  /** The task definition's container that runs the job; absent = the agent's `LONGSHORE_ECS_CONTAINER`. */
  container?: string;
  /** A JSON object of RunTask arguments deep-merged over the agent's (only keys it allows). */
  runTaskOverrides?: string;
}

/**
 * When the docker executor pulls a job's image: `if_not_present` (the default: a local image
 * runs without any registry), `always` before each run, `never` (a missing image fails the start).
 */
export const DOCKER_PULL_POLICIES = ['if_not_present', 'always', 'never'] as const;
export type DockerPullPolicy = (typeof DOCKER_PULL_POLICIES)[number];

/** A host path mounted into a job's container (only where the agent allows the path). */
export interface DockerMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * Docker run options a job may set. Every field is optional; unset means the secure default.
 * Options that widen what a container may reach (a network, capabilities, mounts, devices,
 * privileged, host namespaces) run only on agents whose `LONGSHORE_DOCKER_ALLOW` allows them.
 */
export interface DockerJobOptions {
  pull?: DockerPullPolicy;
  /** Commands run (`sh -c`) on the job's image, in order, to build the image the job runs in. */
  buildSteps?: string[];
  buildArgs?: Record<string, string>;
  /** Name, uid or uid:gid in the container; absent = the image's user. */
  user?: string;
  /** Absent or `none` = no network; `bridge`, `host`, or a network's name. */
  network?: string;
  /** Container labels; `longshore.*` is reserved. */
  labels?: Record<string, string>;
  readOnlyRoot?: boolean;
  capAdd?: string[];
  mounts?: DockerMount[];
  devices?: string[];
  privileged?: boolean;
  hostPid?: boolean;
  hostIpc?: boolean;
}

/** One try at running a job. */
export interface AttemptRecord {
  number: number;
  agentId: string;
  executor: ExecutorName;
  executorReason?: string;
  startedAt: number;
  finishedAt?: number;
  exitCode?: number;
  failureClass?: FailureClassName;
  message?: string;
  /** The agent gave the job back (shutdown, drain): this attempt does not count. */
  handedBack?: boolean;
  /** What the executor chose for the run beyond the job's spec, e.g. the Fargate size an ECS task got. */
  runDetail?: string;
  /** Its run as the executor refers to it: `{ kind: 'docker', containerId }`, `{ kind: 'subprocess', pid, startTime }`. */
  run?: { kind: string } & Record<string, string | number>;
  /** The secrets its env referenced, each with the provider and version it was resolved from (never a value). */
  secrets?: SecretUse[];
}

/** A secret an attempt used: its name, the provider that had it and that provider's version of it. */
export interface SecretUse {
  name: string;
  /** `env`, `files` or `aws`. */
  provider: string;
  /** `env` for the environment; `sha256:<prefix>@<mtime>` for a file; the `VersionId` for AWS. */
  version: string;
}

/** What Longshore knows about a job: the record behind GetJob. Times are epoch milliseconds. */
export interface JobRecord {
  id: string;
  spec: JobSpec;
  state: JobStateName;
  weightMilli: number;
  attempts: AttemptRecord[];
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  exitCode?: number;
  failureClass?: FailureClassName;
  message?: string;
  agentId?: string;
  traceId?: string;
  logTruncated: boolean;
}

/** A pool as stored. Status is computed separately. */
export interface PoolRecord {
  id: string;
  description: string;
  defaultWeightMilli: number;
  maxWeightMilli: number;
  createdAt: number;
  /** Executors its jobs may use; absent or empty = every executor. */
  executors?: AgentExecutorName[];
  /** What a standard agent of the pool is (weight 1.0); absent = weights are admission only. */
  standard?: PoolStandard;
  /** Secret names (or `*` patterns) its jobs may reference; absent or empty = any. */
  secrets?: string[];
}

/**
 * A pool's standard agent: a job of weight w that sets no limit of its own runs with w times
 * these (see {@link weightShare}). Absent fields set no limit.
 */
export interface PoolStandard {
  cpusMilli?: number;
  memoryBytes?: number;
}

/** What an agent advertises, as stored by the registry. Times are epoch milliseconds. */
export interface AgentInfo {
  id: string;
  pool: string;
  host: string;
  version: string;
  capacityMilli: number;
  weightInUseMilli: number;
  runningJobIds: string[];
  laneUsage: Record<string, number>;
  laneLimits: Record<string, number>;
  executors: ExecutorName[];
  labels: Record<string, string>;
  /** What the agent says of itself; `lost` is computed from the heartbeat age. */
  state: Exclude<AgentStateName, 'lost'>;
  lastHeartbeat: number;
  registeredAt: number;
  /** How it keeps its subprocess jobs away from itself, Redis and each other (absent: an older agent). */
  isolation?: AgentIsolationInfo;
  /** Each configured executor's state, probed at start and on every heartbeat (absent: an older agent). */
  executorHealth?: ExecutorHealthInfo[];
  /** What its docker executor allows beyond the secure defaults (`LONGSHORE_DOCKER_ALLOW`); empty = nothing. */
  dockerAllow?: string;
}

/** One configured executor's state on an agent: only healthy executors claim jobs. */
export interface ExecutorHealthInfo {
  executor: AgentExecutorName;
  healthy: boolean;
  /** Why it is not healthy; empty when it is. */
  reason: string;
}

/** What separates an agent's subprocess jobs from the agent, the control plane and each other. */
export interface AgentIsolationInfo {
  /** Each job runs as a uid of its own, distinct from the agent's. */
  separateUsers: boolean;
  /** The range of those uids (`200000-265535`); empty without separate users. */
  jobUids: string;
  /** Owner-match firewall rules refuse job uids Redis, the API and the metadata address. */
  firewall: boolean;
  /** In words: what is enforced, and what is missing and why. */
  detail: string;
}

/** An agent with its computed state. */
export interface AgentView extends AgentInfo {
  effectiveState: AgentStateName;
}

/** Health of a pool, computed from its agents. */
export type PoolHealthName = 'healthy' | 'degraded' | 'no_agents';

/** A pool's live figures. */
export interface PoolStatusView {
  liveAgents: number;
  lostAgents: number;
  drainingAgents: number;
  capacityMilli: number;
  weightInUseMilli: number;
  jobsQueued: number;
  jobsRunning: number;
  health: PoolHealthName;
  /** The heavy job holding the pool's reservation, and the agent draining for it. */
  reservation?: { jobId: string; agentId: string; weightMilli: number; since: number };
  /** Redis as a whole (every pool shares it) against LONGSHORE_REDIS_BUDGET, at the last check. */
  redis?: { usedBytes: number; budgetBytes: number; exhausted: boolean };
  /** Queued jobs only some executors can run, by those executors, and whether a live agent has one. */
  waitingByExecutors?: { executors: AgentExecutorName[]; queued: number; runnable: boolean }[];
}

/** A pool with whether it is the default, and its status when computed. */
export interface PoolView extends PoolRecord {
  isDefault: boolean;
  status?: PoolStatusView;
}
