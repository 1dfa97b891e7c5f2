import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { removeStaleCgroups } from './cgroup-v1.js';
import { probeCgroupV1 } from './cgroup-v1-probe.js';
import { wrapInCgroup } from './cgroup-v1-wrapper.js';
import { signalGroup } from './process-group.js';
import { testEnv } from './spec-helpers.js';

const cgroup = await probeCgroupV1();
const skipCgroup = !cgroup.usable && process.env['CI'] !== 'true';
if (!cgroup.usable) console.warn(`cgroup-v1.spec: ${skipCgroup ? 'skipped' : 'will fail (CI=true)'}: ${cgroup.reason}`);

describe.skipIf(skipCgroup)('removeStaleCgroups', () => {
  it('removes the empty cgroups of dead agents, and nothing else', async () => {
    if (!cgroup.usable) throw new Error(`cgroup v1 is required under CI=true: ${cgroup.reason}`);
    const deadPid = spawnSync('true').pid;
    const name = (owner: number, what: string) => `${cgroup.parentDir}/longshore-${owner}-stale-test-${what}-1-000000`;
    const dead = name(deadPid, 'dead');
    const live = name(process.ppid, 'live'); // an agent that is still running
    const busy = name(deadPid, 'busy'); // an orphaned job still runs in it
    for (const dir of [dead, live, busy]) mkdirSync(dir);
    const [file = '', ...args] = wrapInCgroup(`${busy}/cgroup.procs`, ['sleep', '30'], testEnv());
    const orphan = spawn(file, args, { detached: true, stdio: 'ignore', env: testEnv() });
    await once(orphan, 'spawn');
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the wrapper has moved itself in
      expect(await removeStaleCgroups(cgroup.parentDir)).toBeGreaterThanOrEqual(1);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(busy)).toBe(true);
    } finally {
      signalGroup(orphan.pid!, 'SIGKILL');
      await once(orphan, 'exit');
      for (const dir of [live, busy]) rmdirSync(dir);
    }
  });
});
