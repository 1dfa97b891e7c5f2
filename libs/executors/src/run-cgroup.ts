import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, isGoneError } from './proc-fs.js';

/**
 * A cgroup of one subprocess run: every process of the job is in it, whatever it does with its
 * process group or session (`setsid`, double fork), so the agent can find and kill them all
 * when the run ends. It limits nothing (the memory limit has its own cgroup, see cgroup-v1.ts).
 */
export interface RunCgroup {
  readonly dir: string;
  /** Moves `pid` into the cgroup (the agent does it, before the job's wrapper may exec the job). */
  add(pid: number): Promise<void>;
  /** Kills every process left in the cgroup and removes it; returns the problem when it could not. Never rejects. */
  close(): Promise<string | undefined>;
}

/** The per-run cgroups of one agent: all under one cgroup named after the agent id. */
export interface RunCgroups {
  /** How processes are tracked, for messages: `cgroup v1 freezer` or `cgroup v2`. */
  readonly kind: string;
  /** The agent's cgroup that holds its runs' cgroups (`…/longshore-agent-<agent id>-<job dir hash>`). */
  readonly parentDir: string;
  /**
   * How a run's CPU limit is enforced (a CFS quota), or why it cannot be here (then runs get no
   * CPU limit): `{ enforced: false, reason }`.
   */
  readonly cpuLimits: { enforced: true } | { enforced: false; reason: string };
  /**
   * Creates the cgroup of one run, with a CPU quota of `cpusMilli` thousandths of a CPU where
   * {@link cpuLimits} are enforced. Rejects when it cannot (the run must not start).
   */
  create(jobId: string, attempt: number, cpusMilli?: number): Promise<RunCgroup>;
  /**
   * Kills what is in the cgroups an earlier life of this agent left (it was killed outright) and
   * removes them; returns how many it removed and the problems it met.
   */
  sweep(): Promise<{ removed: number; problems: string[] }>;
  /** Removes the agent's own cgroup once it holds no run cgroup (the agent stops); never rejects. */
  remove(): Promise<void>;
}

/** Where run cgroups can be made, or why not. */
export type RunCgroupsProbe = { usable: true; cgroups: RunCgroups } | { usable: false; reason: string };

/** Where the probe reads what is mounted and which cgroups the agent is in; tests point them at fixtures. */
export interface RunCgroupPaths {
  mountinfo: string;
  selfCgroup: string;
}

const SELF: RunCgroupPaths = { mountinfo: '/proc/self/mountinfo', selfCgroup: '/proc/self/cgroup' };

// How long closing a run's cgroup keeps killing and retrying rmdir (EBUSY while processes die).
const CLOSE_WITHIN_MS = 5000;
// How long to wait for a v1 freezer to reach FROZEN (a process in uninterruptible sleep delays it).
const FREEZE_WITHIN_MS = 1000;

/** A cgroup mount found in mountinfo: which version, its root in the hierarchy and where it is mounted. */
export interface CgroupMount {
  version: 1 | 2;
  root: string;
  mountPoint: string;
}

/**
 * The cgroup v1 hierarchy with `controller` (mount type `cgroup`, the controller in its super
 * options), or with `controller` undefined the cgroup v2 hierarchy (type `cgroup2`), from
 * `/proc/self/mountinfo` (proc(5)).
 */
export function findCgroupMount(mountinfo: string, controller: string | undefined): CgroupMount | undefined {
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const [fsType, , superOptions = ''] = right.split(' ');
    const fields = left.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (controller === undefined ? fsType === 'cgroup2' : fsType === 'cgroup' && superOptions.split(',').includes(controller)) {
      return { version: controller === undefined ? 2 : 1, root: unescape(root), mountPoint: unescape(mountPoint) };
    }
  }
  return undefined;
}

/** The agent's own cgroup path in the v1 hierarchy of `controller`, or (undefined) in the v2 one (`0::/path`). */
export function ownCgroup(selfCgroup: string, controller: string | undefined): string | undefined {
  for (const line of selfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    if (controller === undefined ? match[1] === '0' && match[2] === '' : match[2]?.split(',').includes(controller)) return match[3];
  }
  return undefined;
}

/**
 * The name of the cgroup that holds all run cgroups of agent `agentId` (ids are `[A-Za-z0-9._-]`)
 * whose job directory is `jobDir`: the directory is part of an agent's identity on a host too
 * (its leftover notes live there), so two agents of the same id with job directories of their
 * own (test clusters side by side) never sweep each other's runs.
 */
export function agentCgroupName(agentId: string, jobDir?: string): string {
  const dir = jobDir === undefined ? '' : `-${createHash('sha256').update(jobDir).digest('hex').slice(0, 8)}`;
  return `longshore-agent-${safeName(agentId)}${dir}`;
}

/**
 * Finds where this agent can make a cgroup per run, under its own cgroup: cgroup v1's freezer
 * hierarchy (freeze, kill, thaw: nothing can fork while it is killed), else cgroup v2 (its
 * `cgroup.kill`, Linux ≥ 5.14). It creates the agent's cgroup `name` (see {@link agentCgroupName})
 * and a throwaway run cgroup in it to prove it may; it never throws.
 */
export async function probeRunCgroups(name: string, paths: RunCgroupPaths = SELF): Promise<RunCgroupsProbe> {
  let mountinfo: string;
  let selfCgroup: string;
  try {
    [mountinfo, selfCgroup] = await Promise.all([readFile(paths.mountinfo, 'utf8'), readFile(paths.selfCgroup, 'utf8')]);
  } catch (err) {
    return { usable: false, reason: `cannot read ${paths.mountinfo} or ${paths.selfCgroup}: ${describe(err)}` };
  }
  const problems: string[] = [];
  for (const controller of ['freezer', undefined]) {
    const place = cgroupUnderAgent(mountinfo, selfCgroup, controller, name);
    if ('reason' in place) {
      problems.push(place.reason);
      continue;
    }
    const cgroups = place.version === 1 ? new FreezerCgroups(place.dir, cpuParentV1(mountinfo, selfCgroup, name)) : new V2Cgroups(place.dir);
    const problem = await cgroups.check();
    if (problem === undefined) return { usable: true, cgroups };
    problems.push(problem);
  }
  return { usable: false, reason: problems.join('; ') };
}

/**
 * Where cgroup `name` goes under the agent's own cgroup, in the v1 hierarchy of `controller` or
 * (undefined) in cgroup v2, or why it cannot go there.
 */
function cgroupUnderAgent(mountinfo: string, selfCgroup: string, controller: string | undefined, name: string): { dir: string; version: 1 | 2 } | { reason: string } {
  const mount = findCgroupMount(mountinfo, controller);
  const what = controller === undefined ? 'cgroup v2' : `cgroup v1 ${controller}`;
  if (mount === undefined) return { reason: `no ${what} hierarchy is mounted` };
  const own = ownCgroup(selfCgroup, controller);
  const rel = own === undefined ? undefined : posix.relative(mount.root, own);
  if (rel === undefined || rel === '..' || rel.startsWith('../')) return { reason: `the agent's ${what} cgroup ${own ?? '(none)'} is not under the mounted hierarchy (${mount.root})` };
  return { dir: posix.join(mount.mountPoint, rel, safeName(name)), version: mount.version };
}

/** Where the agent's run cgroups go in the v1 `cpu` hierarchy (CPU quotas), or why there are none. */
function cpuParentV1(mountinfo: string, selfCgroup: string, name: string): string | { reason: string } {
  const place = cgroupUnderAgent(mountinfo, selfCgroup, 'cpu', name);
  return 'reason' in place ? place : place.dir;
}

/** The CFS period of CPU quotas: 100 ms, the kernel's default. */
const CPU_PERIOD_US = 100_000;

/** A quota of `cpusMilli` thousandths of a CPU per {@link CPU_PERIOD_US} (at least the kernel's 1 ms). */
export function cpuQuotaUs(cpusMilli: number): number {
  return Math.max(1000, Math.round((cpusMilli * CPU_PERIOD_US) / 1000));
}

/** What v1 and v2 share: naming, creating, closing and sweeping; they differ in how they kill. */
abstract class CgroupsBase implements RunCgroups {
  abstract readonly kind: string;
  cpuLimits: RunCgroups['cpuLimits'] = { enforced: false, reason: 'not probed' };
  constructor(readonly parentDir: string) {}

  /** Sets up CPU quotas for runs (at probe time); the reason when they cannot be enforced. */
  protected abstract setUpCpu(): Promise<string | undefined>;
  /** Limits the run cgroup `dir` (made by {@link create}) to `cpusMilli`; returns what else to add pids to and remove. */
  protected abstract limitCpu(dir: string, leaf: string, cpusMilli: number): Promise<string | undefined>;

  /** Kills every process in `dir` once (they may still be dying when it returns). */
  protected abstract killAll(dir: string): Promise<void>;
  /** A file every run cgroup of this kind must have. */
  protected abstract readonly requiredFile: string;

  async check(): Promise<string | undefined> {
    try {
      await mkdir(this.parentDir, { recursive: true });
    } catch (err) {
      return `cannot create ${this.kind} cgroup ${this.parentDir}: ${describe(err)}`;
    }
    let run: RunCgroup;
    try {
      run = await this.create('probe', 0);
    } catch (err) {
      return `cannot create a ${this.kind} cgroup under ${this.parentDir}: ${describe(err)}`;
    }
    try {
      await access(`${run.dir}/${this.requiredFile}`);
      const cpu = await this.setUpCpu().catch((err: unknown) => describe(err));
      this.cpuLimits = cpu === undefined ? { enforced: true } : { enforced: false, reason: cpu };
      return undefined;
    } catch (err) {
      return `${this.kind} cgroup ${run.dir} has no ${this.requiredFile} (${describe(err)})${this.kind === 'cgroup v2' ? ': Linux ≥ 5.14 is needed' : ''}`;
    } finally {
      await run.close();
    }
  }

  async create(jobId: string, attempt: number, cpusMilli?: number): Promise<RunCgroup> {
    const leaf = `${safeName(jobId).slice(0, 100)}-${attempt}-${randomBytes(3).toString('hex')}`;
    const dir = `${this.parentDir}/${leaf}`;
    await mkdir(dir);
    let cpuDir: string | undefined;
    if (cpusMilli !== undefined && this.cpuLimits.enforced) {
      try {
        cpuDir = await this.limitCpu(dir, leaf, cpusMilli);
      } catch (err) {
        await this.close(dir);
        throw err;
      }
    }
    return {
      dir,
      add: async (pid) => {
        await writeFile(`${dir}/cgroup.procs`, String(pid));
        if (cpuDir !== undefined) await writeFile(`${cpuDir}/cgroup.procs`, String(pid));
      },
      close: async () => {
        const problem = await this.close(dir);
        // Its processes are gone with the run's cgroup: the CPU one is empty now.
        if (cpuDir !== undefined) await rmdirWhenEmpty(cpuDir);
        return problem;
      },
    };
  }

  async sweep(): Promise<{ removed: number; problems: string[] }> {
    let names: string[];
    try {
      names = (await readdir(this.parentDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { removed: 0, problems: [] };
      return { removed: 0, problems: [`cannot list ${this.parentDir}: ${describe(err)}`] };
    }
    let removed = 0;
    const problems: string[] = [];
    for (const name of names) {
      const problem = await this.close(`${this.parentDir}/${name}`);
      if (problem === undefined) removed++;
      else problems.push(problem);
    }
    return { removed, problems };
  }

  async remove(): Promise<void> {
    await rmdir(this.parentDir).catch(() => undefined); // busy: a run's cgroup is still there (swept at the next start)
  }

  /** Kills what is in `dir` until it is empty, then removes it; the problem when it could not. */
  private async close(dir: string): Promise<string | undefined> {
    const deadline = Date.now() + CLOSE_WITHIN_MS;
    for (;;) {
      try {
        if ((await pidsIn(dir)).length > 0) await this.killAll(dir);
        await rmdir(dir);
        return undefined;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return undefined;
        if (errnoCode(err) !== 'EBUSY' || Date.now() > deadline) {
          const left = await pidsIn(dir).catch(() => []);
          return `could not remove cgroup ${dir}${left.length > 0 ? ` (processes ${left.join(', ')} are still in it)` : ''}: ${describe(err)}`;
        }
        await sleep(20);
      }
    }
  }
}

/** cgroup v1, freezer hierarchy: freeze (nothing in it can fork any more), SIGKILL each process, thaw. */
class FreezerCgroups extends CgroupsBase {
  readonly kind = 'cgroup v1 freezer';
  protected readonly requiredFile = 'freezer.state';

  /** `cpu`: where CPU quotas go, a parallel cgroup per run in the v1 cpu hierarchy. */
  constructor(
    parentDir: string,
    private readonly cpu: string | { reason: string },
  ) {
    super(parentDir);
  }

  protected async setUpCpu(): Promise<string | undefined> {
    if (typeof this.cpu !== 'string') return this.cpu.reason;
    await mkdir(this.cpu, { recursive: true });
    // What an earlier life of this agent left: empty by now (their processes were killed with their run cgroups).
    for (const e of await readdir(this.cpu, { withFileTypes: true })) if (e.isDirectory()) await rmdir(`${this.cpu}/${e.name}`).catch(() => undefined);
    await access(`${this.cpu}/cpu.cfs_quota_us`);
    return undefined;
  }

  protected async limitCpu(_dir: string, leaf: string, cpusMilli: number): Promise<string> {
    const dir = `${this.cpu as string}/${leaf}`;
    await mkdir(dir);
    try {
      await writeFile(`${dir}/cpu.cfs_period_us`, String(CPU_PERIOD_US));
      await writeFile(`${dir}/cpu.cfs_quota_us`, String(cpuQuotaUs(cpusMilli)));
    } catch (err) {
      await rmdir(dir).catch(() => undefined);
      throw err;
    }
    return dir;
  }

  protected async killAll(dir: string): Promise<void> {
    const state = `${dir}/freezer.state`;
    await writeFile(state, 'FROZEN');
    try {
      // FREEZING until every process is frozen; one stuck in the kernel may keep it there, and
      // SIGKILL is still the best that can be done then.
      const deadline = Date.now() + FREEZE_WITHIN_MS;
      while ((await readFile(state, 'utf8')).trim() !== 'FROZEN' && Date.now() < deadline) await sleep(5);
      for (const pid of await pidsIn(dir)) kill(pid);
    } finally {
      await writeFile(state, 'THAWED'); // the kills are delivered as the processes thaw
    }
  }
}

/** cgroup v2: `cgroup.kill` SIGKILLs every process in the cgroup, atomically with respect to forks. */
class V2Cgroups extends CgroupsBase {
  readonly kind = 'cgroup v2';
  protected readonly requiredFile = 'cgroup.kill';

  protected async setUpCpu(): Promise<string | undefined> {
    // Run cgroups get the cpu controller only if their parent hands it down.
    try {
      await writeFile(`${this.parentDir}/cgroup.subtree_control`, '+cpu');
      return undefined;
    } catch (err) {
      return `cannot enable the cpu controller in ${this.parentDir}/cgroup.subtree_control: ${describe(err)}`;
    }
  }

  protected async limitCpu(dir: string, _leaf: string, cpusMilli: number): Promise<undefined> {
    await writeFile(`${dir}/cpu.max`, `${cpuQuotaUs(cpusMilli)} ${CPU_PERIOD_US}`);
    return undefined;
  }

  protected async killAll(dir: string): Promise<void> {
    await writeFile(`${dir}/cgroup.kill`, '1');
  }
}

/** Removes an empty cgroup, waiting briefly while its last processes finish dying (EBUSY); never rejects. */
async function rmdirWhenEmpty(dir: string): Promise<void> {
  const deadline = Date.now() + CLOSE_WITHIN_MS;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      if (errnoCode(err) !== 'EBUSY' || Date.now() > deadline) return;
      await sleep(20);
    }
  }
}

async function pidsIn(dir: string): Promise<number[]> {
  try {
    return (await readFile(`${dir}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch (err) {
    if (isGoneError(err)) return [];
    throw err;
  }
}

function kill(pid: number): void {
  if (pid === process.pid) return; // never the agent, whatever the file says
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if (!isGoneError(err)) throw err;
  }
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function describe(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
}
