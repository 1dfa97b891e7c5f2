import { StartCancelledError, StartFailedError } from '@longshore/executors';
import { describe, expect, it } from 'vitest';
import { FakeExecutor } from './fake-executor.js';

const request = (jobId: string, lines: string[] = []) => ({
  jobId,
  attempt: 1,
  command: ['true'],
  env: {},
  onLine: (_s: string, text: string) => void lines.push(text),
});
const go = () => new AbortController().signal;

describe('FakeExecutor', () => {
  it('starts runs the test ends, one outcome each', async () => {
    const ex = new FakeExecutor();
    const lines: string[] = [];
    const handle = await ex.start(request('a', lines), go());
    const run = await ex.started('a');
    run.line('stdout', 'hi').fail(3);
    run.succeed(); // too late: the first end wins
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 3 });
    expect(lines).toEqual(['hi']);
    expect(ex.running()).toEqual([]);
  });

  it('ends a stopped run as stopped, recording the grace, unless it ignores the stop', async () => {
    const ex = new FakeExecutor();
    const h1 = await ex.start(request('a'), go());
    await h1.stop(1500);
    expect(await h1.wait()).toEqual({ kind: 'stopped' });
    expect(ex.runOf('a')?.stops).toEqual([1500]);
    const h2 = await ex.start(request('b'), go());
    const run = (await ex.started('b')).ignoreStop();
    void h2.stop(0);
    expect(run.running).toBe(true);
    expect(run.stopRequested).toBe(true);
    run.throw(new Error('lost the cgroup'));
    await expect(h2.wait()).rejects.toThrow('lost the cgroup');
  });

  it('refuses to start when cancelled first or told to refuse, starting nothing', async () => {
    const ex = new FakeExecutor({ refuseStart: (req) => (req.jobId === 'bad' ? 'image missing' : undefined) });
    await expect(ex.start(request('a'), AbortSignal.abort('stop'))).rejects.toBeInstanceOf(StartCancelledError);
    await expect(ex.start(request('bad'), go())).rejects.toEqual(new StartFailedError('image missing'));
    expect(ex.runs).toEqual([]);
  });

  it('hands each started run to one waiter', async () => {
    const ex = new FakeExecutor();
    const first = ex.started();
    void ex.start(request('a'), go());
    void ex.start(request('b'), go());
    expect((await first).jobId).toBe('a');
    expect((await ex.started()).jobId).toBe('b');
  });
});
