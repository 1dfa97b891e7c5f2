import type { RunTaskCommandInput } from '@aws-sdk/client-ecs';
import { ECS_OVERRIDES_MAX_BYTES, ecsOverridesBytes } from '@longshore/domain';
import { cpuUnits, describeFargateSize, fargateSizeFor, memoryMiB } from './ecs-fargate.js';
import type { RunRequest } from './executor.js';
import { StartFailedError } from './start-errors.js';

/** One entry of a capacity provider strategy (`LONGSHORE_ECS_CAPACITY_PROVIDERS`). */
export interface EcsCapacityProvider {
  capacityProvider: string;
  weight?: number;
  base?: number;
}

/** Where and how the executor runs tasks: the agent's ECS settings. */
export interface EcsLaunchSettings {
  cluster: string;
  /** The container of the task definition that runs the job (gets its command and environment). */
  container: string;
  launchType?: 'FARGATE' | 'EC2';
  capacityProviders?: readonly EcsCapacityProvider[];
  platformVersion?: string;
  subnets?: readonly string[];
  securityGroups?: readonly string[];
  assignPublicIp?: boolean;
  /** Base RunTask arguments every task gets (`LONGSHORE_ECS_RUN_TASK_KWARGS`); a job's own merge over them. */
  runTaskKwargs?: Record<string, unknown>;
  /** Top-level RunTask keys a job's own arguments may set (`LONGSHORE_ECS_OVERRIDABLE_KEYS`); default none. */
  overridableKeys?: readonly string[];
}

/** RunTask keys only the executor sets, whatever a job or `LONGSHORE_ECS_OVERRIDABLE_KEYS` says. */
const EXECUTOR_KEYS = new Set(['cluster', 'count', 'startedBy', 'clientToken', 'taskDefinition']);

/** The tags naming a task's job, attempt, agent and pool (and the container that runs the job). */
export const ECS_TAGS = {
  job: 'longshore.job',
  attempt: 'longshore.attempt',
  agent: 'longshore.agent',
  pool: 'longshore.pool',
  container: 'longshore.container',
} as const;

/**
 * `startedBy` for an attempt (at most 36 letters, digits, `-`, `_`): `ls-` and the job id's unique
 * part (after its pool), then the attempt, so `ListTasks --started-by` finds one attempt's task.
 */
export function startedByFor(jobId: string, attempt: number): string {
  const unique = jobId.slice(jobId.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9_-]/g, '-');
  const suffix = `-${attempt}`;
  return `ls-${unique}`.slice(0, 36 - suffix.length) + suffix;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `over` deep-merged onto `base`: objects merge key by key, arrays and everything else replace,
 * except `containerOverrides` (at any depth), whose entries merge by container `name`.
 */
export function mergeRunTaskKwargs(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (key === 'containerOverrides' && Array.isArray(prev) && Array.isArray(value)) out[key] = mergeByName(prev, value);
    else if (isObject(prev) && isObject(value)) out[key] = mergeRunTaskKwargs(prev, value);
    else out[key] = value;
  }
  return out;
}

function mergeByName(base: unknown[], over: unknown[]): unknown[] {
  const out = [...base];
  for (const entry of over) {
    const at = isObject(entry) ? out.findIndex((b) => isObject(b) && b['name'] === entry['name']) : -1;
    if (at >= 0) out[at] = mergeRunTaskKwargs(out[at] as Record<string, unknown>, entry as Record<string, unknown>);
    else out.push(entry);
  }
  return out;
}

/**
 * A job's own RunTask arguments (its `--ecs-overrides` JSON), checked against what the agent lets
 * jobs override. @throws StartFailedError naming the first key refused, or the JSON's problem.
 */
export function jobRunTaskKwargs(json: string | undefined, overridable: readonly string[]): Record<string, unknown> {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new StartFailedError(`the job's ECS overrides are not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new StartFailedError('the job\'s ECS overrides must be a JSON object of RunTask arguments, e.g. {"overrides":{"ephemeralStorage":{"sizeInGiB":40}}}');
  for (const key of Object.keys(parsed)) {
    if (EXECUTOR_KEYS.has(key)) throw new StartFailedError(`the job's ECS overrides set "${key}", which only the executor sets`);
    if (!overridable.includes(key)) {
      const allowed = overridable.length ? `it allows: ${overridable.join(', ')}` : 'it allows none';
      throw new StartFailedError(`the job's ECS overrides set "${key}", which this agent does not let jobs override (LONGSHORE_ECS_OVERRIDABLE_KEYS; ${allowed})`);
    }
  }
  return parsed;
}

/** What a RunTask call for one attempt sends, and the size chosen for it (recorded on the attempt). */
export interface PlannedTask {
  input: RunTaskCommandInput;
  /** E.g. `Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)`; absent when the task definition's size stands. */
  detail?: string;
}

/** Whether tasks run on Fargate (its launch type, or a strategy of FARGATE / FARGATE_SPOT only). */
export function runsOnFargate(settings: Pick<EcsLaunchSettings, 'launchType' | 'capacityProviders'>): boolean {
  if (settings.capacityProviders?.length) return settings.capacityProviders.every((p) => p.capacityProvider.startsWith('FARGATE'));
  return settings.launchType === 'FARGATE';
}

/**
 * The RunTask input of one attempt: the agent's settings and base arguments, the job's own
 * arguments merged over them, then what only the executor sets (cluster, one task, `startedBy`,
 * the job's command and environment in its container, the `longshore.*` tags). Memory and CPU are
 * the request's: on Fargate the next valid pair up (task level), elsewhere the container's hard
 * memory limit and CPU units.
 *
 * @throws StartFailedError for a size Fargate cannot give, refused job arguments, or overrides
 *   past ECS's 8 KiB limit (never cut).
 */
export function planRunTask(req: RunRequest, taskDefinition: string, container: string, settings: EcsLaunchSettings, agentId: string, pool: string): PlannedTask {
  const base: Record<string, unknown> = {};
  if (settings.capacityProviders?.length) base['capacityProviderStrategy'] = settings.capacityProviders.map((p) => ({ ...p }));
  else if (settings.launchType) base['launchType'] = settings.launchType;
  if (settings.platformVersion) base['platformVersion'] = settings.platformVersion;
  if (settings.subnets?.length) {
    base['networkConfiguration'] = {
      awsvpcConfiguration: {
        subnets: [...settings.subnets],
        ...(settings.securityGroups?.length ? { securityGroups: [...settings.securityGroups] } : {}),
        assignPublicIp: settings.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    };
  }
  const merged = mergeRunTaskKwargs(mergeRunTaskKwargs(base, settings.runTaskKwargs ?? {}), jobRunTaskKwargs(req.ecs?.runTaskOverrides, settings.overridableKeys ?? []));

  const own: Record<string, unknown> = { name: container, command: req.command, environment: Object.entries(req.env).map(([name, value]) => ({ name, value })) };
  const taskLevel: Record<string, unknown> = {};
  let detail: string | undefined;
  if (runsOnFargate(settings)) {
    if (req.memoryBytes || req.cpusMilli) {
      const size = fargateSizeFor(req.cpusMilli, req.memoryBytes);
      if (!size) throw new StartFailedError(`no Fargate size has ${req.cpusMilli ? `${req.cpusMilli / 1000} CPUs` : ''}${req.cpusMilli && req.memoryBytes ? ' and ' : ''}${req.memoryBytes ? `${memoryMiB(req.memoryBytes)} MiB` : ''} (the largest is 16 vCPU / 120 GiB): lower the job's --memory / --cpus or its weight`);
      taskLevel['cpu'] = String(size.cpu);
      taskLevel['memory'] = String(size.memoryMiB);
      detail = describeFargateSize(size);
    }
  } else {
    if (req.memoryBytes) own['memory'] = memoryMiB(req.memoryBytes);
    if (req.cpusMilli) own['cpu'] = cpuUnits(req.cpusMilli);
    if (req.memoryBytes || req.cpusMilli) detail = `container ${container}: ${req.cpusMilli ? `cpu ${cpuUnits(req.cpusMilli)}` : ''}${req.cpusMilli && req.memoryBytes ? ', ' : ''}${req.memoryBytes ? `memory ${memoryMiB(req.memoryBytes)} MiB` : ''}`;
  }
  const overrides = mergeRunTaskKwargs(isObject(merged['overrides']) ? merged['overrides'] : {}, { ...taskLevel, containerOverrides: [own] });
  const size = ecsOverridesBytes(overrides);
  if (size > ECS_OVERRIDES_MAX_BYTES) {
    throw new StartFailedError(`the task's overrides (the job's command and environment in container ${container}) are ${size} bytes, past ECS's limit of ${ECS_OVERRIDES_MAX_BYTES}: shorten the environment or command (Longshore never cuts them)`);
  }
  const tags = [
    ...(Array.isArray(merged['tags']) ? (merged['tags'] as { key?: string }[]).filter((t) => !t.key?.startsWith('longshore.')) : []),
    { key: ECS_TAGS.job, value: req.jobId },
    { key: ECS_TAGS.attempt, value: String(req.attempt) },
    { key: ECS_TAGS.agent, value: agentId },
    { key: ECS_TAGS.pool, value: pool },
    { key: ECS_TAGS.container, value: container },
  ];
  const input = { ...merged, cluster: settings.cluster, taskDefinition, count: 1, startedBy: startedByFor(req.jobId, req.attempt), overrides, tags } as RunTaskCommandInput;
  return detail ? { input, detail } : { input };
}
