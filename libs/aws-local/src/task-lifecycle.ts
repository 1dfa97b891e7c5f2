import { TASK_LABEL } from './docker-runtime.js';
import type { LogStore } from './log-store.js';
import type { ContainerRuntime } from './runtime.js';
import { ESSENTIAL_EXITED, OOM_REASON, STOPPED_BY_USER, type StopCode, type Task, type TaskContainer, type TaskStatus } from './task.js';

/** What a task's lifecycle needs around it. */
export interface LifecycleDeps {
  runtime: ContainerRuntime;
  logs: LogStore;
  now: () => number;
  /** Background errors (the engine refusing a stop, …), logged with what was being done. */
  onError: (what: string, err: unknown) => void;
  /** The value a container secret's `valueFrom` names (the endpoint's Secrets Manager); throws saying why not. Absent: a task with secrets fails to start. */
  secretValue?: (valueFrom: string) => string;
}

/** What RunTask decided about this task's start, from the pending faults. */
export interface StartPlan {
  /** Milliseconds to stay PROVISIONING. */
  slowStartMs: number;
  /** An injected start failure's stoppedReason. */
  failToStart?: string;
}

function move(task: Task, status: TaskStatus, now: number): void {
  task.lastStatus = status;
  task.version++;
  if (status === 'PENDING') task.pullStartedAt = now;
}

/**
 * Ends a task that never ran: every container STOPPED without an exit code (its `reason`, when
 * given), the task STOPPED with `stopCode`.
 */
function stopUnstarted(task: Task, stopCode: StopCode, reason: string, now: number, containerReason?: string): void {
  for (const c of task.containers) {
    c.lastStatus = 'STOPPED';
    if (containerReason !== undefined) c.reason = containerReason;
  }
  finish(task, stopCode, reason, now);
}

function finish(task: Task, stopCode: StopCode, reason: string, now: number): void {
  task.desiredStatus = 'STOPPED';
  task.stoppingAt ??= now;
  task.executionStoppedAt = now;
  task.stoppedAt = now;
  task.stopCode = stopCode;
  task.stoppedReason = reason;
  move(task, 'STOPPED', now);
}

/** StopTask's reason, once asked (read through a call: StopTask arrives while the lifecycle awaits). */
function stopReason(task: Task): string | undefined {
  return task.stopRequest?.reason;
}

/** Sleeps `ms`, or less when the task is asked to stop. */
function provisioning(task: Task, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    task.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  }).finally(() => delete task.wake);
}

/**
 * Runs `task` from PROVISIONING to STOPPED on the engine: waits out a slow start, fails an
 * injected or real start (image that cannot be pulled, container that cannot start) as
 * `TaskFailedToStart` with no exit code, else runs the containers, sends their output to
 * CloudWatch Logs as it comes, and stops the task when an essential container exits (stopping
 * the others) or when StopTask asked. Never rejects; a fault of the engine is the task's
 * stoppedReason.
 */
export async function runTaskLifecycle(task: Task, plan: StartPlan, deps: LifecycleDeps): Promise<void> {
  const { runtime, now } = deps;
  try {
    await provisioning(task, plan.slowStartMs);
    let stop = stopReason(task);
    if (stop !== undefined) return stopUnstarted(task, 'UserInitiated', stop, now());
    if (plan.failToStart !== undefined) return stopUnstarted(task, 'TaskFailedToStart', plan.failToStart, now(), plan.failToStart);
    move(task, 'PENDING', now());
    // As ECS with the execution role: the containers' secrets are fetched now, and a task whose
    // secret cannot be had never starts. The values go to the containers only, never on the task.
    const secretEnv = new Map<string, Record<string, string>>();
    for (const c of task.def.containers) {
      if (!c.secrets) continue;
      const values: Record<string, string> = {};
      for (const [name, from] of Object.entries(c.secrets)) {
        try {
          if (!deps.secretValue) throw new Error('this endpoint has no Secrets Manager');
          values[name] = deps.secretValue(from);
        } catch (err) {
          const reason = `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: failed to fetch secret ${from} from secrets manager: ${(err as Error).message}`;
          return stopUnstarted(task, 'TaskFailedToStart', reason, now(), reason);
        }
      }
      secretEnv.set(c.name, values);
    }
    for (const image of new Set(task.containers.map((c) => c.spec.image))) {
      try {
        await runtime.ensureImage(image);
      } catch (err) {
        const reason = `CannotPullContainerError: ${(err as Error).message}`;
        task.pullStoppedAt = now();
        return stopUnstarted(task, 'TaskFailedToStart', reason, now(), reason);
      }
    }
    task.pullStoppedAt = now();
    stop = stopReason(task);
    if (stop !== undefined) return stopUnstarted(task, 'UserInitiated', stop, now());
    const started = await startContainers(task, deps, secretEnv);
    if (!started) return;
    move(task, 'RUNNING', now());
    task.startedAt = now();
    for (const c of task.containers) c.lastStatus = 'RUNNING';
    // StopTask during the start: its stop is sent now that there are containers to stop.
    if (stopReason(task) !== undefined) stopContainers(task, deps.onError);
    await Promise.all(task.containers.map((c) => followContainer(task, c, deps)));
    stop = stopReason(task);
    if (stop !== undefined) finish(task, 'UserInitiated', stop, now());
    else finish(task, 'EssentialContainerExited', ESSENTIAL_EXITED, now());
  } catch (err) {
    deps.onError(`run task ${task.arn}`, err);
    for (const c of task.containers) c.running?.stop(0).catch(() => undefined);
    if (task.lastStatus !== 'STOPPED') stopUnstarted(task, 'TaskFailedToStart', `ResourceInitializationError: ${(err as Error).message}`, now());
  }
}

/** Starts every container; on a refusal stops those started and ends the task. Whether all started. */
async function startContainers(task: Task, deps: LifecycleDeps, secretEnv: ReadonlyMap<string, Record<string, string>> = new Map()): Promise<boolean> {
  for (const c of task.containers) {
    if (c.log) deps.logs.ensureStream(c.log.group, c.log.stream);
    const log = c.log;
    try {
      // A secret wins over a variable of the same name (overrides included).
      c.running = await deps.runtime.start({ ...c.spec, env: { ...c.spec.env, ...secretEnv.get(c.name) }, labels: { ...c.spec.labels, [TASK_LABEL]: task.arn } }, (line) => {
        if (log) deps.logs.append(log.group, log.stream, line);
      });
    } catch (err) {
      const reason = `CannotStartContainerError: ${(err as Error).message}`;
      for (const other of task.containers) if (other.running) void other.running.stop(0);
      await Promise.all(task.containers.map((o) => o.running?.exited));
      stopUnstarted(task, 'TaskFailedToStart', reason, deps.now(), reason);
      return false;
    }
  }
  return true;
}

/** Waits for `c` to end and records how; an essential one ending stops the rest of the task. */
async function followContainer(task: Task, c: TaskContainer, deps: LifecycleDeps): Promise<void> {
  const exit = await c.running!.exited;
  c.lastStatus = 'STOPPED';
  c.exitCode = exit.exitCode;
  if (exit.oomKilled) c.reason = OOM_REASON;
  task.version++;
  if (c.essential && task.containers.some((o) => o.lastStatus !== 'STOPPED')) {
    task.stoppingAt ??= deps.now();
    task.desiredStatus = 'STOPPED';
    stopContainers(task, deps.onError);
  }
}

/** Sends `docker stop` (with each container's grace) to the task's running containers; not awaited. */
export function stopContainers(task: Task, onError?: (what: string, err: unknown) => void): void {
  for (const c of task.containers) {
    if (c.running && c.lastStatus !== 'STOPPED') c.running.stop(c.stopTimeout).catch((err: unknown) => onError?.(`stop ${c.name} of ${task.arn}`, err));
  }
}

/** StopTask: marks the task to stop with `reason` and stops what runs; a stopped task is left as it is. */
export function requestStop(task: Task, reason: string | undefined, now: number): void {
  if (task.lastStatus === 'STOPPED' || task.stopRequest) return;
  task.stopRequest = { reason: reason || STOPPED_BY_USER };
  task.desiredStatus = 'STOPPED';
  task.stoppingAt = now;
  task.version++;
  task.wake?.();
  if (task.lastStatus === 'RUNNING') stopContainers(task);
}
