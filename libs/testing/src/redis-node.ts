import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, type ProcessHandle } from './process-handle.js';
import { findRedisServer, ping } from './redis-server.js';
import { sleep } from './wait-for.js';

/**
 * One process of a Redis Cluster or Sentinel set-up (see redis-cluster.ts, redis-sentinel.ts):
 * a `redis-server` (or `redis-server --sentinel`) on a free loopback port, in a dir it shares
 * with the others, stopped by pid.
 */
export interface RedisNodeHandle {
  readonly port: number;
  /** The pid of its process. */
  readonly pid: number;
  /** Whether its process has exited (killed, crashed or stopped). */
  readonly exited: boolean;
  /** The last lines its current process printed (its log), for diagnostics. */
  tail(lines?: number): string;
  /** SIGTERM, wait up to 10 s, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would, and wait for the exit. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port with the same config plus `extraArgs` (stopping it first if
   * it still runs), e.g. a killed master coming back as a replica: `['--replicaof', '127.0.0.1', PORT]`.
   */
  restart(extraArgs?: string[]): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 4;

/** What one node runs: its config file's text (0600; it may hold a password) and extra arguments. */
export interface NodeLaunch {
  /** For messages and file names, e.g. `cluster-1`, `sentinel-2`. */
  name: string;
  dir: string;
  config: (port: number) => string;
  args?: string[];
  sentinel?: boolean;
  /** Password PING must pass with (data nodes); sentinels are asked without. */
  password?: string;
}

/** Starts one node on a free port (a new one if it was taken meanwhile); resolves once it answers PING. */
export async function launchNode(launch: NodeLaunch): Promise<RedisNodeHandle> {
  const binary = findRedisServer();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const config = join(launch.dir, `${launch.name}.conf`);
    await writeFile(config, launch.config(port), { mode: 0o600 });
    const args = [config, ...(launch.sentinel ? ['--sentinel'] : []), '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--logfile', '', ...(launch.args ?? [])];
    const start = async (extra: string[] = []): Promise<ProcessHandle> => {
      const proc = startProcess({ name: `${launch.name} :${port}`, command: binary, args: [...args, ...extra] });
      try {
        await ready(proc, port, launch);
        return proc;
      } catch (err) {
        await proc.stop(STOP_TIMEOUT_MS).catch(() => undefined);
        throw err;
      }
    };
    try {
      return new Node(port, await start(), start);
    } catch (err) {
      if (!/address already in use/i.test((err as Error).message)) throw err;
      lastError = err as Error;
    }
  }
  throw new Error(`${launch.name} found no free port in ${PORT_ATTEMPTS} attempts`, { cause: lastError });
}

async function ready(proc: ProcessHandle, port: number, launch: NodeLaunch): Promise<void> {
  const marker = launch.sentinel ? '+monitor master' : 'Ready to accept connections';
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exited) {
      await proc.waitForExit(STOP_TIMEOUT_MS).catch(() => undefined);
      throw new Error(`${launch.name} on port ${port} exited during startup:\n${proc.lines.slice(-30).join('\n')}`);
    }
    if (proc.lines.some((l) => l.includes(marker)) && (await ping(port, launch.sentinel ? undefined : launch.password))) return;
    await sleep(50);
  }
  throw new Error(`${launch.name} on port ${port} was not ready within ${READY_TIMEOUT_MS} ms:\n${proc.lines.slice(-30).join('\n')}`);
}

class Node implements RedisNodeHandle {
  constructor(
    readonly port: number,
    private proc: ProcessHandle,
    private readonly start: (extra?: string[]) => Promise<ProcessHandle>,
  ) {}
  get pid(): number {
    return this.proc.pid;
  }
  get exited(): boolean {
    return this.proc.exited;
  }
  tail(lines = 30): string {
    return this.proc.lines.slice(-lines).join('\n');
  }
  stop(): Promise<void> {
    return this.proc.stop(STOP_TIMEOUT_MS);
  }
  async kill(): Promise<void> {
    if (this.proc.exited) return;
    this.proc.signal('SIGKILL');
    await this.proc.waitForExit(STOP_TIMEOUT_MS);
  }
  async restart(extraArgs: string[] = []): Promise<void> {
    await this.proc.stop(STOP_TIMEOUT_MS);
    this.proc = await this.start(extraArgs);
  }
}

/**
 * Finds `redis-cli` beside redis-server, on PATH, or in /usr/bin. Throws naming where it looked
 * (in CI or not: skipping is the test's decision).
 */
export function findRedisCli(path: string = process.env['PATH'] ?? ''): string {
  const dirs = [dirname(findRedisServer()), ...path.split(delimiter).filter((d) => d !== ''), '/usr/bin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, 'redis-cli'), constants.X_OK);
      return join(d, 'redis-cli');
    } catch {
      // Not here; keep looking.
    }
  }
  throw new Error(`redis-cli not found beside redis-server, on PATH or in /usr/bin: install it (it comes with redis-server, e.g. apt-get install redis-tools)`);
}

/**
 * Runs `redis-cli ARGS` and returns its output; the password goes in REDISCLI_AUTH, never on
 * the command line (which every user can read in /proc).
 */
export function redisCli(args: string[], password?: string, timeoutMs = 30_000): Promise<string> {
  const cli = findRedisCli();
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) };
    execFile(cli, ['--no-auth-warning', ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}
