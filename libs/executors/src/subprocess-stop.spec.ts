import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killQuietly, runCollecting, testEnv, texts, waitUntilGone } from './spec-helpers.js';
import { createSubprocessExecutor } from './subprocess-executor.js';

const executor = createSubprocessExecutor();

/** Starts `command`, aborts once its first line arrives (the job is surely running), returns the run. */
async function cancelAfterFirstLine(command: string[], graceMs = 200) {
  const controller = new AbortController();
  let abortedAt = 0;
  const run = await runCollecting(executor, command, {
    signal: controller.signal,
    graceMs,
    onLine: (line) => {
      if (abortedAt !== 0) return;
      abortedAt = line.at;
      controller.abort('cancelled by request');
    },
  });
  return { ...run, abortedAt, signal: controller.signal };
}

// The job run owns the deadline and the cancel (see the agent's job-run specs for the timeout
// and cancelled outcomes); these check what stop() does to real processes.
describe('subprocess executor: stop on a deadline', () => {
  it('stops a job still running when its holder stops it', { timeout: 90_000 }, async () => {
    const run = await runCollecting(executor, ['sleep', '300'], { stopAfterMs: 500 });
    expect(run.outcome).toEqual({ kind: 'stopped' });
    // Not before the stop (a timer never fires early); stopped, not left to its 300 s (the
    // outcome says so; the bound is only a sanity check, generous for a loaded machine).
    expect(run.elapsedMs).toBeGreaterThanOrEqual(450);
    expect(run.elapsedMs).toBeLessThan(60_000);
  });

  it('kills what the job started, too', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'sleep 300 & echo $!; wait'], { stopAfterMs: 500 });
    expect(run.outcome.kind).toBe('stopped');
    expect(await waitUntilGone(Number(texts(run)[0]))).toBe(true);
  });

  it('leaves a job that ends in time alone, and a stop after its end changes nothing', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'echo done'], { stopAfterMs: 10_000 });
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    await run.handle!.stop(0);
    expect(await run.handle!.wait()).toEqual({ kind: 'exited', exitCode: 0 });
  });

  it('refuses a grace that is not a whole number of milliseconds >= 0', async () => {
    const run = await runCollecting(executor, ['true']);
    await expect(run.handle!.stop(-1)).rejects.toThrow(RangeError);
    await expect(run.handle!.stop(0.5)).rejects.toThrow('graceMs must be an integer >= 0, got 0.5');
  });
});

describe('subprocess executor: stop on cancel', () => {
  it('stops a running job without waiting out the grace when it obeys SIGTERM', async () => {
    // A grace longer than this test may take: waiting it out would fail the test by its timeout.
    const run = await cancelAfterFirstLine(['sh', '-c', 'echo started; sleep 300'], 600_000);
    // sleep and sh die on SIGTERM: no SIGKILL (the outcome would say so), no waiting out the grace.
    expect(run.outcome).toEqual({ kind: 'stopped' });
  });

  it('SIGKILLs a job that ignores SIGTERM once the grace period is over', async () => {
    const run = await cancelAfterFirstLine(['sh', '-c', 'trap "" TERM; echo ready; sleep 300'], 500);
    expect(run.outcome).toEqual({ kind: 'stopped', detail: 'still running 500ms after SIGTERM; killed with SIGKILL' });
    // It gave the grace first (a timer never fires early, whatever the load).
    expect(run.elapsedMs - run.abortedAt).toBeGreaterThanOrEqual(450);
  });

  it('SIGKILLs at once when stopped with no grace', { timeout: 90_000 }, async () => {
    const run = await cancelAfterFirstLine(['sh', '-c', 'trap "" TERM; echo ready; sleep 300'], 0);
    expect(run.outcome).toEqual({ kind: 'stopped' });
    expect(run.elapsedMs).toBeLessThan(60_000); // sanity: not the 300 s of the sleep
  });

  it('kills the grandchildren of a cancelled job', async () => {
    const run = await cancelAfterFirstLine(['sh', '-c', 'sleep 300 & echo $!; wait']);
    expect(run.outcome.kind).toBe('stopped');
    const pid = Number(texts(run)[0]);
    expect(pid).toBeGreaterThan(1);
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it('never starts a job whose signal is already aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-executors-'));
    try {
      const marker = join(dir, 'ran');
      const run = await runCollecting(executor, ['touch', marker], { signal: AbortSignal.abort('agent shutting down') });
      expect(run.outcome).toEqual({ kind: 'start_cancelled', reason: 'agent shutting down' });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no listener on the start signal: once started, only stop() ends a run', async () => {
    const controller = new AbortController();
    const handle = await executor.start({ jobId: 'j', attempt: 1, command: ['true'], env: testEnv(), onLine: () => undefined }, controller.signal);
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort(); // a late abort changes nothing and throws nothing
  });
});

describe('subprocess executor: leftovers', () => {
  it('kills what a job left running in its group after it exits', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'sleep 300 & echo $!; exit 0']);
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(await waitUntilGone(Number(texts(run)[0]))).toBe(true);
  });

  it('does not wait for ever on pipes held open by a process that left the group', { timeout: 90_000 }, async () => {
    // The grandchild starts its own session (detached), out of reach of the group kill, and
    // inherits the job's stdout.
    const script = `const c = require('node:child_process').spawn('sleep', ['300'], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
      console.log(c.pid); c.unref();`;
    let escaped: number | undefined;
    try {
      const run = await runCollecting(executor, [process.execPath, '-e', script]);
      escaped = Number(texts(run)[0]);
      expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
      expect(escaped).toBeGreaterThan(1);
      expect(run.elapsedMs).toBeLessThan(60_000); // sanity: not the 300 s the escaped sleep holds the pipe
    } finally {
      killQuietly(escaped);
    }
  });
});
