import { HEALTHY, StartCancelledError, StartFailedError, type Executor, type ProbeResult, type OutputStream, type RunHandle, type RunOutcome, type RunRequest } from '@longshore/executors';

/** What a fake run does when it is stopped (`stop(graceMs)` on its handle). */
export type StopBehaviour = 'obey' | 'ignore';

/** Where a fake run is: running, ended with an outcome, or its executor threw. */
export type FakeRunState = { kind: 'running' } | { kind: 'ended'; outcome: RunOutcome } | { kind: 'threw'; error: Error };

/**
 * One run the {@link FakeExecutor} started, ended by the test: `succeed`, `fail(exitCode)`,
 * `oom`, `startFailed`, or `throw` (the executor itself fails). A run nobody ends hangs: nothing
 * is timed here, the holder of the handle owns the deadline. When stopped it ends as `stopped`
 * (as real executors do) unless told to `ignoreStop`.
 */
export class FakeRun {
  private _state: FakeRunState = { kind: 'running' };
  private onStop: StopBehaviour;
  private settle!: { resolve(o: RunOutcome): void; reject(e: Error): void };
  private readonly result: Promise<RunOutcome>;
  /** The grace of every `stop` call on its handle, in order. */
  readonly stops: number[] = [];
  readonly handle: RunHandle;

  constructor(
    readonly req: RunRequest,
    onStop: StopBehaviour,
  ) {
    this.onStop = onStop;
    this.result = new Promise<RunOutcome>((resolve, reject) => (this.settle = { resolve, reject }));
    this.result.catch(() => undefined);
    this.handle = {
      ref: { kind: 'subprocess', pid: 4242, startTime: '1' },
      wait: () => this.result,
      stop: (graceMs) => {
        this.stops.push(graceMs);
        if (this.onStop === 'obey') this.end({ kind: 'stopped' });
        return this.result.then(
          () => undefined,
          () => undefined,
        );
      },
    };
  }

  get jobId(): string {
    return this.req.jobId;
  }
  get attempt(): number {
    return this.req.attempt;
  }
  get state(): FakeRunState {
    return this._state;
  }
  get running(): boolean {
    return this._state.kind === 'running';
  }
  /** Whether its holder asked this run to stop (cancel, timeout, shutdown, lost claim). */
  get stopRequested(): boolean {
    return this.stops.length > 0;
  }

  /** Makes the run keep going when stopped: only the test can end it. */
  ignoreStop(): this {
    this.onStop = 'ignore';
    return this;
  }
  /** Writes an output line, as the job would. */
  line(stream: OutputStream, text: string): this {
    if (this.running) this.req.onLine(stream, text);
    return this;
  }
  succeed(): void {
    this.end({ kind: 'exited', exitCode: 0 });
  }
  fail(exitCode: number): void {
    this.end({ kind: 'exited', exitCode });
  }
  oom(message = 'killed at its memory limit'): void {
    this.end({ kind: 'oom', message });
  }
  /** Ends the started run as `start_failed` (what a wrapper that failed to set up the job reports). */
  startFailed(message = 'could not start'): void {
    this.end({ kind: 'start_failed', message });
  }
  /** The executor fails (`wait()` rejects, as when it can no longer enforce a limit). */
  throw(error: Error = new Error('executor failed')): void {
    if (!this.running) return;
    this._state = { kind: 'threw', error };
    this.settle.reject(error);
  }
  /** Ends the run with `outcome`; later ends are ignored (the first one wins, as with a real process). */
  end(outcome: RunOutcome): void {
    if (!this.running) return;
    this._state = { kind: 'ended', outcome };
    this.settle.resolve(outcome);
  }
}

export interface FakeExecutorOptions {
  /** The name it reports (default `subprocess`). */
  name?: Executor['name'];
  /** Whether its probes answer healthy until {@link FakeExecutor.setHealth} says otherwise (default true). */
  available?: boolean;
  /** What runs do when stopped (default `obey`: end as `stopped`). */
  onStop?: StopBehaviour;
  /** Makes `start()` refuse a request with this `StartFailedError` message (no run is started). */
  refuseStart?(req: RunRequest): string | undefined;
  /** Called as each run starts, e.g. to end it at once or check what runs beside it. */
  onRun?(run: FakeRun, executor: FakeExecutor): void;
}

/**
 * A scriptable {@link Executor}: each `start()` starts a {@link FakeRun} the test then ends.
 * Nothing runs; nothing is timed: a run's memory limit is whatever the test says. It owns no
 * runs that outlive their agent (`attach` finds them gone, `listOwned` finds none).
 */
export class FakeExecutor implements Executor {
  readonly name: Executor['name'];
  readonly reattachable = false;
  /** Every run started, in order. */
  readonly runs: FakeRun[] = [];
  private readonly handedOut = new Set<FakeRun>();
  private readonly waiters: { match: (r: FakeRun) => boolean; resolve: (r: FakeRun) => void }[] = [];

  constructor(private readonly opts: FakeExecutorOptions = {}) {
    this.name = opts.name ?? 'subprocess';
    this.health = opts.available === false ? { healthy: false, reason: 'not available (FakeExecutor)' } : HEALTHY;
  }

  /**
   * What `probe()` answers (see {@link FakeExecutor.setHealth}): a result, or `'hang'`: a probe
   * that does not answer, even when its signal aborts (a wedged engine client).
   */
  private health: ProbeResult | 'hang';
  private readonly hung: ((r: ProbeResult) => void)[] = [];
  /** How many probes were started, and how many still await their answer. */
  probes = 0;
  probesInFlight = 0;

  /** Sets what probes answer from now on; probes left hanging get this answer now (unless it is `'hang'`). */
  setHealth(health: ProbeResult | 'hang'): void {
    this.health = health;
    if (health !== 'hang') for (const resolve of this.hung.splice(0)) resolve(health);
  }

  probe(_signal: AbortSignal): Promise<ProbeResult> {
    this.probes++;
    this.probesInFlight++;
    const answer = this.health === 'hang' ? new Promise<ProbeResult>((resolve) => this.hung.push(resolve)) : Promise.resolve(this.health);
    return answer.finally(() => this.probesInFlight--);
  }

  start(req: RunRequest, signal: AbortSignal): Promise<RunHandle> {
    if (signal.aborted) return Promise.reject(new StartCancelledError(signal.reason));
    const refusal = this.opts.refuseStart?.(req);
    if (refusal !== undefined) return Promise.reject(new StartFailedError(refusal));
    const run = new FakeRun(req, this.opts.onStop ?? 'obey');
    this.runs.push(run);
    this.opts.onRun?.(run, this);
    for (const w of this.waiters.splice(0)) {
      if (w.match(run)) w.resolve(run);
      else this.waiters.push(w);
    }
    return Promise.resolve(run.handle);
  }

  attach(): Promise<{ kind: 'gone' }> {
    return Promise.resolve({ kind: 'gone' });
  }

  listOwned(): Promise<[]> {
    return Promise.resolve([]);
  }

  /** Runs still going. */
  running(): FakeRun[] {
    return this.runs.filter((r) => r.running);
  }

  /** The latest run of `jobId`, if one started. */
  runOf(jobId: string): FakeRun | undefined {
    return this.runs.findLast((r) => r.jobId === jobId);
  }

  /**
   * Resolves with the first run (of `jobId`, or of any job) that no earlier call returned:
   * one already started, else the next to start.
   */
  started(jobId?: string): Promise<FakeRun> {
    const match = (r: FakeRun) => (jobId === undefined || r.jobId === jobId) && !this.handedOut.has(r);
    const hand = (r: FakeRun) => (this.handedOut.add(r), r);
    const existing = this.runs.find(match);
    if (existing) return Promise.resolve(hand(existing));
    return new Promise((resolve) => this.waiters.push({ match, resolve: (r) => resolve(hand(r)) }));
  }
}
