import { randomBytes } from 'node:crypto';
import { followProgress, recordSpans, startRegistry } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { createDockerExecutor, StartCancelledError, StartFailedError, type Executor, type LineSink, type OutputStream, type RunHandle, type RunOutcome, type RunRequest } from '@longshore/executors';
import { afterAll, expect, it } from 'vitest';

// The docker executor against a real engine. It lives here, not beside the executor in
// libs/executors, because @longshore/testing (which starts the engine) depends on
// @longshore/executors already: a spec there importing it would close a cycle between the two.

const run = randomBytes(4).toString('hex');
const agentId = `agent-docker-spec-${run}`;
let jobs = 0;
/** A job id of its own for each run, so each test finds exactly its own containers. */
const nextJobId = () => `job-${run}-${++jobs}`;

interface Ran {
  outcome: RunOutcome | { kind: 'start_failed'; message: string };
  lines: { stream: OutputStream; text: string }[];
}

/** Starts `request` and follows it to its end, as a job run does; a refused start is `start_failed`. */
async function runToEnd(executor: Executor, request: Omit<RunRequest, 'onLine'>): Promise<Ran> {
  const lines: Ran['lines'] = [];
  try {
    const handle = await executor.start({ ...request, onLine: (stream, text) => lines.push({ stream, text }) }, new AbortController().signal);
    return { outcome: await handle.wait(), lines };
  } catch (err) {
    if (err instanceof StartFailedError) return { outcome: { kind: 'start_failed', message: err.message }, lines };
    throw err;
  }
}

function texts(ran: Ran, stream: OutputStream = 'stdout'): string[] {
  return ran.lines.filter((l) => l.stream === stream).map((l) => l.text);
}

describeDocker('the docker executor', ({ docker, image }) => {
  const executor = createDockerExecutor({ docker, agentId, pool: 'default' });
  const containersOf = (label: string) => docker.listContainers({ all: true, filters: { label: [label] } });

  /** Runs `command` in the test image to its end; a fresh job id unless given. */
  const runJob = (command: string[], opts: Partial<Omit<RunRequest, 'command' | 'onLine'>> = {}) =>
    runToEnd(executor, { jobId: nextJobId(), attempt: 1, command, env: {}, docker: { image }, ...opts });

  /** Starts `command` and resolves with its handle once `ready` (a stdout line) was printed. */
  const startUntil = async (command: string[], ready: string, jobId = nextJobId(), also?: (text: string) => void): Promise<RunHandle> => {
    let seen!: () => void;
    const printed = new Promise<void>((resolve) => (seen = resolve));
    const onLine: LineSink = (_stream, text) => {
      also?.(text);
      if (text === ready) seen();
    };
    const req: RunRequest = { jobId, attempt: 1, command, env: {}, docker: { image }, onLine };
    const handle = await executor.start(req, new AbortController().signal);
    await printed;
    return handle;
  };

  afterAll(async () => {
    for (const c of await containersOf(`longshore.agent=${agentId}`)) await docker.getContainer(c.Id).remove({ force: true });
    expect(await containersOf(`longshore.agent=${agentId}`)).toEqual([]);
  });

  it('answers its probe, and is reattachable', async () => {
    expect(await executor.probe(new AbortController().signal)).toEqual({ healthy: true });
    expect(executor.reattachable).toBe(true);
  });

  it('runs a job to its exit code, stdout and stderr lines apart and in order, and removes its container', async () => {
    const jobId = nextJobId();
    const ran = await runJob(['sh', '-c', 'echo out; echo err >&2; echo out2; exit 4'], { jobId });
    expect(ran.outcome).toEqual({ kind: 'exited', exitCode: 4 });
    expect(texts(ran, 'stdout')).toEqual(['out', 'out2']);
    expect(texts(ran, 'stderr')).toEqual(['err']);
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('gives the job its environment and its argv as is, with no shell in between', async () => {
    const env = await runJob(['sh', '-c', 'echo "$GREETING/$LONGSHORE_JOB_ID"'], { env: { GREETING: 'hello world', LONGSHORE_JOB_ID: 'j-9' } });
    expect(texts(env)).toEqual(['hello world/j-9']);
    const argv = await runJob(['echo', '$HOME', '*', 'a  b']);
    expect(texts(argv)).toEqual(['$HOME * a  b']);
    expect(argv.outcome).toEqual({ kind: 'exited', exitCode: 0 });
  });

  it('ends a job past its memory limit as oom, and removes its container', async () => {
    const jobId = nextJobId();
    // The shell holds 100 MB of "y\n" in a variable: far past 32 MiB, with no swap to spill to.
    const ran = await runJob(['sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}'], { jobId, memoryBytes: 32 * 1024 * 1024 });
    expect(ran.outcome).toMatchObject({ kind: 'oom', message: expect.stringContaining('memory limit of 32Mi') as string });
    expect(texts(ran)).not.toContain(expect.stringContaining('survived'));
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('stops a job politely with SIGTERM, delivers what it prints as it goes, and removes its container', async () => {
    const jobId = nextJobId();
    const lines: string[] = [];
    const handle = await startUntil(['sh', '-c', "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 1; done"], 'ready', jobId, (text) => lines.push(text));
    await handle.stop(30_000);
    expect(await handle.wait()).toEqual({ kind: 'stopped' });
    expect(lines).toEqual(['ready', 'bye']);
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
    await handle.stop(0); // after the end: nothing to do
  });

  it('kills a job that ignores SIGTERM once its grace is over, and says so', async () => {
    // The job's shell is PID 1 (no init), which also spares it a SIGTERM it has no handler for.
    const jobId = nextJobId();
    const handle = await startUntil(['sh', '-c', "trap '' TERM; echo ready; sleep 1000"], 'ready', jobId);
    await handle.stop(1000);
    expect(await handle.wait()).toEqual({ kind: 'stopped', detail: 'still running 1s after SIGTERM; killed with SIGKILL' });
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('starts nothing when its start is cancelled', async () => {
    const jobId = nextJobId();
    const start = executor.start({ jobId, attempt: 1, command: ['true'], env: {}, docker: { image }, onLine: () => undefined }, AbortSignal.abort('shutting down'));
    await expect(start).rejects.toBeInstanceOf(StartCancelledError);
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('kills the job and rejects its wait when the output sink throws, and removes its container', async () => {
    const jobId = nextJobId();
    const onLine: LineSink = () => {
      throw new Error('log store gone');
    };
    const handle = await executor.start({ jobId, attempt: 1, command: ['sh', '-c', 'echo one; exec sleep 1000'], env: {}, docker: { image }, onLine }, new AbortController().signal);
    await expect(handle.wait()).rejects.toThrow(`onLine threw while job ${jobId} (attempt 1) was running; the job was stopped`);
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('fails the start, naming the image, when the image is missing and may not be pulled', async () => {
    const ran = await runJob(['true'], { docker: { image: `longshore-test/missing:${run}`, pull: 'never' } });
    expect(ran.outcome).toEqual({ kind: 'start_failed', message: expect.stringContaining(`image "longshore-test/missing:${run}" is not on this agent's Docker engine`) as string });
  });

  it('fails the start of a program the image does not have, and leaves no container', async () => {
    const jobId = nextJobId();
    const ran = await runJob(['no-such-program'], { jobId });
    expect(ran.outcome).toMatchObject({ kind: 'start_failed', message: expect.stringContaining('did not start') as string });
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
  });

  it('pulls an image it lacks from a registry (if_not_present), and fails the start when the pull fails', async () => {
    const registry = await startRegistry();
    const remote = `${registry.address}/x:${run}`;
    try {
      await docker.getImage(image).tag({ repo: `${registry.address}/x`, tag: run });
      // The engine requires an X-Registry-Auth header on push, even for a registry without auth.
      await followProgress(docker, await docker.getImage(remote).push({ authconfig: { serveraddress: registry.address } }));
      await docker.getImage(remote).remove(); // untags it; the test image stays
      const spans = recordSpans();
      const { result: ran, parent } = await spans.under('executor.start', () => runJob(['echo', 'pulled'], { docker: { image: remote } }));
      const pulls = spans.finished().filter((s) => s.name === 'executor.pull');
      await spans.stop();
      expect(ran.outcome).toEqual({ kind: 'exited', exitCode: 0 });
      // The pull is its own span under the start that needed it.
      expect(pulls.map((s) => [s.parentSpanContext?.spanId, s.attributes['container.image.name']])).toEqual([[parent.spanContext().spanId, remote]]);
      expect(texts(ran)).toEqual(['pulled']);
      expect(texts(ran, 'stderr')[0]).toBe(`pull: ${remote}`);

      const missing = `${registry.address}/nope:1`;
      const failed = await runJob(['true'], { docker: { image: missing } });
      expect(failed.outcome).toEqual({ kind: 'start_failed', message: expect.stringContaining(`could not pull image "${missing}"`) as string });
      await expect(executor.start({ jobId: nextJobId(), attempt: 1, command: ['true'], env: {}, docker: { image: missing }, onLine: () => undefined }, new AbortController().signal)).rejects.toBeInstanceOf(StartFailedError);
    } finally {
      await docker.getImage(remote).remove({ noprune: true }).catch(() => undefined);
      await registry.stop();
    }
  });

  it('runs the container with no network, no NET_RAW, no new privileges and a pids limit', async () => {
    const lines: string[] = [];
    const handle = await startUntil(['sh', '-c', 'cat /proc/self/status; ls /sys/class/net; echo ready; exec sleep 1000'], 'ready', nextJobId(), (text) => lines.push(text));
    try {
      expect(lines).toContain('NoNewPrivs:\t1'); // as the job itself sees it
      expect(lines.slice(-2)).toEqual(['lo', 'ready']); // no network device but loopback
      const ref = handle.ref;
      if (ref.kind !== 'docker') throw new Error('not a container');
      const { HostConfig } = await docker.getContainer(ref.containerId).inspect();
      expect(HostConfig.NetworkMode).toBe('none');
      expect(HostConfig.CapDrop).toEqual(['ALL']);
      expect(HostConfig.CapAdd).not.toContain('NET_RAW');
      expect(HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
      expect(HostConfig.PidsLimit).toBe(512);
    } finally {
      await handle.stop(0);
    }
  });

  it('lets a new executor of the same agent find the run, attach to it, follow its output and stop it', async () => {
    const jobId = nextJobId();
    const first = await startUntil(['sh', '-c', "trap 'exit 0' TERM; echo ready; while true; do echo tick; sleep 1; done"], 'ready', jobId);
    const again = createDockerExecutor({ docker, agentId, pool: 'default' });
    const owned = await again.listOwned(agentId);
    expect(owned).toContainEqual({ jobId, attempt: 1, ref: first.ref, agentId });
    expect(await again.listOwned(`${agentId}-other`)).toEqual([]);
    // Any agent of the pool on the same engine finds it too, with the agent it was started for.
    expect(await again.listPool!('default')).toContainEqual({ jobId, attempt: 1, ref: first.ref, agentId });
    expect(await again.listPool!('other-pool')).toEqual([]);

    let ticked!: () => void;
    const tick = new Promise<void>((resolve) => (ticked = resolve));
    const found = await again.attach(first.ref, (_stream, text) => text === 'tick' && ticked());
    if (found.kind !== 'attached') throw new Error(`expected to attach, got ${found.kind}`);
    await tick; // output printed after the attach reaches the new sink
    await found.handle.stop(30_000);
    expect(await found.handle.wait()).toEqual({ kind: 'stopped' });
    await first.wait(); // the first life's handle ends too (as it would have seen it)
    expect(await containersOf(`longshore.job=${jobId}`)).toEqual([]);
    expect(await again.attach(first.ref, () => undefined)).toEqual({ kind: 'gone' });
  });
});
