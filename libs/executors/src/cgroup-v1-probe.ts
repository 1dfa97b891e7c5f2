import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { WRAPPER_SHELL } from './cgroup-v1-wrapper.js';
import { errnoCode } from './proc-fs.js';
import { findCgroupMount, ownCgroup } from './run-cgroup.js';

/** Where per-run memory cgroups can be created, or why they cannot. */
export type CgroupV1Probe = { usable: true; parentDir: string } | { usable: false; reason: string };

/** Where the files the probe reads live; tests point them at fixtures. */
export interface CgroupV1ProbePaths {
  mountinfo: string;
  selfCgroup: string;
}

const SELF: CgroupV1ProbePaths = { mountinfo: '/proc/self/mountinfo', selfCgroup: '/proc/self/cgroup' };

/** The cgroup v1 memory hierarchy in `/proc/self/mountinfo` (proc(5)); see {@link findCgroupMount}. */
export function findMemoryMount(mountinfo: string): { root: string; mountPoint: string } | undefined {
  const m = findCgroupMount(mountinfo, 'memory');
  return m && { root: m.root, mountPoint: m.mountPoint };
}

/** The agent's own memory cgroup path from `/proc/self/cgroup` (`4:memory:/some/path`). */
export function ownMemoryCgroup(selfCgroup: string): string | undefined {
  return ownCgroup(selfCgroup, 'memory');
}

/**
 * Checks whether memory cgroups can be created for jobs: a cgroup v1 memory hierarchy is
 * mounted, the agent's own cgroup in it is visible and writable, and the kernel reports OOM
 * kills in `memory.oom_control` (Linux ≥ 4.13), and `/bin/sh` is there to start jobs inside
 * their cgroup. Job cgroups go *under the agent's own cgroup*,
 * so jobs stay inside whatever limits the agent's container or service already has.
 * It proves this by creating and removing a throwaway cgroup; it never throws.
 */
export async function probeCgroupV1(paths: CgroupV1ProbePaths = SELF): Promise<CgroupV1Probe> {
  let mountinfo: string;
  let selfCgroup: string;
  try {
    [mountinfo, selfCgroup] = await Promise.all([readFile(paths.mountinfo, 'utf8'), readFile(paths.selfCgroup, 'utf8')]);
  } catch (err) {
    return { usable: false, reason: `cannot read ${paths.mountinfo} or ${paths.selfCgroup}: ${describe(err)}` };
  }
  const mount = findMemoryMount(mountinfo);
  if (mount === undefined) return { usable: false, reason: 'no cgroup v1 memory hierarchy is mounted' };
  const own = ownMemoryCgroup(selfCgroup);
  if (own === undefined) return { usable: false, reason: `${paths.selfCgroup} names no memory cgroup` };
  const rel = posix.relative(mount.root, own);
  if (rel === '..' || rel.startsWith('../')) {
    return { usable: false, reason: `the agent's memory cgroup ${own} is outside the mounted hierarchy (${mount.root})` };
  }
  const parentDir = posix.join(mount.mountPoint, rel);
  try {
    await access(WRAPPER_SHELL, constants.X_OK);
  } catch (err) {
    return { usable: false, reason: `${WRAPPER_SHELL}, which moves jobs into their cgroup, cannot be executed: ${describe(err)}` };
  }
  const problem = await tryCgroup(parentDir);
  return problem === undefined ? { usable: true, parentDir } : { usable: false, reason: problem };
}

/** Creates, limits and removes a throwaway cgroup under `parentDir`; returns what went wrong. */
async function tryCgroup(parentDir: string): Promise<string | undefined> {
  const dir = `${parentDir}/longshore-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await mkdir(dir);
  } catch (err) {
    return `cannot create a memory cgroup under ${parentDir}: ${describe(err)}`;
  }
  try {
    await writeFile(`${dir}/memory.limit_in_bytes`, String(1024 ** 3));
    const oomControl = await readFile(`${dir}/memory.oom_control`, 'utf8');
    if (!/^oom_kill \d+$/m.test(oomControl)) return 'memory.oom_control has no oom_kill counter (Linux < 4.13)';
    return undefined;
  } catch (err) {
    return `cannot set a memory limit in ${dir}: ${describe(err)}`;
  } finally {
    await rmdir(dir).catch(() => undefined); // empty and never used: nothing keeps it busy
  }
}


function describe(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
}
