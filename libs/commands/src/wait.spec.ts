import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FailureClass, JobState, LogStream } from '@longshore/client';
import { FakeClient, makeJob, runWith } from './test-helpers.js';

/** A client whose job-1, once submitted, "ran" with these log lines and ended as `ending`. */
function clientFor(ending: Parameters<typeof makeJob>[0]): FakeClient {
  const client = new FakeClient();
  client.logLines = [
    { stream: LogStream.SYSTEM, text: 'started on agent-a (subprocess)' },
    { stream: LogStream.STDOUT, text: 'out 1' },
    { stream: LogStream.STDERR, text: 'err 1' },
    { stream: LogStream.STDOUT, text: 'out 2' },
  ];
  const submit = client.dispatcher.submitJob;
  client.dispatcher.submitJob = async (req) => {
    const res = await submit(req);
    client.jobs.set('job-1', makeJob({ id: 'job-1', ...ending }));
    return res;
  };
  return client;
}

describe('longshore submit --wait', () => {
  it("routes the job's lines to the right streams and exits with its exit code", async () => {
    const client = clientFor({ state: JobState.FAILED, failureClass: FailureClass.EXIT, exitCode: 3 });
    const run = await runWith(client, ['submit', '--wait', '--', 'sh', '-c', 'exit 3']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('out 1\nout 2\n');
    expect(run.stderr).toBe('job job-1\nlongshore: started on agent-a (subprocess)\nerr 1\n');
    expect(client.methods()).toEqual(['submitJob', 'streamJobLogs', 'getJob']);
    expect(client.calls[1]!.request).toMatchObject({ id: 'job-1', follow: true });
  });

  it('exits 0 when the job succeeded', async () => {
    const run = await runWith(clientFor({ state: JobState.SUCCEEDED, exitCode: 0 }), ['submit', '--wait', '--', 'true']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('failed');
  });

  it.each([
    [FailureClass.TIMEOUT, 124, 'longshore: job job-1 failed: timeout: killed after 30s'],
    [FailureClass.START_FAILED, 125, 'longshore: job job-1 failed: start_failed: killed after 30s'],
    [FailureClass.OOM, 137, 'longshore: job job-1 failed: oom: killed after 30s'],
    [FailureClass.LOST, 1, 'longshore: job job-1 failed: lost: killed after 30s'],
  ])('a job that ended as class %i exits %i and says why on stderr', async (failureClass, code, reason) => {
    const run = await runWith(clientFor({ state: JobState.FAILED, failureClass, message: 'killed after 30s' }), ['submit', '--wait', '--', 'sleep', '60']);
    expect(run.code).toBe(code);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(reason);
    expect(run.stdout).toBe('out 1\nout 2\n');
  });

  it('first Ctrl-C cancels the job and keeps streaming; the stream then ends with the cancelled job', async () => {
    const client = clientFor({ state: JobState.CANCELLED, failureClass: FailureClass.CANCELLED });
    let release = (): void => undefined;
    client.holdLogs = new Promise<void>((resolve) => (release = resolve));
    const signals = new EventEmitter();
    const running = runWith(client, ['submit', '--wait', '--', 'sleep', '60'], { signals });
    await until(() => signals.listenerCount('SIGINT') === 1 && client.methods().includes('streamJobLogs'));
    signals.emit('SIGINT');
    await until(() => client.methods().includes('cancelJob'));
    release();
    const run = await running;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain('longshore: cancelling job job-1 (Ctrl-C again to stop waiting)');
    expect(client.methods()).toEqual(['submitJob', 'streamJobLogs', 'cancelJob', 'getJob']);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('second Ctrl-C stops waiting at once with 130', async () => {
    const client = clientFor({ state: JobState.RUNNING });
    client.holdLogs = new Promise<void>(() => undefined); // never ends by itself
    const signals = new EventEmitter();
    const running = runWith(client, ['submit', '--wait', '--', 'sleep', '60'], { signals });
    await until(() => client.methods().includes('streamJobLogs'));
    signals.emit('SIGINT');
    signals.emit('SIGINT');
    const run = await running;
    expect(run.code).toBe(130);
    expect(client.closed).toBe(true);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('holds a SIGINT handler only while waiting for the job, not while submitting', async () => {
    const signals = new EventEmitter();
    const client = clientFor({ state: JobState.SUCCEEDED, exitCode: 0 });
    const counts: number[] = [];
    const submit = client.dispatcher.submitJob;
    client.dispatcher.submitJob = (req) => {
      counts.push(signals.listenerCount('SIGINT'));
      return submit(req);
    };
    const getJob = client.dispatcher.getJob;
    client.dispatcher.getJob = (req, opts) => {
      counts.push(signals.listenerCount('SIGINT'));
      return getJob(req, opts);
    };
    await runWith(client, ['submit', '--wait', '--', 'true'], { signals });
    expect(counts).toEqual([0, 1]);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}
