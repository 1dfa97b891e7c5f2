import { clone, create, equals } from '@bufbuild/protobuf';
import { DockerOptionsSchema, EcsOptionsSchema, Executor, JobSpecSchema, PullPolicy, RetryPolicySchema, type DockerOptions, type JobSpec } from '@longshore/client';
import { UsageError } from './errors.js';
import { executorOf, type ExecutorWord } from './option-parsers.js';

/** `longshore submit`'s flags, as commander hands them over after the option parsers ran. */
export interface SubmitFlags {
  pool?: string;
  /** Thousandths. */
  weight?: number;
  executor?: ExecutorWord;
  allow?: Executor[];
  image?: string;
  env?: Record<string, string>;
  label?: Record<string, string>;
  lane?: string;
  workdir?: string;
  /** Milliseconds. */
  timeout?: number;
  /** Bytes. */
  memory?: bigint;
  maxAttempts?: number;
  /** Retries per failure class. */
  retries?: Record<string, number>;
  /** Milliseconds. */
  backoff?: number;
  priority?: number;
  idempotencyKey?: string;
  wait?: boolean;
  file?: string;
  json?: boolean;
  // Docker run options (the API's `docker`).
  pull?: 'always' | 'if_not_present' | 'never';
  user?: string;
  /** Thousandths of a CPU. */
  cpus?: number;
  network?: string;
  dockerLabel?: Record<string, string>;
  readOnly?: boolean;
  capAdd?: string[];
  mount?: { source: string; target: string; readOnly: boolean }[];
  device?: string[];
  privileged?: boolean;
  pid?: 'host';
  ipc?: 'host';
  buildStep?: string[];
  buildArg?: Record<string, string>;
  // ECS options (the API's `ecs`).
  ecsTaskDefinition?: string;
  ecsContainer?: string;
  ecsOverrides?: string;
}

const PULL_POLICIES = { always: PullPolicy.ALWAYS, if_not_present: PullPolicy.IF_NOT_PRESENT, never: PullPolicy.NEVER } as const;

/** The docker options the flags give, or undefined when none is given. */
function dockerFrom(flags: SubmitFlags): DockerOptions | undefined {
  const docker = create(DockerOptionsSchema, {
    pullPolicy: flags.pull ? PULL_POLICIES[flags.pull] : PullPolicy.UNSPECIFIED,
    user: flags.user ?? '',
    network: flags.network ?? '',
    labels: flags.dockerLabel ?? {},
    readOnlyRoot: flags.readOnly ?? false,
    capAdd: flags.capAdd ?? [],
    mounts: flags.mount ?? [],
    devices: flags.device ?? [],
    privileged: flags.privileged ?? false,
    hostPid: flags.pid === 'host',
    hostIpc: flags.ipc === 'host',
    buildSteps: flags.buildStep ?? [],
    buildArgs: flags.buildArg ?? {},
  });
  return equals(DockerOptionsSchema, docker, create(DockerOptionsSchema)) ? undefined : docker;
}

function executorFrom(flags: SubmitFlags): Executor {
  const executor = flags.executor ? executorOf(flags.executor) : Executor.UNSPECIFIED;
  if (!flags.allow) return executor;
  if (executor === Executor.UNSPECIFIED || executor === Executor.AUTO) return Executor.AUTO;
  throw new UsageError(`--allow is the chain for --executor auto, not --executor ${flags.executor} (e.g. --executor auto --allow docker,subprocess)`);
}

/**
 * The job spec the flags describe, in the API's units. Flags not given stay at their zero value,
 * which the API reads as "the default" (the pool's weight, the agent's timeout, ...).
 */
export function specFromFlags(flags: SubmitFlags, command: readonly string[]): JobSpec {
  return create(JobSpecSchema, {
    command: [...command],
    pool: flags.pool ?? '',
    executor: executorFrom(flags),
    allowedExecutors: flags.allow ?? [],
    image: flags.image ?? '',
    env: flags.env ?? {},
    labels: flags.label ?? {},
    lane: flags.lane ?? '',
    workingDir: flags.workdir ?? '',
    weightMilli: flags.weight ?? 0,
    timeoutMs: BigInt(flags.timeout ?? 0),
    memoryBytes: flags.memory ?? 0n,
    cpusMilli: flags.cpus ?? 0,
    maxAttempts: flags.maxAttempts ?? 0,
    priority: flags.priority ?? 0,
    idempotencyKey: flags.idempotencyKey ?? '',
    retry:
      flags.retries || flags.backoff !== undefined
        ? {
            exit: flags.retries?.['exit'],
            timeout: flags.retries?.['timeout'],
            oom: flags.retries?.['oom'],
            startFailed: flags.retries?.['start_failed'],
            lost: flags.retries?.['lost'],
            backoffMs: BigInt(flags.backoff ?? 0),
          }
        : undefined,
    docker: dockerFrom(flags),
    ...(flags.ecsTaskDefinition || flags.ecsContainer || flags.ecsOverrides
      ? { ecs: { taskDefinition: flags.ecsTaskDefinition ?? '', container: flags.ecsContainer ?? '', runTaskOverrides: flags.ecsOverrides ?? '' } }
      : {}),
  });
}

// Scalar fields a command-line default may fill in. Not `command` (each line has its own) and not
// `idempotencyKey` (one key on every line would collapse the batch into one job).
const DEFAULTABLE = ['pool', 'executor', 'workingDir', 'weightMilli', 'lane', 'memoryBytes', 'timeoutMs', 'maxAttempts', 'priority', 'image'] as const;

function isUnset(value: unknown): boolean {
  return value === '' || value === 0 || value === 0n;
}

function copyField<K extends keyof JobSpec>(to: JobSpec, from: JobSpec, key: K): void {
  to[key] = from[key];
}

/**
 * `spec` with `defaults` filled in where it has no value of its own. Proto3 cannot tell "absent"
 * from zero, so a zero (e.g. `"priority": 0`) counts as absent. Env and labels merge, the spec's
 * own keys winning; the allowed chain applies only when the job ends up with executor auto; the
 * docker and ECS options apply as a whole to a line that has none of its own.
 */
export function withDefaults(spec: JobSpec, defaults: JobSpec): JobSpec {
  const out = clone(JobSpecSchema, spec);
  for (const key of DEFAULTABLE) if (isUnset(out[key]) && !isUnset(defaults[key])) copyField(out, defaults, key);
  if (out.executor === Executor.AUTO && out.allowedExecutors.length === 0) out.allowedExecutors = [...defaults.allowedExecutors];
  out.env = { ...defaults.env, ...out.env };
  out.labels = { ...defaults.labels, ...out.labels };
  if (!out.retry && defaults.retry) out.retry = clone(RetryPolicySchema, defaults.retry);
  if (!out.docker && defaults.docker) out.docker = clone(DockerOptionsSchema, defaults.docker);
  if (!out.ecs && defaults.ecs) out.ecs = clone(EcsOptionsSchema, defaults.ecs);
  return out;
}
