import { HEALTHY, type Executor, type RunHandle } from './executor.js';
import { StartCancelledError } from './start-errors.js';

const DONE: RunHandle = {
  ref: { kind: 'noop' },
  wait: () => Promise.resolve({ kind: 'exited', exitCode: 0 }),
  stop: () => Promise.resolve(),
};

/**
 * An executor that runs nothing and reports success at once. It exists only for control-plane
 * benchmarks (dispatch, leases, result reporting without process start-up cost); an agent has it
 * only when `LONGSHORE_EXECUTORS` lists it. Never use it for real jobs.
 */
export function createNoopExecutor(): Executor {
  return {
    name: 'noop',
    reattachable: false,
    probe: () => Promise.resolve(HEALTHY),
    start: (_req, signal) => (signal.aborted ? Promise.reject(new StartCancelledError(signal.reason)) : Promise.resolve(DONE)),
    // A noop run is over as soon as it starts.
    attach: () => Promise.resolve({ kind: 'gone' }),
    listOwned: () => Promise.resolve([]),
  };
}
