import type { AttachResult, Executor, OwnedRun, RunRef } from '@longshore/executors';
import { silentLogger } from '@longshore/telemetry';
import { describe, expect, it } from 'vitest';
import { stopOwnedRuns } from './owned-runs.js';

/** An executor that owns `owned` runs and finds each as `found` says. */
function owning(owned: OwnedRun[], found: (ref: RunRef) => AttachResult): Executor {
  return {
    name: 'subprocess',
    reattachable: false,
    probe: () => Promise.resolve({ healthy: true }),
    start: () => Promise.reject(new Error('not in this test')),
    attach: (ref) => Promise.resolve(found(ref)),
    listOwned: () => Promise.resolve(owned),
  };
}

describe('runs a previous life of the agent left', () => {
  it('are stopped at once, whether they can be re-attached or not; runs already gone are left alone', async () => {
    const stops: [number, number][] = [];
    const ref = (pid: number): RunRef => ({ kind: 'subprocess', pid, startTime: '1' });
    const executor = owning(
      [1, 2, 3].map((pid) => ({ jobId: `j${pid}`, attempt: 1, ref: ref(pid) })),
      (r) => {
        const pid = r.kind === 'subprocess' ? r.pid : 0;
        if (pid === 1) return { kind: 'gone' };
        const stop = (graceMs: number) => (stops.push([pid, graceMs]), Promise.resolve());
        if (pid === 2) return { kind: 'not-reattachable', reason: 'pipes gone', stop };
        return { kind: 'attached', handle: { ref: r, wait: () => Promise.resolve({ kind: 'stopped' }), stop } };
      },
    );
    expect(await stopOwnedRuns({ subprocess: executor }, 'a1', silentLogger())).toBe(2);
    expect(stops).toEqual([
      [2, 0],
      [3, 0],
    ]);
  });

  it('then removes what they left besides their processes (cgroups, directories), after stopping them', async () => {
    const order: string[] = [];
    const executor: Executor = {
      ...owning([{ jobId: 'j1', attempt: 1, ref: { kind: 'subprocess', pid: 7, startTime: '1' } }], () => ({
        kind: 'not-reattachable',
        reason: 'pipes gone',
        stop: () => (order.push('stop j1'), Promise.resolve()),
      })),
      removeLeftovers: () => (order.push('remove leftovers'), Promise.resolve({ cgroups: 1, directories: 13, problems: [] })),
    };
    expect(await stopOwnedRuns({ subprocess: executor }, 'a1', silentLogger())).toBe(1);
    expect(order).toEqual(['stop j1', 'remove leftovers']);
  });
});
