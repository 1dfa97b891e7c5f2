import { describe, expect, it } from 'vitest';
import { FakeExecutor } from './fake-executor.js';

const request = (jobId: string, signal = new AbortController().signal, lines: string[] = []) => ({
  jobId,
  attempt: 1,
  command: ['true'],
  env: {},
  timeoutMs: 0,
  signal,
  onLine: (_s: string, text: string) => void lines.push(text),
});

describe('FakeExecutor', () => {
  it('starts runs the test ends, one outcome each', async () => {
    const ex = new FakeExecutor();
    const lines: string[] = [];
    const p = ex.run(request('a', undefined, lines));
    const run = await ex.started('a');
    run.line('stdout', 'hi').fail(3);
    run.succeed(); // too late: the first end wins
    expect(await p).toEqual({ kind: 'exited', exitCode: 3 });
    expect(lines).toEqual(['hi']);
    expect(ex.running()).toEqual([]);
  });

  it('ends a stopped run as cancelled, unless it ignores the stop', async () => {
    const ex = new FakeExecutor();
    const c1 = new AbortController();
    const p1 = ex.run(request('a', c1.signal));
    c1.abort('cancelled by request');
    expect(await p1).toEqual({ kind: 'cancelled', message: 'cancelled by request' });
    const c2 = new AbortController();
    const p2 = ex.run(request('b', c2.signal));
    const run = (await ex.started('b')).ignoreStop();
    c2.abort('stop');
    expect(run.running).toBe(true);
    run.throw(new Error('lost the cgroup'));
    await expect(p2).rejects.toThrow('lost the cgroup');
  });

  it('hands each started run to one waiter', async () => {
    const ex = new FakeExecutor();
    const first = ex.started();
    void ex.run(request('a'));
    void ex.run(request('b'));
    expect((await first).jobId).toBe('a');
    expect((await ex.started()).jobId).toBe('b');
  });
});
