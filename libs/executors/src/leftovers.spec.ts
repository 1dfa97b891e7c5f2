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

describe('leftover job processes', () => {
  it('notes a running job\'s process group and forgets it when the job ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
    const ex = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    let seen: string[] = [];
    const out = await ex.run({
      jobId: 'j1',
      attempt: 1,
      command: ['sh', '-c', 'sleep 0.3'],
      env: { PATH: process.env['PATH']! },
      timeoutMs: 0,
      signal: new AbortController().signal,
      onLine: () => undefined,
    }).finally(() => undefined);
    seen = readdirSync(dir);
    expect(out).toEqual({ kind: 'exited', exitCode: 0 });
    expect(seen).toEqual([]);
  });

  it('kills a recorded group still running (the agent died), and spares a reused pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
    const ex = createSubprocessExecutor({ stateDir: dir, memoryLimiter: 'none' });
    const controller = new AbortController();
    const lines: string[] = [];
    const run = ex.run({
      jobId: 'j2',
      attempt: 3,
      command: ['sh', '-c', 'sleep 60 & echo $!; wait'],
      env: { PATH: process.env['PATH']! },
      timeoutMs: 0,
      signal: controller.signal,
      onLine: (_s, t) => lines.push(t),
    });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    const grandchild = Number(lines[0]);
    expect(readdirSync(dir)).toEqual(['j2-3']);
    // A record whose pid now belongs to another process (different start time) must be spared.
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    writeFileSync(join(dir, 'old-1'), `${bystander.pid} 1\n`);
    // As a restarted agent would: sweep what is recorded.
    expect(await sweepLeftovers(dir, silentLogger())).toBe(1);
    const out = await run;
    expect(out.kind).toBe('exited');
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(grandchild)).toBe(false);
    expect(alive(bystander.pid!)).toBe(true);
    expect(existsSync(join(dir, 'old-1'))).toBe(false);
    bystander.kill('SIGKILL');
  });
});
