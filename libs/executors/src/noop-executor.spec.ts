import { describe, expect, it } from 'vitest';
import { createNoopExecutor } from './noop-executor.js';

describe('createNoopExecutor', () => {
  it('reports success at once without running the command', async () => {
    const executor = createNoopExecutor();
    const lines: string[] = [];
    expect(executor.name).toBe('noop');
    await expect(executor.probe()).resolves.toBe(true);
    const outcome = await executor.run({
      jobId: 'j',
      attempt: 1,
      command: ['nosuchcmd-would-fail'],
      env: {},
      timeoutMs: 0,
      signal: new AbortController().signal,
      onLine: (_stream, text) => lines.push(text),
    });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(lines).toEqual([]);
  });
});
