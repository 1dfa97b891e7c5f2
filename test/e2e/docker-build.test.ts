import { randomBytes } from 'node:crypto';
import { recordSpans, waitFor } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { createDockerExecutor, StartCancelledError, StartFailedError, type Executor, type LineSink, type OutputStream, type RunHandle, type RunOutcome, type RunRequest } from '@longshore/executors';
import { afterAll, expect, it } from 'vitest';

// Build steps on a real engine: the docker executor builds a job's image from its base and steps
// once, reuses it by content key, and keeps built images under a size cap. Driven through the
// executor directly, as test/e2e/docker-executor.test.ts does.

const run = randomBytes(4).toString('hex');
const agentId = `agent-docker-build-${run}`;
let jobs = 0;
const nextJobId = () => `job-${run}-${++jobs}`;

interface Ran {
  outcome: RunOutcome;
  lines: { stream: OutputStream; text: string }[];
}

const texts = (ran: Ran, stream: OutputStream) => ran.lines.filter((l) => l.stream === stream).map((l) => l.text);
/** The image id a build line of the log names: "build: built <tag> (<id>)" or "using cached build <tag> (<id>)". */
const builtId = (ran: Ran, verb: 'built' | 'using cached build') =>
  texts(ran, 'stderr')
    .map((t) => new RegExp(`^build: ${verb} (\\S+) \\((sha256:[0-9a-f]+)\\)$`).exec(t))
    .find((m) => m !== null)
    ?.slice(1, 3);

async function runToEnd(executor: Executor, request: Omit<RunRequest, 'onLine'>, signal = new AbortController().signal): Promise<Ran> {
  const lines: Ran['lines'] = [];
  try {
    const handle = await executor.start({ ...request, onLine: (stream, text) => lines.push({ stream, text }) }, signal);
    return { outcome: await handle.wait(), lines };
  } catch (err) {
    if (err instanceof StartFailedError) return { outcome: { kind: 'start_failed', message: err.message }, lines };
    throw err;
  }
}

describeDocker('docker build steps', ({ docker, image }) => {
  const executor = createDockerExecutor({ docker, agentId, pool: 'default' });
  const builtImages = async () => (await docker.listImages({ filters: { label: ['longshore.build'] } })).map((i) => i.Id);

  const runJob = (command: string[], buildSteps: string[], opts: { buildArgs?: Record<string, string>; executor?: Executor } = {}) =>
    runToEnd(opts.executor ?? executor, {
      jobId: nextJobId(),
      attempt: 1,
      command,
      env: {},
      docker: { image, buildSteps, ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}) },
    });

  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`longshore.agent=${agentId}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  });

  it('builds the image once, runs the job in it, and reuses it for the next job with the same steps', async () => {
    const steps = ['echo built > /built.txt', `echo ${run} > /run.txt`];
    const first = await runJob(['cat', '/built.txt', '/run.txt'], steps);
    expect(first.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(first, 'stdout')).toEqual(['built', run]);
    const built = builtId(first, 'built');
    expect(built).toBeDefined();
    expect(texts(first, 'stderr')).toContainEqual(expect.stringMatching(/^build: building longshore-build\/[0-9a-f]{16}:latest from longshore-test\/busybox:1 \(sha256:[0-9a-f]+\): 2 steps$/));

    const second = await runJob(['cat', '/built.txt'], steps);
    expect(second.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(second, 'stdout')).toEqual(['built']);
    expect(builtId(second, 'using cached build')).toEqual(built);
    expect(texts(second, 'stderr').filter((t) => t.startsWith('build: building'))).toEqual([]);
    const [tag, id] = built!;
    const info = await docker.getImage(tag!).inspect();
    expect(info.Id).toBe(id);
    expect(info.Config.Labels).toMatchObject({ 'longshore.base': image });
  });

  it('runs each step exactly as written, with the build args set only while it builds', async () => {
    const steps = [`printf '%s|\\n' "$GREETING" 'a\\b' "two  spaces" > /out.txt \\\n  && echo "next line" >> /out.txt # ${run}`];
    const ran = await runJob(['sh', '-c', 'cat /out.txt; echo "[$GREETING]"'], steps, { buildArgs: { GREETING: 'hello world' } });
    expect(ran.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(ran, 'stdout')).toEqual(['hello world|', 'a\\b|', 'two  spaces|', 'next line', '[]']);

    // The same steps with other args, or the same args in another order, are other builds or the same one.
    const other = await runJob(['cat', '/out.txt'], steps, { buildArgs: { GREETING: 'bye' } });
    expect(texts(other, 'stdout')[0]).toBe('bye|');
    expect(builtId(other, 'built')).toBeDefined();
  });

  it('ends the start as start_failed naming the failed step and its exit code, with its output in the log', async () => {
    const ran = await runJob(['true'], [`echo fine # ${run}`, 'echo about to fail >&2; exit 3', 'echo never']);
    expect(ran.outcome).toEqual({
      kind: 'start_failed',
      message: expect.stringContaining('build step 2 of 3 ("echo about to fail >&2; exit 3") on image "longshore-test/busybox:1" failed with exit code 3') as string,
    });
    expect(texts(ran, 'stderr')).toContain('build: about to fail');
    expect(texts(ran, 'stderr')).not.toContain('build: never');
  });

  it('builds once for two jobs that need the same build at the same time', async () => {
    const steps = [`sleep 2; echo shared > /shared.txt # ${run}`];
    const [a, b] = await Promise.all([runJob(['cat', '/shared.txt'], steps), runJob(['cat', '/shared.txt'], steps)]);
    expect(texts(a!, 'stdout')).toEqual(['shared']);
    expect(texts(b!, 'stdout')).toEqual(['shared']);
    // Each step of a build runs in a container of its own: two builds would show twice as many.
    const runningIn = (ran: Ran) => texts(ran, 'stderr').filter((t) => t.includes('Running in '));
    expect(runningIn(a!).length + runningIn(b!).length).toBeGreaterThan(0);
    expect(new Set([...runningIn(a!), ...runningIn(b!)]).size).toBe(Math.max(runningIn(a!).length, runningIn(b!).length));
    expect(builtId(a!, 'built') ?? builtId(a!, 'using cached build')).toEqual(builtId(b!, 'built') ?? builtId(b!, 'using cached build'));
  });

  it('stops a build whose start is cancelled, and leaves no build container', async () => {
    const controller = new AbortController();
    const marker = `cancel-${run}`;
    const onLine: LineSink = (_stream, text) => {
      if (text === `build: ${marker}`) controller.abort('cancelled by the test');
    };
    const start = executor.start({ jobId: nextJobId(), attempt: 1, command: ['true'], env: {}, docker: { image, buildSteps: [`echo ${marker}; sleep 1000`] }, onLine }, controller.signal);
    await expect(start).rejects.toBeInstanceOf(StartCancelledError);
    await waitFor(async () => (await docker.listContainers({ all: true })).every((c) => !c.Command.includes(marker)), { timeoutMs: 60_000, what: 'the build container to go' });
  });

  it('goes on with a shared build when one of the jobs waiting for it is cancelled', async () => {
    // The step sleeps so that the second job surely joins the build while it runs.
    const steps = [`echo step-started; sleep 10; echo kept > /kept.txt # ${run}`];
    const controller = new AbortController();
    let seen!: () => void;
    const started = new Promise<void>((resolve) => (seen = resolve));
    const firstLines: string[] = [];
    const onLine: LineSink = (_stream, text) => {
      firstLines.push(text);
      if (text === 'build: step-started') seen();
    };
    const cancelled = executor.start({ jobId: nextJobId(), attempt: 1, command: ['true'], env: {}, docker: { image, buildSteps: steps }, onLine }, controller.signal);
    cancelled.catch(() => undefined);
    await started;
    const lines: Ran['lines'] = [];
    const other = executor.start({ jobId: nextJobId(), attempt: 1, command: ['cat', '/kept.txt'], env: {}, docker: { image, buildSteps: steps }, onLine: (stream, text) => lines.push({ stream, text }) }, new AbortController().signal);
    await waitFor(() => lines.some((l) => l.text.endsWith('is being built for another job; waiting for it')), { timeoutMs: 60_000, what: 'the second job to join the build' });
    controller.abort('cancelled by the test');
    await expect(cancelled).rejects.toBeInstanceOf(StartCancelledError);
    const ran: Ran = { outcome: await (await other).wait(), lines };
    expect(ran.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(texts(ran, 'stdout')).toEqual(['kept']);
    expect(texts(ran, 'stderr')).toContainEqual(expect.stringMatching(/^build: built /));
    expect(firstLines.filter((t) => t.startsWith('build: built '))).toEqual([]); // it left before the end
  });

  it('removes the least recently used built image over the cap, never one a container uses', async () => {
    const small = createDockerExecutor({ docker, agentId, pool: 'default', imageCacheBytes: 1 });
    const stepsOf = (name: string) => [`echo ${name} > /name.txt # ${run}`];
    // A: built first and still running while the others build.
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const aLines: string[] = [];
    const onLine: LineSink = (_stream, text) => {
      aLines.push(text);
      if (text === 'a-ready') ready();
    };
    const a: RunHandle = await small.start({ jobId: nextJobId(), attempt: 1, command: ['sh', '-c', 'echo a-ready; exec sleep 1000'], env: {}, docker: { image, buildSteps: stepsOf('a') }, onLine }, new AbortController().signal);
    await started;
    const aId = /\((sha256:[0-9a-f]+)\)$/.exec(aLines.find((t) => t.startsWith('build: built '))!)![1]!;
    try {
      const b = await runJob(['cat', '/name.txt'], stepsOf('b'), { executor: small });
      const bId = builtId(b, 'built')![1]!;
      const c = await runJob(['cat', '/name.txt'], stepsOf('c'), { executor: small });
      const cId = builtId(c, 'built')![1]!;
      expect(texts(c, 'stdout')).toEqual(['c']);
      // C's build pushed the cache over its 1-byte cap: B (unused, older than C) goes; A is in use.
      await waitFor(async () => !(await builtImages()).includes(bId), { timeoutMs: 60_000, what: `built image B (${bId}) to be removed` });
      const left = await builtImages();
      expect(left).toContain(aId);
      expect(left).toContain(cId);
    } finally {
      await a.stop(0);
    }
    expect(await a.wait()).toEqual({ kind: 'stopped' });
  });

  it('traces the build as an executor.build span under the start that asked for it, failed steps as errors', async () => {
    const spans = recordSpans();
    try {
      const ok = await spans.under('executor.start', () => runJob(['true'], [`echo traced-${run} > /t.txt`]));
      expect(ok.result.outcome).toEqual({ kind: 'exited', exitCode: 0 });
      const failed = await spans.under('executor.start', () => runJob(['true'], [`echo failing-${run}; exit 4`]));
      expect(failed.result.outcome.kind).toBe('start_failed');
      const builds = spans.finished().filter((s) => s.name === 'executor.build');
      expect(builds.map((b) => b.parentSpanContext?.spanId)).toEqual([ok.parent.spanContext().spanId, failed.parent.spanContext().spanId]);
      for (const b of builds) {
        expect(b.attributes).toMatchObject({ 'longshore.build.base': image, 'longshore.build.steps': 1 });
        // A command can carry what a job should keep to itself: the span names the steps' count, not their text.
        expect(JSON.stringify(b.attributes)).not.toContain(run);
      }
      expect(builds.map((b) => b.status.code)).toEqual([0, 2]);
    } finally {
      await spans.stop();
    }
  });
});
