import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@longshore/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUidPool, holderAlive, type UidLease } from './job-uids.js';
import { processStartTime } from './proc-fs.js';
import type { UidReaper } from './uid-reaper.js';

// A reaper that only records: these tests are about the locks, not about killing processes.
function fakeReaper(survivors: Record<number, number[]> = {}): UidReaper & { reaped: number[] } {
  const reaped: number[] = [];
  return { reaped, reap: (uid) => (reaped.push(uid), Promise.resolve(survivors[uid] ?? [])) };
}

/** A "pid start-time" of a process that has exited. */
function deadHolder(): string {
  const child = spawnSync('sh', ['-c', 'echo $$; cut -d" " -f22 /proc/$$/stat'], { encoding: 'utf8' });
  const [pid, since] = child.stdout.trim().split('\n');
  return `${pid} ${since}`;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'job-uids-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('job uid pool', () => {
  it('hands out each uid once across two pools sharing the lock directory (two agents on one host)', async () => {
    const range = { first: 300000, last: 300005 };
    // Two holders that are both alive: this process, under two names the pools cannot tell apart from two agents.
    const me = `${process.pid} ${processStartTime(process.pid)}`;
    const a = await createUidPool({ range, logger: silentLogger(), lockDir: dir, reaper: fakeReaper(), holder: me });
    const b = await createUidPool({ range, logger: silentLogger(), lockDir: dir, reaper: fakeReaper(), holder: me });
    const leases = await Promise.all([a, b, a, b, a, b].map((p) => p.acquire()));
    expect(new Set(leases.map((l) => l.uid)).size).toBe(6);
    expect(leases.every((l) => l.gid === l.uid)).toBe(true);
    await expect(a.acquire()).rejects.toThrow(/no free job uid in LONGSHORE_JOB_UIDS 300000-300005/);
    await expect(b.acquire()).rejects.toThrow(/no free job uid/);
    // Released by one agent, taken by the other.
    const freed = leases[0]!;
    await freed.release();
    expect((await b.acquire()).uid).toBe(freed.uid);
  });

  it('takes over the lock of an agent that is gone, reaping the uid first', async () => {
    writeFileSync(join(dir, '300100'), `${deadHolder()}\n`);
    expect(holderAlive(readFileSync(join(dir, '300100'), 'utf8'))).toBe(false);
    const reaper = fakeReaper();
    const pool = await createUidPool({ range: { first: 300100, last: 300100 }, logger: silentLogger(), lockDir: dir, reaper });
    const lease = await pool.acquire();
    expect(lease.uid).toBe(300100);
    expect(reaper.reaped).toEqual([300100]);
    expect(readFileSync(join(dir, '300100'), 'utf8').trim()).toBe(`${process.pid} ${processStartTime(process.pid)}`);
    await lease.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves a live holder\'s lock alone', async () => {
    const other = `${process.ppid} ${processStartTime(process.ppid)}`;
    writeFileSync(join(dir, '300200'), `${other}\n`);
    const pool = await createUidPool({ range: { first: 300200, last: 300201 }, logger: silentLogger(), lockDir: dir, reaper: fakeReaper() });
    expect((await pool.acquire()).uid).toBe(300201);
    expect(readFileSync(join(dir, '300200'), 'utf8').trim()).toBe(other);
  });

  it('gives a stale lock to only one of many agents taking it over at once', async () => {
    const stale = deadHolder();
    writeFileSync(join(dir, '300300'), `${stale}\n`);
    const holders = [process.pid, process.ppid].map((pid) => `${pid} ${processStartTime(pid)}`);
    const pools = await Promise.all(
      Array.from({ length: 8 }, (_, i) => createUidPool({ range: { first: 300300, last: 300300 }, logger: silentLogger(), lockDir: dir, reaper: fakeReaper(), holder: holders[i % 2]! })),
    );
    const got = await Promise.allSettled(pools.map((p) => p.acquire()));
    expect(got.filter((g) => g.status === 'fulfilled')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['300300']); // no claim or temporary file left behind
  });

  it('quarantines a uid whose processes survive, and never hands it out again', async () => {
    const reaper = fakeReaper({ 300400: [4242] });
    const pool = await createUidPool({ range: { first: 300400, last: 300401 }, logger: silentLogger(), lockDir: dir, reaper });
    const first: UidLease = await pool.acquire();
    expect(first.uid).toBe(300400);
    await first.release();
    // The lock stays held (by this live agent), so no other agent takes it either.
    expect(readFileSync(join(dir, '300400'), 'utf8').trim()).toBe(`${process.pid} ${processStartTime(process.pid)}`);
    expect((await pool.acquire()).uid).toBe(300401);
    await expect(pool.acquire()).rejects.toThrow(/quarantined \(1\)/);
  });
});
