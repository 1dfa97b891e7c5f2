import { join } from 'node:path';
import { backoffFor, type ExecutorName } from '@longshore/domain';
import { buildJobEnv, type Executor, type RunOutcome, type RunRequest } from '@longshore/executors';
import type { ClaimedJob, QueueJobData } from '@longshore/queue';
import type { AttemptOutcome, JobStore, StoredAttempt } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { chooseExecutor, type ExecutorSet } from './executors.js';
import { LogWriter } from './log-writer.js';
import { toAttemptOutcome } from './outcome.js';

/** What a run needs from its agent. */
export interface RunContext {
  agentId: string;
  jobs: JobStore;
  executors: ExecutorSet;
  defaultExecutor: ExecutorName;
  defaultTimeoutMs: number;
  logMaxBytes: number;
  jobDir: string;
  logger: Logger;
}

/** How a run ended, for the agent's bookkeeping. */
export type RunEnd = 'finished' | 'gone' | 'fenced' | 'released';

/**
 * Runs one claimed job to its end: claims its record (fencing later writes with the lock
 * token), picks the executor, streams output into the log, records the outcome, and removes the
 * transport job. `abort` stops it: `cancel` ends it as cancelled; `release` (agent shutting
 * down) kills it and hands it back to the queue.
 */
export class JobRun {
  private readonly controller = new AbortController();
  private releaseOnAbort = false;
  private abandonOnAbort = false;
  private attemptNumber = 1;
  private delay: number | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly claimed: ClaimedJob,
    readonly data: QueueJobData,
  ) {}

  get id(): string {
    return this.data.id;
  }

  /** Cancels the run (user request): it ends as `cancelled`. */
  cancel(reason: string): void {
    this.controller.abort(reason);
  }

  /**
   * Kills the run and writes nothing more: the agent lost its claim (its lock expired), so the
   * job is someone else's to record; the next claim closes this attempt as lost.
   */
  abandon(reason: string): void {
    this.abandonOnAbort = true;
    this.controller.abort(reason);
  }

  /** Kills the run and hands the job back to the queue (the agent is going away). */
  release(reason: string): void {
    this.releaseOnAbort = true;
    this.controller.abort(reason);
  }

  async run(): Promise<RunEnd> {
    const { ctx, data, claimed } = this;
    const log = ctx.logger.child({ job: data.id });
    const choice = chooseExecutor(data.spec, ctx.executors, ctx.defaultExecutor, ctx.agentId);
    const attempt: StoredAttempt = {
      agentId: ctx.agentId,
      executor: 'name' in choice ? choice.name : (data.spec.executor ?? ctx.defaultExecutor),
      startedAt: Date.now(),
      ...('reason' in choice ? { executorReason: choice.reason } : {}),
    };
    const claim = await ctx.jobs.claim(data.id, claimed.token, ctx.agentId, attempt, {
      lostBudget: data.spec.retry?.budgets.lost ?? 0,
      maxAttempts: data.spec.maxAttempts,
    });
    if (claim.kind === 'ok') this.attemptNumber = claim.attempt;
    if (claim.kind === 'gone') {
      log.info({ state: claim.state }, 'claimed job needs no run');
      await claimed.complete();
      return 'gone';
    }
    if ('error' in choice) return this.end(toAttemptOutcome({ kind: 'start_failed', message: choice.error }, attempt, Date.now()));

    let fenced = false;
    const writer = new LogWriter(ctx.jobs, data.id, claimed.token, ctx.logMaxBytes, () => {
      fenced = true;
      this.controller.abort('this agent no longer holds the job');
    }, (err) => log.warn({ err }, 'could not store log lines'));

    // A private directory (HOME, TMPDIR, and the working directory unless the job names one) for
    // executors that run on this host's filesystem; the executor creates and removes it.
    const privateDir = choice.name === 'subprocess' ? join(ctx.jobDir, `${data.id}-${claim.attempt}`) : undefined;
    if (!(await ctx.jobs.markRunning(data.id, claimed.token))) return 'fenced';
    log.info({ executor: choice.name, attempt: claim.attempt, weightMilli: data.weightMilli }, 'job started');
    const out = await this.execute(choice.executor, {
      jobId: data.id,
      attempt: claim.attempt,
      command: data.spec.command,
      env: buildJobEnv({ inherit: process.env, jobEnv: data.spec.env, jobId: data.id, attempt: claim.attempt, ...(privateDir ? { privateDir } : {}) }),
      ...(data.spec.workingDir ? { workingDir: data.spec.workingDir } : {}),
      ...(privateDir ? { privateDir } : {}),
      timeoutMs: data.spec.timeoutMs || ctx.defaultTimeoutMs,
      ...(data.spec.memoryBytes ? { memoryBytes: data.spec.memoryBytes } : {}),
      signal: this.controller.signal,
      onLine: (stream, text) => writer.line(stream, text),
    });
    await writer.flush();
    if (fenced || this.abandonOnAbort) {
      log.warn({ reason: String(this.controller.signal.reason) }, 'this agent lost its claim on the job; its run was stopped and its result discarded');
      return 'fenced';
    }
    if (this.releaseOnAbort) {
      const handed = { ...attempt, finishedAt: Date.now(), handedBack: true, message: `handed back: ${String(this.controller.signal.reason)}` };
      if (!(await ctx.jobs.handBack(data.id, claimed.token, handed))) return 'fenced';
      await claimed.release();
      log.info('job handed back to the queue (the attempt does not count)');
      return 'released';
    }
    return await this.end(toAttemptOutcome(out, attempt, Date.now()));
  }

  /**
   * Runs the executor; if it fails in a way that is not the job's (it could not keep enforcing
   * a limit, say), the run was stopped by the executor and counts as lost: the system's fault.
   */
  private async execute(executor: Executor, req: RunRequest): Promise<RunOutcome | { kind: 'lost'; message: string }> {
    try {
      return await executor.run(req);
    } catch (err) {
      this.ctx.logger.error({ err, job: this.data.id }, 'executor failed while running the job');
      return { kind: 'lost', message: `the agent could not keep running it: ${(err as Error).message}` };
    }
  }

  private async end(outcome: AttemptOutcome): Promise<RunEnd> {
    const { data, claimed, ctx } = this;
    const policy = data.spec.retry;
    const cls = outcome.failureClass;
    const retryable = outcome.state === 'failed' && cls && cls !== 'cancelled';
    const res = await ctx.jobs.finish(data.id, claimed.token, outcome, {
      budget: retryable && policy ? policy.budgets[cls] : 0,
      maxAttempts: data.spec.maxAttempts,
      delayMs: this.retryDelay(),
    });
    if (res === 'fenced') return 'fenced';
    if (res === 'retry') {
      const delayMs = this.retryDelay();
      await claimed.retryLater(delayMs);
      ctx.logger.info({ job: data.id, failureClass: cls, exitCode: outcome.exitCode, delayMs }, 'job will be retried');
      return 'finished';
    }
    await claimed.complete();
    ctx.logger.info({ job: data.id, state: outcome.state, exitCode: outcome.exitCode, failureClass: outcome.failureClass }, 'job finished');
    return 'finished';
  }

  /** This attempt's backoff, should it be retried (fixed per run so record and queue agree). */
  private retryDelay(): number {
    this.delay ??= this.data.spec.retry ? backoffFor(this.data.spec.retry, this.attemptNumber) : 0;
    return this.delay;
  }
}
