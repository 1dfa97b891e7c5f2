import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { signalGroup } from './process-group.js';

describe('signalGroup', () => {
  it('refuses ids that would reach the agent itself or every process', () => {
    expect(() => signalGroup(0, 'SIGTERM')).toThrow(RangeError);
    expect(() => signalGroup(1, 'SIGTERM')).toThrow(RangeError);
    expect(() => signalGroup(-5, 'SIGTERM')).toThrow(RangeError);
  });

  it('signals a detached group and returns false once the group is gone', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    await once(child, 'spawn');
    const exited = once(child, 'exit');
    expect(signalGroup(child.pid!, 'SIGKILL')).toBe(true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(signalGroup(child.pid!, 'SIGKILL')).toBe(false);
  });
});
