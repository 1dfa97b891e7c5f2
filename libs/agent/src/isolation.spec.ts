import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadAgentConfig } from '@longshore/config';
import { createLogger } from '@longshore/telemetry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupJobIsolation } from './isolation.js';

/** A logger whose JSON lines the test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: string; msg: string });
      done();
    },
  });
  return { logger: createLogger('agent-test', { level: 'info', destination }), lines };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolation-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const config = (env: NodeJS.ProcessEnv = {}) => loadAgentConfig({ LONGSHORE_AGENT_ID: 'iso-spec', LONGSHORE_HOME: '/nonexistent', LONGSHORE_JOB_DIR: join(dir, 'jobs'), ...env });

describe('job isolation set-up at agent start', () => {
  it('an agent that is not root warns what a job can reach and recommends docker/ecs, and advertises no isolation', async () => {
    const { logger, lines } = capturingLogger();
    const iso = await setupJobIsolation(config(), logger, { uid: 1234 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(iso.users).toBeUndefined();
    expect(iso.info).toMatchObject({ separateUsers: false, jobUids: '', firewall: false });
    expect(iso.info.detail).toMatch(/jobs run as the agent's own user \(uid 1234\); no firewall/);
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg).join('\n');
    expect(warnings).toMatch(/not root \(uid 1234\).*read its environment.*Redis.*docker or ecs executor/s);
    await iso.close();
  });

  it('stops an agent that is not root but was given an explicit uid range, or told the firewall is required', async () => {
    const { logger } = capturingLogger();
    await expect(setupJobIsolation(config({ LONGSHORE_JOB_UIDS: '300000-300100' }), logger, { uid: 1234 })).rejects.toThrow(/LONGSHORE_JOB_UIDS=300000-300100 cannot be honoured: the agent is not root/);
    await expect(setupJobIsolation(config({ LONGSHORE_JOB_FIREWALL: 'on' }), logger, { uid: 1234 })).rejects.toThrow(/LONGSHORE_JOB_FIREWALL=on cannot be honoured/);
  });

  it('warns loudly when job uids or the firewall are switched off', async () => {
    const { logger, lines } = capturingLogger();
    const iso = await setupJobIsolation(config({ LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off' }), logger);
    await new Promise((resolve) => setImmediate(resolve));
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings.some((m) => m.startsWith('LONGSHORE_JOB_UIDS=off'))).toBe(true);
    expect(warnings.some((m) => m.startsWith('LONGSHORE_JOB_FIREWALL=off'))).toBe(true);
    expect(iso.info).toMatchObject({ separateUsers: false, firewall: false });
    await iso.close();
  });

  it('makes the job directory passable but not listable, and its leftover notes private', async () => {
    const { logger } = capturingLogger();
    const iso = await setupJobIsolation(config({ LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off' }), logger);
    expect(statSync(join(dir, 'jobs')).mode & 0o777).toBe(0o711);
    expect(statSync(join(dir, 'jobs', '.running')).mode & 0o777).toBe(0o700);
    await iso.close();
  });

  it('says at start and in its detail when subprocess runs cannot get cgroups of their own, and what that leaves open', async () => {
    const { logger, lines } = capturingLogger();
    const paths = { mountinfo: join(dir, 'mountinfo'), selfCgroup: join(dir, 'cgroup') };
    writeFileSync(paths.mountinfo, '22 1 0:21 / /proc rw - proc proc rw\n');
    writeFileSync(paths.selfCgroup, '0::/\n');
    const iso = await setupJobIsolation(config({ LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off' }), logger, { cgroupPaths: paths });
    await new Promise((resolve) => setImmediate(resolve));
    expect(iso.cgroups).toBeUndefined();
    expect(iso.info.detail).toMatch(/; no cgroup per run \(no cgroup v1 freezer hierarchy is mounted; no cgroup v2 hierarchy is mounted\): processes a job starts outside its process group \(setsid, double fork\) outlive its run$/);
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings.some((m) => m.startsWith('no cgroup per subprocess run: processes a job starts outside its process group'))).toBe(true);
    // An agent without the subprocess executor makes none and says nothing of them.
    const docker = await setupJobIsolation(config({ LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off', LONGSHORE_EXECUTORS: 'docker', LONGSHORE_DEFAULT_EXECUTOR: 'docker' }), logger, { cgroupPaths: paths });
    expect(docker.info.detail).not.toMatch(/cgroup/);
    await iso.close();
    await docker.close();
  });

  it.skipIf(process.getuid?.() !== 0)('as root, gives each subprocess run a cgroup of its own and says so', async () => {
    const { logger } = capturingLogger();
    const iso = await setupJobIsolation(config({ LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'off' }), logger);
    try {
      expect(iso.cgroups?.parentDir).toMatch(/\/longshore-agent-iso-spec-[0-9a-f]{8}$/);
      expect(iso.info.detail).toMatch(/; each run in a cgroup v(1 freezer|2) cgroup of its own, all of whose processes are killed when it ends; CPU limits (enforced as CFS quotas|not enforced \(.+\))$/);
    } finally {
      await iso.close();
    }
    expect(iso.cgroups && existsSync(iso.cgroups.parentDir)).toBe(false); // removed when the agent stops
  });

  it.skipIf(process.getuid?.() !== 0)('as root, refuses a job directory under one that job uids cannot pass, naming the fix', async () => {
    const { logger } = capturingLogger();
    // mkdtemp made `dir` 0700: jobs running as their own uids could not reach their directories.
    await expect(setupJobIsolation(config({ LONGSHORE_JOB_FIREWALL: 'off' }), logger)).rejects.toThrow(/LONGSHORE_JOB_DIR=.* is under .*, which other users cannot enter.*chmod o\+x/);
  });
});
