import { describe, expect, it } from 'vitest';
import { createNoopExecutor } from './noop-executor.js';
import { StartCancelledError } from './start-errors.js';

describe('createNoopExecutor', () => {
  const request = (lines: string[]) => ({ jobId: 'j', attempt: 1, command: ['nosuchcmd-would-fail'], env: {}, onLine: (_stream: string, text: string) => void lines.push(text) });

  it('reports success at once without running the command', async () => {
    const executor = createNoopExecutor();
    const lines: string[] = [];
    expect(executor.name).toBe('noop');
    await expect(executor.probe(new AbortController().signal)).resolves.toEqual({ healthy: true });
    const handle = await executor.start(request(lines), new AbortController().signal);
    expect(handle.ref).toEqual({ kind: 'noop' });
    expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 0 });
    expect(lines).toEqual([]);
  });

  it('starts nothing when cancelled first, and owns nothing to re-attach to', async () => {
    const executor = createNoopExecutor();
    await expect(executor.start(request([]), AbortSignal.abort('shutting down'))).rejects.toBeInstanceOf(StartCancelledError);
    expect(await executor.attach({ kind: 'noop' }, () => undefined)).toEqual({ kind: 'gone' });
    expect(await executor.listOwned('agent-1')).toEqual([]);
  });
});
