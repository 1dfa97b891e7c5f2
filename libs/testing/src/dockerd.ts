import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { trackPid, untrackPid } from './exit-guard.js';
import { processGone } from './proc.js';
import { startProcess, type ProcessHandle } from './process-handle.js';
import { waitFor } from './wait-for.js';

/** A private Docker engine started by {@link startDockerd}. */
export interface DockerdHandle {
  /** `unix:///…/d.sock`, for DOCKER_HOST or dockerode's `socketPath` (see {@link socketPath}). */
  readonly host: string;
  readonly socketPath: string;
  /** The dockerd process. */
  readonly pid: number;
  /** Its own temp dir: data root, exec root, pidfile and socket all live here. */
  readonly dir: string;
  /**
   * SIGTERM by pid (dockerd stops its containers and its containerd), SIGKILL after the grace,
   * then kills by pid whatever of its containerd and shims is left, unmounts what is still
   * mounted under {@link dir} and removes it. Idempotent: a second call returns the first's promise.
   */
  stop(): Promise<void>;
}

/** How {@link startDockerd} runs the engine. */
export interface DockerdOptions {
  /** How long the engine may take to answer `/_ping` (default 60 s: a sanity bound). */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 20 s: dockerd stops its containers first). */
  stopGraceMs?: number;
}

/**
 * No engine can be started here at all (no dockerd binary, not root): tests may skip on this
 * (never under CI=true), unlike a dockerd that is there but fails, which is a real error.
 */
export class DockerUnavailableError extends Error {
  override readonly name = 'DockerUnavailableError';
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
/** How long its containerd may outlive dockerd before it is SIGKILLed. */
const CONTAINERD_GRACE_MS = 10_000;
/** sun_path holds 108 bytes; containerd's ttrpc socket is the longest path under the dir. */
const MAX_DIR_LENGTH = 60;
const TAIL_LINES = 30;
/** The exec root's name in the engine's dir: short, as its containerd's sockets live under it. */
const EXEC_ROOT = 'x';
/** Where containerd 1.6 shims put their sockets, whatever containerd started them. */
const SHIM_SOCKET_DIR = '/run/containerd/s/';

/**
 * Starts a private dockerd as root, in a fresh temp dir: its own data root (vfs storage: plain
 * directories, no overlay mounts), exec root, pidfile, config file (so /etc/docker/daemon.json is
 * not read) and unix socket, never /var/run/docker.sock and no TCP; no iptables rules, no bridge
 * (containers use `NetworkMode: 'none'` or `host`), no ip_forward change. Its containerd runs in a
 * namespace of its own, so even a dockerd that found a system containerd shares nothing with it.
 * Resolves once the engine answers `/_ping`. Always `stop()` it (e.g. in afterAll).
 * Throws {@link DockerUnavailableError} without dockerd or root.
 */
export async function startDockerd(opts: DockerdOptions = {}): Promise<DockerdHandle> {
  const binary = findDockerd();
  if (process.getuid?.() !== 0) {
    throw new DockerUnavailableError('dockerd needs root: run the Docker tests as root (CI does)');
  }
  const dir = await mkdtemp(join(shortTmpdir(), 'lsd-'));
  const paths = { config: join(dir, 'daemon.json'), data: join(dir, 'data'), exec: join(dir, EXEC_ROOT), socket: join(dir, 'd.sock') };
  await writeFile(paths.config, '{}\n');
  await mkdir(paths.data);
  await mkdir(paths.exec);
  const ns = `longshore-${randomBytes(4).toString('hex')}`;
  const args = [
    '--config-file', paths.config,
    '--data-root', paths.data,
    '--exec-root', paths.exec,
    '--pidfile', join(dir, 'dockerd.pid'),
    '--host', `unix://${paths.socket}`,
    '--storage-driver', 'vfs',
    '--iptables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none', '--userland-proxy=false',
    '--containerd-namespace', ns, '--containerd-plugins-namespace', `${ns}-plugins`,
    // Its containers' cgroups under one parent of its own, so stop() finds whatever a crash left.
    '--cgroup-parent', `/${ns}`,
  ];
  let proc: ProcessHandle;
  try {
    proc = startProcess({ name: 'dockerd', command: binary, args, cwd: dir });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const engine = new Dockerd(dir, paths.socket, ns, proc, opts.stopGraceMs ?? STOP_GRACE_MS);
  try {
    await engine.waitReady(opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
    return engine;
  } catch (err) {
    await engine.stop().catch(() => undefined);
    throw err;
  }
}

class Dockerd implements DockerdHandle {
  readonly host: string;
  #containerdPid: number | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly socketPath: string,
    /** Its containerd namespace, also the name of its containers' parent cgroup. */
    private readonly ns: string,
    private readonly proc: ProcessHandle,
    private readonly graceMs: number,
  ) {
    this.host = `unix://${socketPath}`;
  }

  get pid(): number {
    return this.proc.pid;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    // Imported here: dockerode takes a while to load, and most users of this lib never need it.
    const { default: Docker } = await import('dockerode');
    const docker = new Docker({ socketPath: this.socketPath });
    try {
      await waitFor(
        async () => {
          if (this.proc.exited) throw new Error('exited');
          await docker.ping();
          return true;
        },
        { timeoutMs, intervalMs: 100, what: 'dockerd to answer /_ping' },
      );
    } catch (err) {
      if (this.proc.exited) await this.proc.waitForExit().catch(() => undefined); // let its output drain
      const why = this.proc.exited ? 'exited during startup' : `did not answer /_ping within ${timeoutMs}ms`;
      throw new Error(`dockerd (pid ${this.pid}, dir ${this.dir}) ${why}; its last output:\n${tail(this.proc)}`, { cause: err });
    }
    // The containerd dockerd started for itself: watched, so a SIGKILLed dockerd cannot leave it behind.
    this.#containerdPid = await readPid(join(this.dir, EXEC_ROOT, 'containerd', 'containerd.pid'));
    if (this.#containerdPid !== undefined) trackPid(this.#containerdPid);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const errors: unknown[] = [];
    await this.proc.stop(this.graceMs).catch((err: unknown) => errors.push(err));
    // It normally exits with dockerd; one that lingers is ours only if its command line names our dir.
    const containerd = this.#containerdPid;
    if (containerd !== undefined) {
      await waitFor(() => processGone(containerd), { timeoutMs: CONTAINERD_GRACE_MS, what: 'containerd to exit' }).catch(() => killOurs(containerd, this.dir));
      untrackPid(containerd);
    }
    // Shims outlive a SIGKILLed containerd; theirs name its socket under our dir. A killed shim
    // leaves its socket in /run/containerd/s (shared by every containerd): remove the ones ours held.
    const shims = pidsNaming(join(this.dir, EXEC_ROOT, 'containerd'));
    const shimSockets = shims.flatMap(socketFilesOf).filter((p) => p.startsWith(SHIM_SOCKET_DIR));
    for (const pid of shims) killOurs(pid, this.dir);
    try {
      await Promise.all(shimSockets.map((p) => rm(p, { force: true })));
      // A container whose shim died keeps running: its processes are in our cgroups, and only ours are.
      await removeCgroups(this.ns);
      await unmountUnder(this.dir);
      await rm(this.dir, { recursive: true, force: true });
    } catch (err) {
      errors.push(err);
    }
    if (errors.length > 0) throw new AggregateError(errors, `stopping dockerd (pid ${this.pid}, dir ${this.dir}) failed`);
  }
}

/**
 * The dockerd to run: `LONGSHORE_DOCKERD` when set (and only it), else `dockerd` on PATH, then
 * in /usr/sbin and /usr/bin (where Debian's docker.io puts it, and a non-root PATH may lack).
 * Throws {@link DockerUnavailableError} naming the fix.
 */
export function findDockerd(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env['LONGSHORE_DOCKERD'];
  const path = env['PATH'] ?? '';
  const candidates = chosen ? [chosen] : [...path.split(delimiter).filter((d) => d !== '').map((d) => join(d, 'dockerd')), '/usr/sbin/dockerd', '/usr/bin/dockerd'];
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here; keep looking.
    }
  }
  throw new DockerUnavailableError(
    chosen
      ? `LONGSHORE_DOCKERD=${chosen} is not an executable file: point it at dockerd, or unset it to look on PATH`
      : 'dockerd not found on PATH or in /usr/sbin, /usr/bin: run bash scripts/install.sh (it installs docker.io)',
  );
}

/** os.tmpdir(), unless its path is too long for the unix sockets under it (then /tmp). */
function shortTmpdir(): string {
  const dir = tmpdir();
  return dir.length + '/lsd-XXXXXX'.length <= MAX_DIR_LENGTH ? dir : '/tmp';
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Pids whose command line contains `text`. */
function pidsNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid && cmdline(pid).includes(text));
}

/**
 * The paths of the unix sockets `pid` holds open: its socket fds' inodes, looked up in
 * /proc/net/unix (columns: Num RefCount Protocol Flags Type St Inode Path).
 */
export function socketFilesOf(pid: number): string[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkOr(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined) inodes.add(inode);
    }
  } catch {
    return []; // gone
  }
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[6] !== undefined && inodes.has(f[6]) && f[7]?.startsWith('/'))
    .map((f) => f[7] as string);
}

function readlinkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** SIGKILLs `pid` if it still runs and its command line names `dir` (so a reused pid is spared). */
function killOurs(pid: number, dir: string): void {
  if (processGone(pid) || !cmdline(pid).includes(dir)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

/**
 * SIGKILLs every process in cgroup `/<name>` and below, in each hierarchy (cgroup v1 controllers
 * or the v2 root), then removes those cgroups, deepest first. Empty ones are removed too: runc
 * leaves the parent behind even when every container ended well.
 */
async function removeCgroups(name: string): Promise<void> {
  const root = '/sys/fs/cgroup';
  const hierarchies = [root, ...readdirSync(root).map((d) => join(root, d))];
  const dirs = hierarchies.flatMap((h) => subtree(join(h, name))).sort((a, b) => b.length - a.length);
  const procs = (dir: string): number[] => {
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
    } catch {
      return [];
    }
  };
  for (const pid of new Set(dirs.flatMap(procs))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  await waitFor(() => dirs.every((d) => procs(d).length === 0), { timeoutMs: 10_000, what: `the processes of cgroup /${name} to die` });
  for (const dir of dirs) await rmdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
}

/** `dir` and every directory below it, or nothing when `dir` is not a directory. */
function subtree(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [dir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => subtree(join(dir, e.name)))];
}

/**
 * Unmounts every mount point under `dir`, deepest first (a shim killed mid-run can leave a
 * container's rootfs or /dev/shm mounted); lazily when a plain unmount is refused.
 */
async function unmountUnder(dir: string): Promise<void> {
  const run = promisify(execFile);
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await run('umount', [point]).catch(() => run('umount', ['-l', point]));
  }
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMount(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

function tail(proc: ProcessHandle): string {
  const lines = proc.lines.slice(-TAIL_LINES);
  return lines.length === 0 ? '(no output)' : lines.join('\n');
}
