import { randomUUID } from 'node:crypto';
import { invalidParameter } from './errors.js';
import type { ContainerRunSpec } from './runtime.js';
import type { ContainerSpec, TaskDefinition } from './task-definitions.js';
import { checkTags, optInt, optObject, optObjects, optPairs, optString, optStrings, type Input } from './validate.js';

/** ECS's limit on RunTask `overrides`, JSON included. Source: RunTask API reference, `overrides`. */
export const MAX_OVERRIDES_CHARS = 8192;
/** ECS's limit on `startedBy`: up to 36 letters, numbers, hyphens, slashes and underscores. */
const STARTED_BY = /^[A-Za-z0-9_/-]{1,36}$/;
const LAUNCH_TYPES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'];

/** One container override of RunTask, checked. */
interface ContainerOverride {
  command?: string[];
  environment?: Record<string, string>;
  memory?: number;
  memoryReservation?: number;
  cpu?: number;
}

/** RunTask's input as the endpoint acts on it. */
export interface RunTaskInput {
  count: number;
  startedBy?: string;
  group?: string;
  tags: Record<string, string>;
  overrides: Input;
  containerOverrides: Map<string, ContainerOverride>;
  /** Task-level CPU units and memory MiB of the overrides. */
  cpu?: number;
  memory?: number;
  /** What is accepted and echoed back on the task. */
  echo: Input;
}

function taskSize(o: Input, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) <= 0) throw invalidParameter(`overrides.${key} must be a whole number as a string (e.g. "512"), got ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * RunTask's input, checked against ECS's rules and the task definition: count 1–10, `startedBy`,
 * tags, overrides within 8 KiB naming containers of the definition, launch type or capacity
 * provider strategy (not both), and awsvpc's network configuration.
 */
export function parseRunTask(input: Input, def: TaskDefinition): RunTaskInput {
  const count = optInt(input, 'count', 1, 10) ?? 1;
  const startedBy = optString(input, 'startedBy');
  if (startedBy !== undefined && !STARTED_BY.test(startedBy)) {
    throw invalidParameter(`startedBy "${startedBy}" must be up to 36 letters, numbers, hyphens (-), forward slashes (/) and underscores (_)`);
  }
  const tags = optPairs(input, 'tags', 'key') ?? {};
  checkTags(tags);
  const launchType = optString(input, 'launchType');
  const strategy = optObjects(input, 'capacityProviderStrategy');
  if (launchType !== undefined && !LAUNCH_TYPES.includes(launchType)) throw invalidParameter(`launchType must be one of ${LAUNCH_TYPES.join(', ')}, got "${launchType}"`);
  if (launchType !== undefined && strategy?.length) throw invalidParameter('Specifying both a launchType and capacityProviderStrategy is not supported.');
  if (strategy && (strategy.length > 20 || strategy.some((s) => typeof s['capacityProvider'] !== 'string'))) throw invalidParameter('capacityProviderStrategy: up to 20 items, each with a capacityProvider name');
  const network = optObject(input, 'networkConfiguration');
  const awsvpc = network ? optObject(network, 'awsvpcConfiguration') : undefined;
  if (def.networkMode === 'awsvpc') {
    if (!awsvpc) throw invalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    const subnets = optStrings(awsvpc, 'subnets') ?? [];
    const groups = optStrings(awsvpc, 'securityGroups') ?? [];
    if (subnets.length < 1 || subnets.length > 16) throw invalidParameter(`networkConfiguration.awsvpcConfiguration.subnets must hold 1 to 16 subnets, got ${subnets.length}`);
    if (groups.length > 5) throw invalidParameter(`networkConfiguration.awsvpcConfiguration.securityGroups may hold at most 5 security groups, got ${groups.length}`);
  }
  const overrides = optObject(input, 'overrides') ?? {};
  const size = JSON.stringify(overrides).length;
  if (size > MAX_OVERRIDES_CHARS) throw invalidParameter(`Container Overrides length must be at most ${MAX_OVERRIDES_CHARS} (got ${size} characters of overrides JSON)`);
  const containerOverrides = new Map<string, ContainerOverride>();
  for (const [i, o] of (optObjects(overrides, 'containerOverrides') ?? []).entries()) {
    const name = optString(o, 'name');
    if (!name) throw invalidParameter(`overrides.containerOverrides[${i}].name is required`);
    if (!def.containers.some((c) => c.name === name)) {
      throw invalidParameter(`Override for container named ${name} is not a container in the TaskDefinition (containers: ${def.containers.map((c) => c.name).join(', ')}).`);
    }
    const command = optStrings(o, 'command');
    const environment = optPairs(o, 'environment', 'name');
    const memory = optInt(o, 'memory', 6, 1_048_576);
    const memoryReservation = optInt(o, 'memoryReservation', 4, 1_048_576);
    const cpu = optInt(o, 'cpu', 0, 196_608);
    containerOverrides.set(name, {
      ...(command ? { command } : {}),
      ...(environment ? { environment } : {}),
      ...(memory !== undefined ? { memory } : {}),
      ...(memoryReservation !== undefined ? { memoryReservation } : {}),
      ...(cpu !== undefined ? { cpu } : {}),
    });
  }
  const cpu = taskSize(overrides, 'cpu');
  const memory = taskSize(overrides, 'memory');
  const platformVersion = optString(input, 'platformVersion');
  const group = optString(input, 'group');
  const subnet = awsvpc ? optStrings(awsvpc, 'subnets')?.[0] : undefined;
  const echo: Input = {
    // An awsvpc task shows its network interface as ECS does (an attachment naming its subnet).
    attachments: subnet
      ? [{ id: randomUUID(), type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [{ name: 'subnetId', value: subnet }, { name: 'networkInterfaceId', value: 'eni-local' }, { name: 'privateIPv4Address', value: '127.0.0.1' }] }]
      : [],
    ...(launchType !== undefined ? { launchType } : {}),
    ...(strategy?.length ? { capacityProviderName: strategy[0]!['capacityProvider'] } : {}),
    ...(platformVersion !== undefined ? { platformVersion } : {}),
  };
  return {
    count,
    ...(startedBy !== undefined ? { startedBy } : {}),
    ...(group !== undefined ? { group } : {}),
    tags,
    overrides,
    containerOverrides,
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    echo,
  };
}

/** What the network mode of a definition gives its containers: none unless it asks for bridge or host. */
function networkOf(mode: string, given: boolean): ContainerRunSpec['network'] {
  if (given && (mode === 'bridge' || mode === 'host')) return mode;
  return 'none';
}

/**
 * A container's run spec: its definition with RunTask's overrides over it (command replaced,
 * environment merged by name, memory and CPU replaced). A lone container with no memory of its
 * own gets the task's memory as its hard limit (as Fargate enforces the task's size).
 */
export function containerRunSpec(taskId: string, def: TaskDefinition, c: ContainerSpec, run: RunTaskInput): ContainerRunSpec {
  const o = run.containerOverrides.get(c.name) ?? {};
  const taskMemory = run.memory ?? def.memory;
  const memory = o.memory ?? c.memory ?? (def.containers.length === 1 ? taskMemory : undefined);
  const reservation = o.memoryReservation ?? c.memoryReservation;
  const cpu = o.cpu ?? c.cpu;
  const taskCpu = run.cpu ?? def.cpu;
  const command = o.command ?? c.command;
  return {
    name: `ecs-${taskId}-${c.name}`,
    image: c.image,
    ...(command ? { command } : {}),
    ...(c.entryPoint ? { entryPoint: c.entryPoint } : {}),
    env: { ...c.environment, ...o.environment },
    ...(memory !== undefined ? { memoryMiB: memory } : {}),
    ...(reservation !== undefined ? { memoryReservationMiB: reservation } : {}),
    ...(cpu ? { cpuShares: cpu } : {}),
    ...(taskCpu ? { cpuLimitUnits: taskCpu } : {}),
    network: networkOf(def.networkMode, def.networkModeGiven),
    ...(c.workingDirectory ? { workingDirectory: c.workingDirectory } : {}),
    ...(c.user ? { user: c.user } : {}),
    labels: {},
  };
}
