import type { Container, Task } from '@aws-sdk/client-ecs';
import type { Logger } from '@longshore/telemetry';
import { awsMessage, type EcsApi } from './ecs-api.js';
import type { EcsPoller } from './ecs-poller.js';
import type { LogStreamOf } from './ecs-task-definitions.js';
import type { LineSink, RunHandle, RunOutcome } from './executor.js';

/** What every run of one executor shares. */
export interface EcsRunSettings {
  api: EcsApi;
  poller: EcsPoller;
  cluster: string;
  logger: Logger;
  /** How long after STOPPED the log is read once more, for lines CloudWatch ingested late. */
  drainDelayMs: number;
  /** The GetLogEvents calls all runs may make. */
  logReads: LogReadBudget;
}

/** GetLogEvents calls per second one executor makes at most (CloudWatch allows 25 per account and region). */
export const LOG_READS_PER_SECOND = 10;

/**
 * A budget of GetLogEvents calls per second shared by an executor's runs, served first come first
 * served: a run waiting for its turn reads once the budget has room again (its lines come later,
 * none is lost), and every run gets its turn, however many there are.
 */
export class LogReadBudget {
  private windowStart = 0;
  private used = 0;
  private readonly waiting: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly perSecond = LOG_READS_PER_SECOND) {}

  /** Resolves when the caller may make one call. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.serve();
    });
  }

  private serve(): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    while (this.waiting.length && this.used < this.perSecond) {
      this.used++;
      this.waiting.shift()!();
    }
    if (this.waiting.length && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.serve();
      }, Math.max(1, 1000 - (Date.now() - this.windowStart)));
    }
  }
}

/** Where one run's output is and from where to deliver it. */
export interface EcsRunLog {
  stream?: LogStreamOf;
  /** Lines already delivered (and stored) by an earlier life of the agent: skipped. */
  skip?: number;
  /** Read from this time (epoch ms) instead of the stream's start: an attach without replay. */
  fromTime?: number;
}

/** Log pages read per pass, at most (each up to 10,000 events or 1 MB). */
const MAX_PAGES_PER_READ = 50;

/** The reason StopTask records on a task Longshore stopped. */
export const STOP_REASON = 'stopped by Longshore (the job was cancelled or timed out)';

/** ECS's bounds on a container's `stopTimeout`, seconds (ECS caps it at 120 s). */
export const ECS_STOP_TIMEOUT_MIN_S = 2;
export const ECS_STOP_TIMEOUT_MAX_S = 120;

/**
 * The container `stopTimeout` (seconds) that gives a stopped task the agent's kill grace
 * (`LONGSHORE_KILL_GRACE`) between SIGTERM and SIGKILL: whole seconds, rounded up, within ECS's
 * 2–120 s (a longer grace is cut to 120 s: ECS allows no more).
 */
export function ecsStopTimeoutFor(killGraceMs: number): number {
  return Math.min(ECS_STOP_TIMEOUT_MAX_S, Math.max(ECS_STOP_TIMEOUT_MIN_S, Math.ceil(killGraceMs / 1000)));
}

/**
 * Whether a STOPPED task's job container really ran: it has an exit code, or was killed for its
 * memory. A task stopped without (`TaskFailedToStart`, an image that could not be pulled, no
 * capacity) never ran the job.
 */
export function containerRan(c: Container | undefined): boolean {
  return c !== undefined && (c.exitCode !== undefined || (c.reason?.includes('OutOfMemoryError') ?? false));
}

/**
 * One ECS task followed to its end: its state from the executor's {@link EcsPoller}, its output
 * from CloudWatch Logs (read on every poll while it runs, drained once it is STOPPED), its
 * outcome from the job container's exit code and reason.
 */
export class EcsRun {
  readonly handle: RunHandle;
  /** Resolves with the task once it is RUNNING or already STOPPED; rejects if ECS loses it first. */
  readonly started: Promise<Task>;
  private readonly outcome: Promise<RunOutcome>;
  private settleStarted!: { resolve(t: Task): void; reject(e: Error): void };
  private settle!: { resolve(o: RunOutcome): void; reject(e: Error): void };
  private readonly unwatch: () => void;
  private ended = false;
  private ran = false;
  private stopRequested: Promise<void> | undefined;
  private token: string | undefined;
  private reading: Promise<void> | undefined;
  private skip: number;

  constructor(
    readonly taskArn: string,
    private readonly container: string,
    private readonly onLine: LineSink,
    private readonly settings: EcsRunSettings,
    private readonly log: EcsRunLog,
    detail?: string,
  ) {
    this.skip = log.skip ?? 0;
    this.started = new Promise((resolve, reject) => (this.settleStarted = { resolve, reject }));
    this.outcome = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.started.catch(() => undefined);
    this.outcome.catch(() => undefined);
    this.unwatch = settings.poller.watch(taskArn, { onTask: (t) => this.onTask(t), onMissing: (r) => this.fail(new Error(r)) });
    this.handle = {
      ref: { kind: 'ecs', taskArn },
      ...(detail ? { detail } : {}),
      wait: () => this.outcome,
      stop: (graceMs) => this.stop(graceMs),
    };
  }

  private onTask(task: Task): void {
    if (this.ended) return;
    if (task.lastStatus === 'RUNNING' || task.lastStatus === 'DEACTIVATING' || task.lastStatus === 'STOPPING') {
      this.ran = true;
      this.settleStarted.resolve(task);
      this.pump();
    }
    if (task.lastStatus !== 'STOPPED') return;
    this.ended = true;
    this.unwatch();
    this.settleStarted.resolve(task);
    void this.finish(task);
  }

  private async finish(task: Task): Promise<void> {
    try {
      await this.drain();
      this.settle.resolve(this.outcomeOf(task));
    } catch (err) {
      this.settle.reject(err as Error);
    }
  }

  private outcomeOf(task: Task): RunOutcome {
    const c = task.containers?.find((x) => x.name === this.container) ?? task.containers?.[0];
    const why = `${task.stopCode ?? 'no stop code'}: ${task.stoppedReason ?? 'no reason given'}`;
    if (c?.reason?.includes('OutOfMemoryError')) return { kind: 'oom', message: `ECS stopped the task: container ${c.name} ${c.reason}` };
    if (this.stopRequested && task.stopCode === 'UserInitiated') {
      return c?.exitCode !== undefined ? { kind: 'stopped', detail: `StopTask; the container exited with ${c.exitCode}` } : { kind: 'stopped' };
    }
    if (c?.exitCode !== undefined) return { kind: 'exited', exitCode: c.exitCode };
    if (!this.ran) return { kind: 'start_failed', message: `task ${this.taskArn} stopped without running (${why})` };
    // It ran, and its end is unknown (its host went away): not the job's doing.
    throw new Error(`task ${this.taskArn} stopped without an exit code for container ${this.container} (${why})`);
  }

  private fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.unwatch();
    this.settleStarted.reject(err);
    this.settle.reject(err);
  }

  /** Reads what the log has now (once the budget gives it a turn), unless a read is under way or waiting. */
  private pump(): void {
    if (!this.log.stream || this.reading) return;
    this.reading = this.read().finally(() => (this.reading = undefined));
  }

  /** All of the log once the task is STOPPED: what is there, and once more after a while for late lines. */
  private async drain(): Promise<void> {
    if (!this.log.stream) return;
    await this.reading;
    await this.read();
    await new Promise((r) => setTimeout(r, this.settings.drainDelayMs));
    await this.read();
  }

  /** Reads pages from where the last read stopped until the end, each call within the budget. */
  private async read(): Promise<void> {
    const stream = this.log.stream!;
    for (let page = 0; page < MAX_PAGES_PER_READ; page++) {
      await this.settings.logReads.take();
      let out;
      try {
        out = await this.settings.api.getLogEvents({
          logGroupName: stream.group,
          logStreamName: stream.stream,
          startFromHead: true,
          ...(this.token ? { nextToken: this.token } : this.log.fromTime ? { startTime: this.log.fromTime } : {}),
        });
      } catch (err) {
        // No stream yet: the container has not written. Anything else is tried again on the next poll.
        if ((err as Error).name !== 'ResourceNotFoundException') this.settings.logger.warn({ err, task: this.taskArn }, `could not read the task's log (${awsMessage(err)})`);
        return;
      }
      for (const event of out.events ?? []) this.deliver(event.message ?? '');
      const next = out.nextForwardToken;
      const done = !next || next === this.token || (out.events ?? []).length === 0;
      if (next) this.token = next;
      if (done) return;
    }
  }

  private deliver(message: string): void {
    const lines = message.split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      if (this.skip > 0) {
        this.skip--;
        continue;
      }
      try {
        this.onLine('stdout', line);
      } catch (err) {
        void this.stopTask();
        this.fail(new Error(`the output sink failed; the task was stopped: ${(err as Error).message}`));
        return;
      }
    }
  }

  private async stop(graceMs: number): Promise<void> {
    if (!Number.isInteger(graceMs) || graceMs < 0) throw new RangeError(`graceMs must be an integer >= 0, got ${graceMs}`);
    await this.stopBecause(STOP_REASON);
  }

  /**
   * StopTask with `reason` (cut to ECS's 255 characters), once, and resolves when the task is
   * STOPPED (or lost). ECS sends SIGTERM, then SIGKILL after the job container's `stopTimeout`.
   */
  async stopBecause(reason: string): Promise<void> {
    if (!this.ended) await (this.stopRequested ??= this.stopTask(reason.slice(0, 255)));
    await this.outcome.then(
      () => undefined,
      () => undefined,
    );
  }

  /** StopTask (ECS sends SIGTERM, then SIGKILL after the task definition's `stopTimeout`), retried a few times. */
  private async stopTask(reason = STOP_REASON): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.settings.api.stopTask({ cluster: this.settings.cluster, task: this.taskArn, reason });
        return;
      } catch (err) {
        if (attempt >= 5) {
          const failure = new Error(`StopTask of ${this.taskArn} failed ${attempt} times: ${awsMessage(err)}`);
          this.fail(failure);
          throw failure;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }
}
