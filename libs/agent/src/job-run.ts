import { join } from 'node:path';
import { backoffFor, formatDuration, type AgentExecutorName, type EcsSecret, type ExecutorName } from '@longshore/domain';
import { buildContainerEnv, buildJobEnv, StartFailedError, type Executor, type OutputPosition, type RunHandle, type RunRef, type RunRequest } from '@longshore/executors';
import type { AttemptOutcome, HeldJob, JobSource, RetryChoice } from '@longshore/queue';
import { Redactor, SecretResolver, type ResolvedEnv } from '@longshore/secrets';
import type { StoredAttempt } from '@longshore/store';
import { context, trace, type Context } from '@opentelemetry/api';
import { traceparentOf, type Logger } from '@longshore/telemetry';
import { privateDirsRoot } from './enabled-executors.js';
import { chooseExecutor, type ExecutorSet } from './executors.js';
import { LogWriter } from './log-writer.js';
import { toAttemptOutcome, type JobOutcome } from './outcome.js';
import { endAttemptSpan, inSpan, startAttemptSpans } from './tracing.js';

/** What a run needs from its agent. */
export interface RunContext {
  agentId: string;
  source: JobSource;
  executors: ExecutorSet;
  /** Why each executor that is unhealthy now is (see ExecutorHealth): an `auto` job skips those. */
  unhealthy?: () => Partial<Record<ExecutorName, string>>;
  defaultExecutor: ExecutorName;
  defaultTimeoutMs: number;
  /** How long a stopped run gets between the polite stop (SIGTERM) and the forced one. */
  killGraceMs: number;
  /** How long a start may take (pull, build, create) before it fails as `start_failed`; 0 = no limit. */
  startTimeoutMs: number;
  logMaxBytes: number;
  jobDir: string;
  /** Resolves `${NAME}` in the job's env; absent = no providers (a job referencing a secret fails to start). */
  secrets?: SecretResolver;
  logger: Logger;
  /** Told when an attempt starts here (not for an adopted run), with the executor chosen. */
  onStart?(executor: string, startedAt: number): void;
  /**
   * Takes back the claim on this very attempt after it lapsed while this agent still ran it (it
   * was paused or cut off past its lease): a new fence, no attempt charged, as an adoption. The
   * job as held under the new claim, or undefined when the attempt is not this agent's any more
   * (the queue put it back, or ended it). Absent: a lapsed claim stops the run.
   */
  reclaim?(job: HeldJob): Promise<HeldJob | undefined>;
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

/**
 * A run this agent id started in an earlier life (it was killed or restarted) that is still
 * alive and that it took over again: the job run follows it instead of starting one.
 */
export interface AdoptedRun {
  executor: AgentExecutorName;
  ref: RunRef;
  /** When the attempt started (the deadline counts from there). */
  startedAt: number;
  /** How many lines of its output are stored: following it again starts after them. */
  logged: OutputPosition;
}

/** Why the run was stopped, if it was. */
type StopReason = { kind: 'timeout' } | { kind: 'start-timeout' } | { kind: 'cancel' } | { kind: 'hand-back'; reason: string } | { kind: 'fenced'; reason: string };

/** An agent without a resolver has no providers: a job referencing a secret fails to start, naming it. */
const NO_SECRETS = new SecretResolver([]);

// Node fires a timer at once when its delay exceeds 2^31-1 ms (~24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs one held job: picks the executor, starts the run, streams output into the log, and says
 * how the run ended; the agent records that (one write, which also claims its next job). The
 * run, not the executor, owns the job's deadline and its cancel: one signal, aborted by the
 * deadline, `cancel`, `release` or `abandon` (each with its own end), which abandons a start in
 * progress or stops the started run with the agent's kill grace.
 */
export class JobRun {
  private readonly controller = new AbortController();
  private stop: StopReason | undefined;
  /** The run's reference once it started (or was adopted). */
  private runRef: RunRef | undefined;
  /** What the executor chose for the run (an ECS task's Fargate size), recorded on the attempt. */
  private runDetail: string | undefined;
  /** The `attempt` span's context once the run started: the agent's `finish` span goes under it. */
  attemptContext: Context | undefined;
  /** The agent's logger with the job's id and attempt on every line (and, in the run, its trace and span ids). */
  private readonly log: Logger;
  /** The job as held now: its token changes when a lapsed claim is taken back. */
  private held: HeldJob;
  /** A claim being taken back (see {@link claimLost}): true once this agent holds the job again. */
  private reclaiming: Promise<boolean> | undefined;

  constructor(
    private readonly ctx: RunContext,
    job: HeldJob,
    private readonly adopted?: AdoptedRun,
  ) {
    this.held = job;
    this.log = ctx.logger.child({ job: job.id, attempt: job.attempt });
  }

  get id(): string {
    return this.held.id;
  }

  /** The job under the claim this run holds now. */
  get job(): HeldJob {
    return this.held;
  }

  /** Cancels the run (user request): it ends as `cancelled`. */
  cancel(reason: string): void {
    this.stop ??= { kind: 'cancel' };
    this.controller.abort(reason);
  }

  /**
   * This agent's claim on the job lapsed, could not be renewed, or a write under it was fenced
   * (`token`: the claim that write used), while the run goes on here: it takes the claim back
   * on the same attempt if the job is still its own (the queue did not put it back or end it:
   * then no other agent can have started it), and the run goes on; otherwise the run is
   * abandoned. A live agent is never taken for one that went away, so its job is not left
   * orphaned for a restart that never comes. Resolves true when this agent holds the job.
   */
  claimLost(reason: string, token?: string): Promise<boolean> {
    if (this.stop?.kind === 'fenced') return Promise.resolve(false);
    // A write under a claim it has taken back since: it holds the job.
    if (token !== undefined && token !== this.held.token) return Promise.resolve(true);
    if (this.reclaiming) return this.reclaiming;
    const reclaim = this.ctx.reclaim;
    if (!reclaim) {
      this.abandon(reason);
      return Promise.resolve(false);
    }
    const held = this.held;
    this.reclaiming = reclaim(held)
      .catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'could not take back the lapsed claim on the job');
        return undefined;
      })
      .then((job) => {
        this.reclaiming = undefined;
        if (!job || this.stop?.kind === 'fenced') {
          this.abandon(reason);
          return false;
        }
        this.held = job;
        this.log.warn({ reason }, "this agent's claim on the job lapsed while it ran it; it took the claim back and the run goes on");
        return true;
      });
    return this.reclaiming;
  }

  /** Kills the run and writes nothing more: this agent lost its claim on the job. */
  abandon(reason: string): void {
    if (this.stop?.kind !== 'fenced') this.stop = { kind: 'fenced', reason };
    this.controller.abort(reason);
  }

  /** Kills the run and hands the job back to the queue (the agent is going away). */
  release(reason: string): void {
    if (this.stop?.kind !== 'fenced') this.stop = { kind: 'hand-back', reason };
    this.controller.abort(reason);
  }

  /** Runs the attempt inside its spans (`claim`, then `attempt`) in the job's trace. */
  async run(): Promise<RunEnd> {
    const spans = startAttemptSpans(this.job, this.ctx.agentId, this.adopted !== undefined);
    this.attemptContext = spans.ctx;
    try {
      const end = await context.with(spans.ctx, () => (this.adopted ? this.follow(this.adopted) : this.start()));
      endAttemptSpan(spans.span, end);
      return end;
    } catch (err) {
      endAttemptSpan(spans.span, undefined, err);
      throw err;
    }
  }

  private async start(): Promise<RunEnd> {
    const { ctx, job } = this;
    const spec = job.spec;
    const choice = chooseExecutor(spec, ctx.executors, ctx.defaultExecutor, ctx.agentId, ctx.unhealthy?.());
    const attempt: StoredAttempt = {
      agentId: ctx.agentId,
      executor: 'name' in choice ? choice.name : (spec.executor ?? ctx.defaultExecutor),
      startedAt: Date.now(),
      ...('reason' in choice ? { executorReason: choice.reason } : {}),
    };
    ctx.onStart?.(attempt.executor, attempt.startedAt);
    trace.getActiveSpan()?.setAttribute('longshore.executor', attempt.executor);
    if ('error' in choice) return this.finish(toAttemptOutcome({ kind: 'start_failed', message: choice.error }, attempt, Date.now()));

    // Secrets are resolved here, on the agent: the job's record keeps only the references, the
    // attempt the names and versions used; the values go to the run and to the log's redactor.
    // An ECS job's secrets go in its task definition's `secrets` (ECS fetches them), never in its overrides.
    let resolved: ResolvedEnv & { secrets?: EcsSecret[] };
    try {
      resolved = choice.name === 'ecs' ? await this.secrets().resolveForEcs(spec.env, this.controller.signal) : await this.secrets().resolveEnv(spec.env, this.controller.signal);
    } catch (err) {
      return this.finish(toAttemptOutcome({ kind: 'start_failed', message: (err as Error).message }, attempt, Date.now()));
    }
    if (resolved.uses.length > 0) attempt.secrets = resolved.uses;
    const writer = this.logWriter(resolved.values);
    // A private directory (HOME, TMPDIR, and the working directory unless the job names one) for
    // executors that run on this host's filesystem; the executor creates and removes it.
    // It is under a directory of this agent id's own, which the agent empties when it starts again.
    const privateDir = choice.name === 'subprocess' ? join(privateDirsRoot(ctx), `${job.id}-${job.attempt}`) : undefined;
    this.log.debug({ executor: choice.name }, 'job started');
    // The attempt span's context, so the job's own instrumented code joins its trace.
    const traceparent = traceparentOf();
    const request: RunRequest = {
      jobId: job.id,
      attempt: job.attempt,
      command: spec.command,
      // A container's environment is its image's plus the job's: nothing of the agent's, not even PATH.
      env:
        choice.name === 'docker' || choice.name === 'ecs'
          ? buildContainerEnv(resolved.env, job.id, job.attempt, traceparent)
          : buildJobEnv({ inherit: process.env, jobEnv: resolved.env, jobId: job.id, attempt: job.attempt, ...(privateDir ? { privateDir } : {}), ...(traceparent ? { traceparent } : {}) }),
      ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
      // The docker executor refuses (start_failed) a job without an image: one that did not name
      // the executor can reach it as the agent's default or through an auto chain.
      ...(choice.name === 'docker' && spec.image ? { docker: { ...spec.docker, image: spec.image } } : {}),
      ...(choice.name === 'ecs' ? { ecs: { ...spec.ecs, ...(spec.image ? { image: spec.image } : {}), ...(resolved.secrets?.length ? { secrets: resolved.secrets } : {}) } } : {}),
      ...(privateDir ? { privateDir } : {}),
      ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
      ...(spec.cpusMilli ? { cpusMilli: spec.cpusMilli } : {}),
      onLine: (stream, text) => writer.line(stream, text),
    };
    const out = await this.execute(choice.name, choice.executor, request, spec.timeoutMs || ctx.defaultTimeoutMs);
    return this.end(writer, attempt, out);
  }

  /**
   * Follows a run adopted from this agent id's earlier life: re-attached, its output written
   * from now on, its deadline counted from the attempt's start. A run that is gone meanwhile
   * ends the attempt as lost (how it ended is not known).
   */
  private async follow(a: AdoptedRun): Promise<RunEnd> {
    const { ctx, job } = this;
    const attempt: StoredAttempt = { agentId: ctx.agentId, executor: a.executor, startedAt: a.startedAt };
    this.runRef = a.ref;
    // The run has its values already; they are resolved again only to mask them in its log.
    const values = await this.secrets()
      .resolveEnv(job.spec.env, this.controller.signal)
      .then(
        (r) => r.values,
        (err: unknown) => {
          this.log.warn({ err: (err as Error).message }, 'could not resolve the secrets of an adopted run: its log is not redacted');
          return [];
        },
      );
    const writer = this.logWriter(values);
    const executor = ctx.executors[a.executor];
    let out: JobOutcome;
    if (!executor) {
      out = { kind: 'lost', message: `its agent came back without the ${a.executor} executor (LONGSHORE_EXECUTORS) and could not follow its run` };
    } else {
      const found = await executor.attach(a.ref, (stream, text) => writer.line(stream, text), a.logged).catch((err: unknown) => ({ kind: 'error' as const, err }));
      if (found.kind === 'attached') {
        const timeoutMs = job.spec.timeoutMs || ctx.defaultTimeoutMs;
        out = await inSpan('run', { 'longshore.executor': a.executor, 'longshore.adopted': true }, () =>
          this.followHandle(found.handle, timeoutMs, timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - a.startedAt)) : 0),
        );
      } else if (found.kind === 'error') {
        out = this.lost(found.err);
      } else {
        if (found.kind === 'not-reattachable') await found.stop(0).catch(() => undefined);
        out = { kind: 'lost', message: 'its run ended while its agent was away; how it ended is not known' };
      }
    }
    return this.end(writer, attempt, out);
  }

  private secrets(): SecretResolver {
    return this.ctx.secrets ?? NO_SECRETS;
  }

  private logWriter(secretValues: readonly string[]): LogWriter {
    const { ctx } = this;
    return new LogWriter(
      ctx.source,
      () => this.held,
      ctx.logMaxBytes,
      (token) => this.claimLost('this agent no longer holds the job', token),
      (err) => this.log.warn({ err }, 'could not store log lines'),
      new Redactor(secretValues),
    );
  }

  /** What the agent records once the run is over. */
  private async end(writer: LogWriter, started: StoredAttempt, out: JobOutcome): Promise<RunEnd> {
    await writer.end();
    // A claim being taken back: the end is recorded under the claim it gets.
    if (this.reclaiming) await this.reclaiming;
    // The attempt names its run (a noop run has nothing to name).
    const named = this.runRef && this.runRef.kind !== 'noop' ? { ...started, run: this.runRef } : started;
    const attempt = this.runDetail ? { ...named, runDetail: this.runDetail } : named;
    if (this.stop?.kind === 'fenced') return { kind: 'fenced', reason: this.stop.reason };
    if (this.stop?.kind === 'hand-back') return { kind: 'hand-back', attempt: { ...attempt, finishedAt: Date.now(), handedBack: true, message: `handed back: ${this.stop.reason}` } };
    return this.finish(toAttemptOutcome(out, attempt, Date.now()));
  }

  /**
   * Starts the run and follows it to its end, stopping it when the deadline passes or the signal
   * is aborted. If the executor fails in a way that is not the job's (it could not keep
   * enforcing a limit, say), the run was stopped by the executor and counts as lost: the
   * system's fault.
   */
  private async execute(name: ExecutorName, executor: Executor, req: RunRequest, timeoutMs: number): Promise<JobOutcome> {
    const signal = this.controller.signal;
    let handle: RunHandle;
    // The job's own deadline runs from its start; the start has a limit of its own, so a pull or
    // build that hangs cannot hold the agent's capacity for ever.
    const { startTimeoutMs } = this.ctx;
    const startLimit = startTimeoutMs > 0 ? setTimeout(() => this.startTimedOut(), Math.min(startTimeoutMs, MAX_TIMER_MS)) : undefined;
    try {
      // Pull, build and create happen here for a container (their own spans as they come).
      handle = await inSpan('executor.start', { 'longshore.executor': name }, () => executor.start(req, signal));
    } catch (err) {
      if (err instanceof StartFailedError) return { kind: 'start_failed', message: err.message };
      if (signal.aborted) return this.stoppedOutcome(timeoutMs, ' before start', '');
      return this.lost(err);
    } finally {
      clearTimeout(startLimit);
    }
    this.runRef = handle.ref;
    this.runDetail = handle.detail;
    // A run that outlives its agent is recorded (fenced), so this agent id can adopt it after a restart.
    if (executor.reattachable) {
      const record = () =>
        this.ctx.source.recordRun(this.job, handle.ref).catch((err: unknown) => {
          this.log.warn({ err }, 'could not record the run: it cannot be adopted if this agent restarts');
          return true;
        });
      const token = this.job.token;
      let recorded = await record();
      if (!recorded && (await this.claimLost('this agent no longer holds the job', token))) recorded = await record();
      if (!recorded) this.abandon('this agent no longer holds the job');
    }
    // The deadline runs from the start of the job itself: a slow start (a uid to wait for, an
    // image to pull) is not the job's time.
    const started = handle;
    const attrs = started.ref.kind === 'docker' ? { 'longshore.executor': name, 'container.id': started.ref.containerId } : { 'longshore.executor': name };
    return inSpan('run', attrs, () => this.followHandle(started, timeoutMs, timeoutMs), (span, out) => {
      if (out.kind === 'exited') span.setAttribute('process.exit.code', out.exitCode);
    });
  }

  /** Follows a started run to its end; the deadline (`leftMs` from now, 0 = none) stops it. */
  private async followHandle(handle: RunHandle, timeoutMs: number, leftMs: number): Promise<JobOutcome> {
    const signal = this.controller.signal;
    const deadline = leftMs > 0 ? setTimeout(() => this.timeOut(timeoutMs), Math.min(leftMs, MAX_TIMER_MS)) : undefined;
    const stop = () => {
      handle.stop(this.ctx.killGraceMs).catch((err: unknown) => this.log.error({ err }, 'could not stop the job'));
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    try {
      const out = await handle.wait();
      // A run that ended on its own before the stop took effect reports how it ended.
      return out.kind === 'stopped' ? this.stoppedOutcome(timeoutMs, '', out.detail === undefined ? '' : ` (${out.detail})`) : out;
    } catch (err) {
      return this.lost(err);
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', stop);
    }
  }

  /** The deadline passed: the run is stopped and ends as `timeout` (unless already stopping). */
  private timeOut(timeoutMs: number): void {
    this.stop ??= { kind: 'timeout' };
    this.controller.abort(`timed out after ${formatDuration(timeoutMs)}`);
  }

  /** The start took longer than LONGSHORE_START_TIMEOUT: it is abandoned and the attempt is `start_failed`. */
  private startTimedOut(): void {
    this.stop ??= { kind: 'start-timeout' };
    this.controller.abort(`did not start within ${formatDuration(this.ctx.startTimeoutMs)}`);
  }

  /** What a run this job run stopped ends as: `timeout`, `start_failed` or `cancelled` (for a hand-back or fence, which record no outcome, too). */
  private stoppedOutcome(timeoutMs: number, when: string, how: string): JobOutcome {
    if (this.stop?.kind === 'timeout') return { kind: 'timeout', message: `timed out after ${formatDuration(timeoutMs)}${how}` };
    if (this.stop?.kind === 'start-timeout') {
      return { kind: 'start_failed', message: `did not start within ${formatDuration(this.ctx.startTimeoutMs)} (LONGSHORE_START_TIMEOUT: a pull, build or placement that slow is taken for stuck)${how}` };
    }
    return { kind: 'cancelled', message: `cancelled${when}${abortReasonSuffix(this.controller.signal)}${how}` };
  }

  private lost(err: unknown): JobOutcome {
    this.log.error({ err }, 'executor failed while running the job');
    return { kind: 'lost', message: `the agent could not keep running it: ${(err as Error).message}` };
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

/** The reason the run's signal was aborted with, if it gave one (the default AbortError says nothing). */
function abortReasonSuffix(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string' && reason !== '') return `: ${reason}`;
  if (reason instanceof Error && reason.name !== 'AbortError') return `: ${reason.message}`;
  return '';
}
