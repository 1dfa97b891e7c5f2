import type { ContainerRunSpec, RunningContainer } from './runtime.js';
import type { TaskDefinition } from './task-definitions.js';
import type { Input } from './validate.js';

/** A task's `lastStatus` as the local endpoint moves it (ECS's intermediate states are skipped). */
export type TaskStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';

/** Why a task stopped (ECS `stopCode`). */
export type StopCode = 'TaskFailedToStart' | 'EssentialContainerExited' | 'UserInitiated';

/** The reason ECS gives a container the kernel killed for its memory. */
export const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';
/** The stoppedReason ECS gives a task whose essential container exited. */
export const ESSENTIAL_EXITED = 'Essential container in task exited';
/** The stoppedReason of StopTask without a reason. */
export const STOPPED_BY_USER = 'Task stopped by user';

/** One container of a task. */
export interface TaskContainer {
  arn: string;
  name: string;
  essential: boolean;
  /** Grace of `docker stop`, seconds (the container definition's `stopTimeout`, else the endpoint's). */
  stopTimeout: number;
  /** awslogs destination, if the definition has one. */
  log?: { group: string; stream: string };
  spec: ContainerRunSpec;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  reason?: string;
  running?: RunningContainer;
  /** Echoed CPU/memory of the definition, as strings. */
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
}

/** One task: what RunTask asked, where it is now, and its containers. Owned by the Tasks registry. */
export interface Task {
  id: string;
  arn: string;
  clusterArn: string;
  cluster: string;
  def: TaskDefinition;
  startedBy?: string;
  group: string;
  tags: Record<string, string>;
  /** RunTask's `overrides`, echoed. */
  overrides: Input;
  /** RunTask's other options, echoed (launchType, platformVersion, capacityProviderName, attachments). */
  echo: Input;
  cpu?: string;
  memory?: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Milliseconds since the epoch. */
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** StopTask's reason, once asked. */
  stopRequest?: { reason: string };
  version: number;
  containers: TaskContainer[];
  /** Wakes the start sequence early when StopTask arrives during a slow start. */
  wake?: () => void;
}

/** The task as DescribeTasks/RunTask/StopTask answer it (timestamps in epoch seconds). */
export function taskShape(t: Task, withTags: boolean): Input {
  const time = (key: string, ms: number | undefined): Input => (ms === undefined ? {} : { [key]: ms / 1000 });
  return {
    taskArn: t.arn,
    clusterArn: t.clusterArn,
    taskDefinitionArn: t.def.arn,
    group: t.group,
    ...(t.startedBy === undefined ? {} : { startedBy: t.startedBy }),
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    ...(t.cpu === undefined ? {} : { cpu: t.cpu }),
    ...(t.memory === undefined ? {} : { memory: t.memory }),
    containers: t.containers.map((c) => ({
      containerArn: c.arn,
      taskArn: t.arn,
      name: c.name,
      image: c.spec.image,
      ...(c.running ? { runtimeId: c.running.id } : {}),
      lastStatus: c.lastStatus,
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      ...(c.reason === undefined ? {} : { reason: c.reason }),
      networkBindings: [],
      networkInterfaces: [],
      ...(c.cpu === undefined ? {} : { cpu: String(c.cpu) }),
      ...(c.memory === undefined ? {} : { memory: String(c.memory) }),
      ...(c.memoryReservation === undefined ? {} : { memoryReservation: String(c.memoryReservation) }),
    })),
    overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [], ...t.overrides },
    attributes: [],
    ...t.echo,
    availabilityZone: 'local',
    connectivity: t.lastStatus === 'PROVISIONING' ? 'DISCONNECTED' : 'CONNECTED',
    version: t.version,
    ...time('createdAt', t.createdAt),
    ...time('connectivityAt', t.pullStartedAt),
    ...time('pullStartedAt', t.pullStartedAt),
    ...time('pullStoppedAt', t.pullStoppedAt),
    ...time('startedAt', t.startedAt),
    ...time('stoppingAt', t.stoppingAt),
    ...time('executionStoppedAt', t.executionStoppedAt),
    ...time('stoppedAt', t.stoppedAt),
    ...(t.stopCode === undefined ? {} : { stopCode: t.stopCode }),
    ...(t.stoppedReason === undefined ? {} : { stoppedReason: t.stoppedReason }),
    ...(withTags ? { tags: Object.entries(t.tags).map(([key, value]) => ({ key, value })) } : {}),
  };
}
