import { join } from 'node:path';
import { backoffFor, type ExecutorName } from '@longshore/domain';
import { buildJobEnv, type Executor, type RunOutcome, type RunRequest } from '@longshore/executors';
import type { AttemptOutcome, HeldJob, JobSource, RetryChoice } from '@longshore/queue';
import type { StoredAttempt } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { chooseExecutor, type ExecutorSet } from './executors.js';
import { LogWriter } from './log-writer.js';
import { toAttemptOutcome } from './outcome.js';

/** What a run needs from its agent. */
export interface RunContext {
  agentId: string;
  source: JobSource;
  executors: ExecutorSet;
  defaultExecutor: ExecutorName;
  defaultTimeoutMs: number;
  logMaxBytes: number;
  jobDir: string;
  logger: Logger;
}

/**
 * How a run ended, which says what the agent records:
 * - `finish`: the attempt's outcome (succeeded, failed — exit, timeout, oom, start_failed, lost —
 *   or cancelled), with the retry choice its failure class allows;
 * - `hand-back`: the agent is going away; the job goes back to the queue, the attempt not counted;
 * - `fenced`: the job is no longer this agent's (its claim lapsed, or it fenced itself off after
 *   failing to renew it): nothing more is written; whoever holds it now records it.
 */
export type RunEnd =
  | { kind: 'finish'; outcome: AttemptOutcome; retry: RetryChoice }
  | { kind: 'hand-back'; attempt: StoredAttempt }
  | { kind: 'fenced'; reason: string };

/** Why the agent stopped a run, if it did. */
type StopReason = { kind: 'cancel' } | { kind: 'hand-back' } | { kind: 'fenced' };

/**
 * Runs one held job: picks the executor, streams output into the log, and says how the run
 * ended; the agent records that (one write, which also claims its next job). `cancel`,
 * `release` and `abandon` stop it, each with its own end.
 */
export class JobRun {
  private readonly controller = new AbortController();
  private stop: StopReason | undefined;

  constructor(
    private readonly ctx: RunContext,
    readonly job: HeldJob,
  ) {}

  get id(): string {
    return this.job.id;
  }

  /** Cancels the run (user request): it ends as `cancelled`. */
  cancel(reason: string): void {
    this.stop ??= { kind: 'cancel' };
    this.controller.abort(reason);
  }

  /** Kills the run and writes nothing more: this agent lost its claim on the job. */
  abandon(reason: string): void {
    this.stop = { kind: 'fenced' };
    this.controller.abort(reason);
  }

  /** Kills the run and hands the job back to the queue (the agent is going away). */
  release(reason: string): void {
    if (this.stop?.kind !== 'fenced') this.stop = { kind: 'hand-back' };
    this.controller.abort(reason);
  }

  async run(): Promise<RunEnd> {
    const { ctx, job } = this;
    const spec = job.spec;
    const choice = chooseExecutor(spec, ctx.executors, ctx.defaultExecutor, ctx.agentId);
    const attempt: StoredAttempt = {
      agentId: ctx.agentId,
      executor: 'name' in choice ? choice.name : (spec.executor ?? ctx.defaultExecutor),
      startedAt: Date.now(),
      ...('reason' in choice ? { executorReason: choice.reason } : {}),
    };
    if ('error' in choice) return this.finish(toAttemptOutcome({ kind: 'start_failed', message: choice.error }, attempt, Date.now()));

    const writer = new LogWriter(ctx.source, job, ctx.logMaxBytes, () => this.abandon('this agent no longer holds the job'), (err) =>
      ctx.logger.warn({ err, job: job.id }, 'could not store log lines'),
    );
    // A private directory (HOME, TMPDIR, and the working directory unless the job names one) for
    // executors that run on this host's filesystem; the executor creates and removes it.
    const privateDir = choice.name === 'subprocess' ? join(ctx.jobDir, `${job.id}-${job.attempt}`) : undefined;
    ctx.logger.debug({ job: job.id, executor: choice.name, attempt: job.attempt }, 'job started');
    const out = await this.execute(choice.executor, {
      jobId: job.id,
      attempt: job.attempt,
      command: spec.command,
      env: buildJobEnv({ inherit: process.env, jobEnv: spec.env, jobId: job.id, attempt: job.attempt, ...(privateDir ? { privateDir } : {}) }),
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
      ...(privateDir ? { privateDir } : {}),
      timeoutMs: spec.timeoutMs || ctx.defaultTimeoutMs,
      ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
      signal: this.controller.signal,
      onLine: (stream, text) => writer.line(stream, text),
    });
    await writer.flush();
    const reason = String(this.controller.signal.reason);
    if (this.stop?.kind === 'fenced') return { kind: 'fenced', reason };
    if (this.stop?.kind === 'hand-back') return { kind: 'hand-back', attempt: { ...attempt, finishedAt: Date.now(), handedBack: true, message: `handed back: ${reason}` } };
    return this.finish(toAttemptOutcome(out, attempt, Date.now()));
  }

  /**
   * Runs the executor; if it fails in a way that is not the job's (it could not keep enforcing
   * a limit, say), the run was stopped by the executor and counts as lost: the system's fault.
   */
  private async execute(executor: Executor, req: RunRequest): Promise<RunOutcome | { kind: 'lost'; message: string }> {
    try {
      return await executor.run(req);
    } catch (err) {
      this.ctx.logger.error({ err, job: this.job.id }, 'executor failed while running the job');
      return { kind: 'lost', message: `the agent could not keep running it: ${(err as Error).message}` };
    }
  }

  /** The end to record, with the retry this outcome's failure class allows. */
  private finish(outcome: AttemptOutcome): RunEnd {
    const spec = this.job.spec;
    const cls = outcome.failureClass;
    const retryable = outcome.state === 'failed' && cls && cls !== 'cancelled';
    return {
      kind: 'finish',
      outcome,
      retry: {
        budget: retryable && spec.retry ? spec.retry.budgets[cls] : 0,
        maxAttempts: spec.maxAttempts,
        delayMs: spec.retry ? backoffFor(spec.retry, this.job.attempt) : 0,
      },
    };
  }
}
