import { silentLogger } from '@longshore/telemetry';
import type { Executor } from '@longshore/executors';
import { FakeExecutor, type FakeExecutorOptions } from '@longshore/testing';
import type { HeldJob } from '@longshore/queue';
import { StartCancelledError } from '@longshore/executors';
import { AGENT_EXECUTORS, DEFAULT_RETRY_BUDGETS } from '@longshore/domain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnvSecretProvider, SecretResolver } from '@longshore/secrets';
import { JobRun, type RunContext } from './job-run.js';
import { FakeJobSource, type FakeJobInit } from './testing/index.js';

const KILL_GRACE_MS = 7000;

/** Claims one job from a fake source and wraps it in a run over a fake executor (not started yet). */
async function prepared(init: FakeJobInit = {}, opts: { executor?: FakeExecutorOptions; ctx?: Partial<RunContext> } = {}) {
  const source = new FakeJobSource();
  source.add(init);
  // Every executor: these tests are about what the run does with a job it holds, whichever it asks for.
  const claimed = (await source.claim({ freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1, executors: AGENT_EXECUTORS })).jobs[0]!;
  if (claimed.kind !== 'job') throw new Error('unreadable');
  const executor = new FakeExecutor(opts.executor);
  const ctx: RunContext = {
    agentId: 'a1',
    source,
    executors: { subprocess: executor },
    defaultExecutor: 'subprocess',
    defaultTimeoutMs: 0,
    killGraceMs: KILL_GRACE_MS,
    startTimeoutMs: 0,
    logMaxBytes: 1 << 20,
    jobDir: '/nonexistent',
    logger: silentLogger(),
    ...opts.ctx,
  };
  return { source, executor, run: new JobRun(ctx, claimed.job as HeldJob) };
}

/** As {@link prepared}, started, with the executor's run. */
async function held(init: FakeJobInit = {}, opts: { executor?: FakeExecutorOptions; ctx?: Partial<RunContext> } = {}) {
  const { source, executor, run } = await prepared(init, opts);
  const ended = run.run();
  const fake = await executor.started();
  return { source, run, fake, ended, executor };
}

const retry = { budgets: { ...DEFAULT_RETRY_BUDGETS, exit: 2 }, backoffMs: 1000, maxBackoffMs: 60_000 };

describe('a job run owns its deadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stops a run still going at its timeout, with the kill grace, and ends it as timeout (with that class budget)', async () => {
    vi.useFakeTimers();
    const { fake, ended } = await held({ timeoutMs: 30_000, retry: { budgets: DEFAULT_RETRY_BUDGETS, backoffMs: 10, maxBackoffMs: 10 } });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(fake.stopRequested).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.stops).toEqual([KILL_GRACE_MS]);
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: 'timeout', message: 'timed out after 30s' }, retry: { budget: DEFAULT_RETRY_BUDGETS.timeout } });
  });

  it('takes the agent’s default timeout when the job has none, and says when the job had to be killed', async () => {
    vi.useFakeTimers();
    const { fake, ended } = await held({}, { ctx: { defaultTimeoutMs: 60_000 }, executor: { onStop: 'ignore' } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.stops).toEqual([KILL_GRACE_MS]);
    expect(fake.running).toBe(true); // the job ignores SIGTERM: the run waits for its executor
    fake.end({ kind: 'stopped', detail: 'still running 7s after SIGTERM; killed with SIGKILL' });
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { failureClass: 'timeout', message: 'timed out after 1m (still running 7s after SIGTERM; killed with SIGKILL)' } });
  });

  it('gives up a start that hangs (a pull, a build) at LONGSHORE_START_TIMEOUT: start_failed, with that class budget', async () => {
    vi.useFakeTimers();
    const { executor, run } = await prepared({ retry: { budgets: DEFAULT_RETRY_BUDGETS, backoffMs: 10, maxBackoffMs: 10 } }, { ctx: { startTimeoutMs: 600_000 } });
    let abandoned = false;
    executor.start = (_req, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () => {
          abandoned = true;
          reject(new StartCancelledError(signal.reason));
        }),
      );
    const ended = run.run();
    await vi.advanceTimersByTimeAsync(599_999);
    expect(abandoned).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(abandoned).toBe(true);
    expect(await ended).toMatchObject({
      kind: 'finish',
      outcome: { state: 'failed', failureClass: 'start_failed', message: expect.stringContaining('did not start within 10m (LONGSHORE_START_TIMEOUT') as string },
      retry: { budget: DEFAULT_RETRY_BUDGETS.start_failed },
    });
  });

  it('lets a started run go on past the start limit: that limit is the start\'s only', async () => {
    vi.useFakeTimers();
    const { fake, ended } = await held({}, { ctx: { startTimeoutMs: 1_000 } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.stopRequested).toBe(false);
    fake.end({ kind: 'exited', exitCode: 0 });
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'succeeded' } });
  });

  it('never stops a job that ends in time, nor one without a timeout', async () => {
    vi.useFakeTimers();
    const timed = await held({ timeoutMs: 1000 });
    timed.fake.succeed();
    expect(await timed.ended).toMatchObject({ outcome: { state: 'succeeded' } });
    await vi.advanceTimersByTimeAsync(5000);
    expect(timed.fake.stopRequested).toBe(false);
    expect(vi.getTimerCount()).toBe(0); // its deadline was cleared
    const untimed = await held();
    await vi.advanceTimersByTimeAsync(30 * 24 * 3600_000);
    expect(untimed.fake.stopRequested).toBe(false);
    untimed.fake.succeed();
    await untimed.ended;
  });

  it('reports a timeout, not the cancel that came during its grace', async () => {
    vi.useFakeTimers();
    const { fake, run, ended } = await held({ timeoutMs: 1000 }, { executor: { onStop: 'ignore' } });
    await vi.advanceTimersByTimeAsync(1000);
    run.cancel('cancelled by request');
    fake.end({ kind: 'stopped' });
    expect(await ended).toMatchObject({ outcome: { failureClass: 'timeout', message: 'timed out after 1s' } });
    expect(fake.stops).toEqual([KILL_GRACE_MS]); // one stop: the signal aborts once
  });
});

describe('a job run ends as', () => {
  it('finish/succeeded when the job exits 0', async () => {
    const { fake, ended } = await held();
    fake.succeed();
    const end = await ended;
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'succeeded', exitCode: 0 }, retry: { budget: 0 } });
  });

  it('finish/failed with its exit code and the retry its class allows', async () => {
    const { fake, ended } = await held({ retry, maxAttempts: 3 });
    fake.fail(3);
    const end = await ended;
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'failed', exitCode: 3, failureClass: 'exit', attempt: { exitCode: 3, agentId: 'a1' } }, retry: { budget: 2, maxAttempts: 3 } });
    // First retry: equal jitter of the first backoff, between half and all of it.
    if (end.kind !== 'finish') throw new Error(end.kind);
    expect(end.retry.delayMs).toBeGreaterThanOrEqual(500);
    expect(end.retry.delayMs).toBeLessThanOrEqual(1000);
  });

  it.each([
    ['oom', (f: Awaited<ReturnType<typeof held>>['fake']) => f.oom(), DEFAULT_RETRY_BUDGETS.oom],
    ['start_failed', (f: Awaited<ReturnType<typeof held>>['fake']) => f.startFailed('image missing'), DEFAULT_RETRY_BUDGETS.start_failed],
    ['lost', (f: Awaited<ReturnType<typeof held>>['fake']) => f.throw(new Error('cgroup vanished')), DEFAULT_RETRY_BUDGETS.lost],
  ] as const)('finish/failed as %s, with that class budget', async (cls, end, budget) => {
    const { fake, ended } = await held({ retry: { budgets: DEFAULT_RETRY_BUDGETS, backoffMs: 10, maxBackoffMs: 10 } });
    end(fake);
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: cls }, retry: { budget } });
  });

  it('finish/cancelled, never retried, when cancelled: the run is stopped with the kill grace', async () => {
    const { fake, run, ended } = await held({ retry: { budgets: { ...DEFAULT_RETRY_BUDGETS, exit: 5 }, backoffMs: 10, maxBackoffMs: 10 } });
    run.cancel('cancelled by request');
    expect(fake.stops).toEqual([KILL_GRACE_MS]);
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'cancelled', failureClass: 'cancelled', message: 'cancelled: cancelled by request' }, retry: { budget: 0 } });
  });

  it('finish/cancelled, saying how, when the stopped job had to be killed', async () => {
    const { fake, run, ended } = await held({}, { executor: { onStop: 'ignore' } });
    run.cancel('cancelled by request');
    fake.end({ kind: 'stopped', detail: 'still running 7s after SIGTERM; killed with SIGKILL' });
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'cancelled', message: 'cancelled: cancelled by request (still running 7s after SIGTERM; killed with SIGKILL)' } });
  });

  it('finish/cancelled before start, nothing started, when cancelled before its executor started it', async () => {
    const { executor, run } = await prepared();
    run.cancel('cancelled by request');
    expect(await run.run()).toMatchObject({ kind: 'finish', outcome: { state: 'cancelled', failureClass: 'cancelled', message: 'cancelled before start: cancelled by request' } });
    expect(executor.runs).toEqual([]);
  });

  it('finish/failed start_failed, with the executor’s reason, when the executor refuses to start it', async () => {
    const { executor, run } = await prepared({}, { executor: { refuseStart: () => 'command "nosuch" not found on PATH (/usr/bin:/bin)' } });
    expect(await run.run()).toMatchObject({
      kind: 'finish',
      outcome: { state: 'failed', failureClass: 'start_failed', message: 'command "nosuch" not found on PATH (/usr/bin:/bin)' },
      retry: { budget: 0 },
    });
    expect(executor.runs).toEqual([]);
  });

  it('finish/failed lost when the executor fails to start it for a reason of its own', async () => {
    const { executor, run } = await prepared();
    executor.start = () => Promise.reject(new Error('cgroup hierarchy vanished'));
    expect(await run.run()).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: 'lost', message: expect.stringContaining('cgroup hierarchy vanished') } });
  });

  it('hand-back, the attempt marked as not counting, when released', async () => {
    const { run, ended } = await held();
    run.release('the agent is shutting down');
    expect(await ended).toMatchObject({ kind: 'hand-back', attempt: { handedBack: true, message: 'handed back: the agent is shutting down' } });
  });

  it('fenced when abandoned, even if released afterwards', async () => {
    const { run, ended } = await held();
    run.abandon('its claim expired');
    run.release('the agent is shutting down');
    expect(await ended).toEqual({ kind: 'fenced', reason: 'its claim expired' });
  });

  it('fenced when its log write is refused (the job is no longer its agent’s)', async () => {
    const { source, fake, run, ended } = await held();
    source.steal(run.id);
    fake.line('stdout', 'hello');
    // The line is flushed after 50 ms; the refused write stops the run.
    expect(await ended).toMatchObject({ kind: 'fenced' });
    expect(fake.stopRequested).toBe(true);
  });

  it('finish/failed start_failed, naming it and how to enable it, when it asks for noop on an agent without it', async () => {
    const { executor, run } = await prepared({ executor: 'noop' });
    expect(await run.run()).toMatchObject({
      kind: 'finish',
      outcome: {
        state: 'failed',
        failureClass: 'start_failed',
        message: 'executor "noop" is not available on agent a1 (it has: subprocess; an agent has the executors its LONGSHORE_EXECUTORS lists)',
      },
    });
    expect(executor.runs).toEqual([]);
  });

  it('gives a docker run its image and only the job’s own environment (the image brings its PATH)', async () => {
    const docker = new FakeExecutor({ name: 'docker' });
    const { executor, run } = await prepared({ executor: 'docker', image: 'busybox:1', env: { A: '1' } }, { ctx: { executors: { docker } } });
    const ended = run.run();
    const fake = await docker.started();
    expect(fake.req).toMatchObject({ docker: { image: 'busybox:1' }, env: { A: '1', LONGSHORE_ATTEMPT: '1' } });
    expect(Object.keys(fake.req.env).sort()).toEqual(['A', 'LONGSHORE_ATTEMPT', 'LONGSHORE_JOB_ID']);
    expect(fake.req.privateDir).toBeUndefined();
    fake.succeed();
    expect(await ended).toMatchObject({ outcome: { state: 'succeeded' } });
    expect(executor.runs).toEqual([]);
  });

  it('finish/failed start_failed, without running anything, when its executor is not here', async () => {
    const { executor, run } = await prepared({ executor: 'docker' });
    const end = await run.run();
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'failed', failureClass: 'start_failed', message: expect.stringContaining('"docker" is not available') } });
    expect(executor.runs).toEqual([]);
  });
});

describe('a job run and its secrets', () => {
  const secrets = new SecretResolver([new EnvSecretProvider('LONGSHORE_SECRET_', { LONGSHORE_SECRET_DB_PASSWORD: 'pw-0123456789' })]);

  it('gives the run the resolved value, records name, provider and version, and masks the value in the log', async () => {
    const { source, run, fake, ended } = await held({ env: { PW: '${DB_PASSWORD}', LIT: '$${DB_PASSWORD}' } }, { ctx: { secrets } });
    expect(fake.req.env).toMatchObject({ PW: 'pw-0123456789', LIT: '${DB_PASSWORD}' });
    fake.line('stdout', 'connecting with pw-0123456789');
    fake.succeed();
    const end = await ended;
    expect(end).toMatchObject({ kind: 'finish', outcome: { state: 'succeeded', attempt: { secrets: [{ name: 'DB_PASSWORD', provider: 'env', version: 'env' }] } } });
    expect(source.logs(run.id).map((l) => l.text)).toEqual(['connecting with ***']);
    // The job's spec (what is stored) keeps the reference only.
    expect(run.job.spec.env).toEqual({ PW: '${DB_PASSWORD}', LIT: '$${DB_PASSWORD}' });
  });

  it('ends start_failed naming the secret and the providers tried when it is missing, starting nothing', async () => {
    const { executor, run } = await prepared({ env: { PW: '${NOPE}' } }, { ctx: { secrets } });
    expect(await run.run()).toMatchObject({
      kind: 'finish',
      outcome: { state: 'failed', failureClass: 'start_failed', message: 'secret NOPE was not found in any provider of this agent: tried env (LONGSHORE_SECRET_NOPE)' },
    });
    expect(executor.runs).toEqual([]);
  });

  it('ends start_failed when the agent has no providers at all', async () => {
    const { run } = await prepared({ env: { PW: '${DB_PASSWORD}' } });
    expect(await run.run()).toMatchObject({ outcome: { failureClass: 'start_failed', message: expect.stringContaining('no secret providers') } });
  });
});

describe('a job run on the ecs executor', () => {
  it('hands the executor the job\'s image and ECS options and a container environment, and records the run detail on the attempt', async () => {
    const fake = new FakeExecutor({ name: 'ecs' });
    // The ECS executor's handle says which Fargate size the task got.
    const ecs: Executor = {
      name: 'ecs',
      reattachable: false,
      probe: (signal) => fake.probe(signal),
      start: async (req, signal) => ({ ...(await fake.start(req, signal)), detail: 'Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)' }),
      attach: () => fake.attach(),
      listOwned: () => fake.listOwned(),
    };
    const { run } = await prepared({ executor: 'ecs', image: 'alpine:3.20', ecs: { container: 'main' }, env: { A: '1' } }, { ctx: { executors: { ecs }, defaultExecutor: 'ecs' } });
    const ended = run.run();
    const started = await fake.started();
    expect(started.req.ecs).toEqual({ container: 'main', image: 'alpine:3.20' });
    // Nothing of the agent's environment reaches a task, not even PATH.
    expect(started.req.env['PATH']).toBeUndefined();
    expect(started.req.env['A']).toBe('1');
    started.succeed();
    expect(await ended).toMatchObject({ kind: 'finish', outcome: { state: 'succeeded', attempt: { executor: 'ecs', runDetail: 'Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)' } } });
  });
});
