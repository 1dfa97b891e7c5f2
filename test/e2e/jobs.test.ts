import { Code, exitCodeOf, FailureClass, JobState, LogStream, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { processGone, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, finishAll, logLines, tsMs } from './support.js';

const alive = (pid: number) => !processGone(pid);

describe('jobs end to end: real registry, dispatcher and two agents on a private redis-server', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, env: { LONGSHORE_LOG_MAX_BYTES: '4Ki' } });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  it('returns a job\'s output and its own exit code', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'] });
    expect(job.state).toBe(JobState.QUEUED);
    expect(job.weightMilli).toBe(250); // the default pool's default weight
    const lines: [LogStream, string][] = [];
    for await (const l of ls.logs(job.id, { follow: true })) lines.push([l.stream, l.text]);
    expect(lines).toEqual([
      [LogStream.STDOUT, 'hello'],
      [LogStream.STDERR, 'oops'],
    ]);
    const done = await ls.getJob(job.id);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureClass).toBe(FailureClass.EXIT);
    expect(done.exitCode).toBe(3);
    expect(exitCodeOf(done)).toBe(3);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.agentId).toMatch(/^agent-[12]$/);
  });

  it('passes argv verbatim, with no shell in between', async () => {
    const job = await ls.submit({ command: ['echo', '$HOME', '; rm -rf /', '`id`'] });
    expect(await logLines(ls, job.id, true)).toEqual(['$HOME ; rm -rf / `id`']);
    expect((await ls.getJob(job.id)).state).toBe(JobState.SUCCEEDED);
  });

  it('shows output while the job is still running', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo first; sleep 3; echo second'] });
    for await (const l of ls.logs(job.id, { follow: true })) {
      expect(l.text).toBe('first');
      // The first line arrived before the job ended.
      expect((await ls.getJob(job.id)).state).toBe(JobState.RUNNING);
      break;
    }
    expect(await logLines(ls, job.id, true)).toEqual(['first', 'second']);
  });

  it('never runs more weight on an agent than its capacity', async () => {
    const weights = [250, 500, 1000, 125, 250, 750, 500, 250, 125, 1000, 250, 375, 500, 125, 625, 250];
    const jobs = await Promise.all(
      weights.map((w, i) =>
        ls.submit({
          weightMilli: w,
          labels: { test: 'capacity' },
          command: ['sh', '-c', `echo start $(date +%s%3N); sleep 0.${3 + (i % 4)}; echo stop $(date +%s%3N)`],
        }),
      ),
    );
    const done = await finishAll(ls, jobs);
    const intervals: { agent: string; weight: number; start: number; stop: number }[] = [];
    for (const j of done) {
      expect(j.state).toBe(JobState.SUCCEEDED);
      const [start, stop] = (await logLines(ls, j.id)).map((l) => Number(l.split(' ')[1]));
      intervals.push({ agent: j.attempts[0]!.agentId, weight: j.weightMilli, start: start!, stop: stop! });
      // The agent's own record brackets the process's lifetime.
      expect(tsMs(j.attempts[0]!.startedAt)).toBeLessThanOrEqual(start!);
      expect(tsMs(j.attempts[0]!.finishedAt)).toBeGreaterThanOrEqual(stop!);
    }
    expect(new Set(intervals.map((i) => i.agent)).size).toBe(2);
    for (const agent of ['agent-1', 'agent-2']) {
      const mine = intervals.filter((i) => i.agent === agent);
      // Sweep: at every start, the weight of jobs running then on this agent.
      for (const a of mine) {
        const load = mine.filter((b) => b.start <= a.start && b.stop > a.start).reduce((s, b) => s + b.weight, 0);
        expect(load, `load on ${agent} at ${a.start}`).toBeLessThanOrEqual(1000);
      }
    }
  });

  it('cancels a running job and kills its whole process group', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'sleep 300 & echo $!; wait'] });
    let grandchild = 0;
    for await (const l of ls.logs(job.id, { follow: true })) {
      grandchild = Number(l.text);
      break;
    }
    expect(alive(grandchild)).toBe(true);
    await ls.dispatcher.cancelJob({ id: job.id });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.CANCELLED);
    expect(exitCodeOf(done)).toBe(130);
    await waitFor(() => !alive(grandchild), { timeoutMs: 30_000, what: `grandchild ${grandchild} to be gone` });
  });

  it('ends a job that runs past its timeout, and reports it as a timeout', async () => {
    // Sleeps far longer than the test may take: only the timeout can end it in time.
    const job = await ls.submit({ command: ['sleep', '600'], timeoutMs: 1000n });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureClass).toBe(FailureClass.TIMEOUT);
    expect(exitCodeOf(done)).toBe(124);
    // It ran its full second first (a timer never fires early, however loaded the machine).
    expect(tsMs(done.attempts[0]!.finishedAt) - tsMs(done.attempts[0]!.startedAt)).toBeGreaterThanOrEqual(1000);
  });

  it('reports a command that cannot start as start_failed (exit 125)', async () => {
    const done = await ls.waitForJob((await ls.submit({ command: ['no-such-command-xyz'] })).id);
    expect(done.failureClass).toBe(FailureClass.START_FAILED);
    expect(done.message).toContain('no-such-command-xyz');
    expect(exitCodeOf(done)).toBe(125);
  });

  it('kills a job tree that exceeds its memory limit and reports oom (exit 137)', async () => {
    const hog = `const a = []; for (;;) a.push(Buffer.alloc(16 * 1024 * 1024, 1));`;
    // The hog is a grandchild; after it dies the shell would go on sleeping (longer than the test
    // may take): the whole tree must end.
    const job = await ls.submit({ command: ['sh', '-c', `"${process.execPath}" -e "${hog}"; sleep 600`], memoryBytes: 64n * 1024n * 1024n });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureClass).toBe(FailureClass.OOM);
    expect(exitCodeOf(done)).toBe(137);
  });

  it('caps a job\'s log in bytes and says so', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i of output"; i=$((i+1)); done'] });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.logTruncated).toBe(true);
    const lines = await logLines(ls, job.id);
    expect(lines.at(-1)).toContain('log truncated');
    const stored = lines.slice(0, -1).reduce((s, l) => s + Buffer.byteLength(l), 0);
    expect(stored).toBeLessThanOrEqual(4096);
    expect(stored).toBeGreaterThan(3000);
  });

  it('watches a job through its states to the end', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'sleep 0.5'] });
    const states: JobState[] = [];
    for await (const m of ls.dispatcher.watchJob({ id: job.id })) states.push(m.job!.state);
    expect(states.at(-1)).toBe(JobState.SUCCEEDED);
    expect(states).toContain(JobState.RUNNING);
  });

  it('cancels a queued job before it runs, leaving it cancelled', async () => {
    await ls.registry.createPool({ id: 'idle-pool', description: 'no agents serve this' });
    const job = await ls.submit({ pool: 'idle-pool', command: ['touch', '/tmp/should-not-exist'] });
    const res = await ls.dispatcher.cancelJob({ id: job.id });
    expect(res.job!.state).toBe(JobState.CANCELLED);
    expect((await ls.registry.getPool({ id: 'idle-pool' })).pool!.status!.jobsQueued).toBe(0n);
    expect(await logLines(ls, job.id, true)).toEqual([]);
  });

  it('lists jobs newest first, filtered and paginated', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await ls.submit({ command: ['true'], labels: { batch: 'list-test', n: String(i) } }));
    await finishAll(ls, mine);
    const page1 = await ls.dispatcher.listJobs({ labels: { batch: 'list-test' }, pageSize: 3 });
    expect(page1.jobs.map((j) => j.id)).toEqual(mine.slice(2).reverse().map((j) => j.id));
    const page2 = await ls.dispatcher.listJobs({ labels: { batch: 'list-test' }, pageSize: 3, pageToken: page1.nextPageToken });
    expect(page2.jobs.map((j) => j.id)).toEqual(mine.slice(0, 2).reverse().map((j) => j.id));
    const failed = await ls.dispatcher.listJobs({ state: JobState.FAILED, labels: { batch: 'list-test' } });
    expect(failed.jobs).toEqual([]);
  });

  it('answers NOT_FOUND for a job that does not exist', async () => {
    const err = (await ls.getJob('default.0000000000000000000000000').catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.NotFound);
    expect(err.message).toContain('does not exist');
  });
});
