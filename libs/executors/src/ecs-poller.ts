import type { Task } from '@aws-sdk/client-ecs';
import type { Logger } from '@longshore/telemetry';
import { awsMessage, isThrottling, type EcsApi } from './ecs-api.js';

/** ECS's limit on the tasks of one DescribeTasks call. */
export const DESCRIBE_TASKS_BATCH = 100;

/** What a watcher of one task hears from the {@link EcsPoller}. */
export interface TaskWatcher {
  /** The task as the latest DescribeTasks saw it. */
  onTask(task: Task): void;
  /** ECS no longer knows the task (DescribeTasks reported it `MISSING`). */
  onMissing(reason: string): void;
}

/** How often the poller asks, and how far it backs off when ECS throttles it or fails. */
export interface PollTiming {
  intervalMs: number;
  maxBackoffMs: number;
}

/**
 * The one poller of an executor: every `intervalMs`, one DescribeTasks call per 100 watched tasks
 * (all of them, whatever their number, in batches), each task's state handed to its watcher. When
 * ECS throttles (or fails), the interval doubles up to `maxBackoffMs`, and comes back after a
 * poll that went through: runs survive throttling, they are only seen later.
 */
export class EcsPoller {
  private readonly watched = new Map<string, TaskWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;

  constructor(
    private readonly api: EcsApi,
    private readonly cluster: string,
    private readonly timing: PollTiming,
    private readonly logger: Logger,
  ) {
    this.delayMs = timing.intervalMs;
  }

  /** Follows task `arn` until the returned function is called. */
  watch(arn: string, watcher: TaskWatcher): () => void {
    this.watched.set(arn, watcher);
    this.schedule();
    return () => {
      if (this.watched.get(arn) === watcher) this.watched.delete(arn);
    };
  }

  private schedule(): void {
    if (this.timer || this.watched.size === 0) return;
    this.timer = setTimeout(() => void this.poll(), this.delayMs);
  }

  private async poll(): Promise<void> {
    const arns = [...this.watched.keys()];
    let failed = false;
    for (let i = 0; i < arns.length; i += DESCRIBE_TASKS_BATCH) {
      const batch = arns.slice(i, i + DESCRIBE_TASKS_BATCH);
      try {
        const out = await this.api.describeTasks({ cluster: this.cluster, tasks: batch, include: ['TAGS'] });
        for (const task of out.tasks ?? []) if (task.taskArn) this.watched.get(task.taskArn)?.onTask(task);
        for (const f of out.failures ?? []) {
          if (f.arn && f.reason === 'MISSING') this.watched.get(f.arn)?.onMissing(`ECS no longer knows task ${f.arn} (DescribeTasks: MISSING)`);
        }
      } catch (err) {
        failed = true;
        const level = isThrottling(err) ? 'warn' : 'error';
        this.logger[level]({ err, tasks: batch.length }, `DescribeTasks failed (${awsMessage(err)}); polling again in ${Math.min(this.delayMs * 2, this.timing.maxBackoffMs)} ms`);
        break;
      }
    }
    this.delayMs = failed ? Math.min(this.delayMs * 2, this.timing.maxBackoffMs) : this.timing.intervalMs;
    this.timer = undefined;
    this.schedule();
  }
}
