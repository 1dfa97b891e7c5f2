import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@longshore/telemetry';
import { describe, expect, it } from 'vitest';
import { createSubprocessExecutor, sweepLeftovers } from './index.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const request = (jobId: string, attempt: number, command: string[], onLine: (text: string) => void = () => undefined) => ({
  jobId,
  attempt,
  command,
  env: { PATH: process.env['PATH']! },
  onLine: (_s: string, t: string) => onLine(t),
});

/** Waits for the first line, polling. */
async function firstLine(lines: string[]): Promise<string> {
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
  return lines[0]!;
}

describe('leftover job processes', () => {
  it('notes a running job\'s process group and forgets it when the job ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
    const ex = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    const handle = await ex.start(request('j1', 1, ['sh', '-c', 'sleep 0.3']), new AbortController().signal);
    expect(readdirSync(dir)).toEqual(['j1-1']);
    const out = await handle.wait();
    expect(out).toEqual({ kind: 'exited', exitCode: 0 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('kills a recorded group still running (the agent died), and spares a reused pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
    const ex = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    const lines: string[] = [];
    const handle = await ex.start(request('j2', 3, ['sh', '-c', 'sleep 60 & echo $!; wait'], (t) => lines.push(t)), new AbortController().signal);
    const grandchild = Number(await firstLine(lines));
    expect(readdirSync(dir)).toEqual(['j2-3']);
    // A record whose pid now belongs to another process (different start time) must be spared.
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'old-1'), `${bystander.pid} 1\n`);
    // As a restarted agent would: sweep what is recorded.
    expect(await sweepLeftovers(dir, silentLogger())).toBe(1);
    const out = await handle.wait();
    expect(out.kind).toBe('exited');
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(grandchild)).toBe(false);
    expect(alive(bystander.pid!)).toBe(true);
    expect(existsSync(join(dir, 'old-1'))).toBe(false);
    bystander.kill('SIGKILL');
  });

  it('lists the runs still there for a restarted agent, which cannot re-attach to them but can stop them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
    // The agent that started the job (its executor) and the same agent after a restart (a new one).
    const before = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    const after = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    const lines: string[] = [];
    const handle = await before.start(request('j3', 2, ['sh', '-c', 'sleep 60 & echo $!; wait'], (t) => lines.push(t)), new AbortController().signal);
    const grandchild = Number(await firstLine(lines));
    // A record of a run that is gone (its pid now someone else's) is not listed, and dropped.
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'old-1'), `${bystander.pid} 1\n`);
    try {
      const owned = await after.listOwned('agent-1');
      expect(owned).toEqual([{ jobId: 'j3', attempt: 2, ref: handle.ref }]);
      expect(existsSync(join(dir, 'old-1'))).toBe(false);
      expect(await after.attach({ kind: 'subprocess', pid: bystander.pid!, startTime: '1' }, () => undefined)).toEqual({ kind: 'gone' });
      await expect(after.attach({ kind: 'noop' }, () => undefined)).rejects.toThrow('the subprocess executor cannot attach to a noop run');
      const found = await after.attach(owned[0]!.ref, () => undefined);
      expect(found).toMatchObject({ kind: 'not-reattachable', reason: expect.stringContaining('output pipes') });
      if (found.kind !== 'not-reattachable') throw new Error(found.kind);
      await found.stop(1000);
      expect(await handle.wait()).toEqual({ kind: 'exited', exitCode: 143 }); // SIGTERM, from outside its executor
      for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(grandchild)).toBe(false);
      expect(alive(bystander.pid!)).toBe(true);
      expect(await after.listOwned('agent-1')).toEqual([]);
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
