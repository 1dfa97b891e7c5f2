import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killQuietly, runCollecting, texts, waitUntilGone } from './spec-helpers.js';
import { createSubprocessExecutor } from './subprocess-executor.js';

const executor = createSubprocessExecutor({ killGraceMs: 200 });

/** Starts `command`, aborts once its first line arrives (the job is surely running), returns the run. */
async function cancelAfterFirstLine(command: string[], reason?: string, exec = executor) {
  const controller = new AbortController();
  let abortedAt = 0;
  const run = await runCollecting(exec, command, {
    signal: controller.signal,
    onLine: (line) => {
      if (abortedAt !== 0) return;
      abortedAt = line.at;
      controller.abort(reason);
    },
  });
  return { ...run, abortedAt, signal: controller.signal };
}

describe('subprocess executor: timeout', () => {
  it('stops a job that runs past timeoutMs', { timeout: 90_000 }, async () => {
    const run = await runCollecting(executor, ['sleep', '300'], { timeoutMs: 500 });
    expect(run.outcome).toEqual({ kind: 'timeout', message: 'timed out after 500ms' });
    // Not before the timeout (a timer never fires early); stopped, not left to its 300 s (the
    // outcome says so; the bound is only a sanity check, generous for a loaded machine).
    expect(run.elapsedMs).toBeGreaterThanOrEqual(450);
    expect(run.elapsedMs).toBeLessThan(60_000);
  });

  it('kills what the job started, too', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'sleep 300 & echo $!; wait'], { timeoutMs: 500 });
    expect(run.outcome.kind).toBe('timeout');
    expect(await waitUntilGone(Number(texts(run)[0]))).toBe(true);
  });

  it('leaves a job that ends in time alone', async () => {
    const run = await runCollecting(executor, ['sh', '-c', 'echo done'], { timeoutMs: 10_000 });
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
  });
});

describe('subprocess executor: cancel', () => {
  it('cancels a running job, with the caller reason in the message, without waiting out the grace', async () => {
    // A grace longer than this test may take: waiting it out would fail the test by its timeout.
    const patient = createSubprocessExecutor({ killGraceMs: 600_000 });
    const run = await cancelAfterFirstLine(['sh', '-c', 'echo started; sleep 300'], 'job cancelled by user', patient);
    // sleep and sh die on SIGTERM: no SIGKILL (the message would say so), no waiting out the grace.
    expect(run.outcome).toEqual({ kind: 'cancelled', message: 'cancelled: job cancelled by user' });
  });

  it('SIGKILLs a job that ignores SIGTERM once the grace period is over', async () => {
    const graceful = createSubprocessExecutor({ killGraceMs: 500 });
    const run = await cancelAfterFirstLine(['sh', '-c', 'trap "" TERM; echo ready; sleep 300'], undefined, graceful);
    expect(run.outcome).toEqual({
      kind: 'cancelled',
      message: 'cancelled (still running 500ms after SIGTERM; killed with SIGKILL)',
    });
    // It gave the grace first (a timer never fires early, whatever the load).
    expect(run.elapsedMs - run.abortedAt).toBeGreaterThanOrEqual(450);
  });

  it('kills the grandchildren of a cancelled job', async () => {
    const run = await cancelAfterFirstLine(['sh', '-c', 'sleep 300 & echo $!; wait']);
    expect(run.outcome.kind).toBe('cancelled');
    const pid = Number(texts(run)[0]);
    expect(pid).toBeGreaterThan(1);
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it('never starts a job whose signal is already aborted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-executors-'));
    try {
      const marker = join(dir, 'ran');
      const run = await runCollecting(executor, ['touch', marker], { signal: AbortSignal.abort('agent shutting down') });
      expect(run.outcome).toEqual({ kind: 'cancelled', message: 'cancelled before start: agent shutting down' });
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes its abort listener once the run is over', async () => {
    const controller = new AbortController();
    const run = await runCollecting(executor, ['true'], { signal: controller.signal });
    expect(run.outcome).toEqual({ kind: 'exited', exitCode: 0 });
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
