import type { Executor } from './executor.js';

/**
 * An executor that runs nothing and reports success at once. It exists only for control-plane
 * benchmarks (dispatch, leases, result reporting without process start-up cost); never use it
 * for real jobs.
 */
export function createNoopExecutor(): Executor {
  return {
    name: 'noop',
    probe: () => Promise.resolve(true),
    run: () => Promise.resolve({ kind: 'exited', exitCode: 0 }),
  };
}
