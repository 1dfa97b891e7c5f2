import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';
import { startProcess, type ProcessHandle } from './process-handle.js';
import { sleep } from './wait-for.js';

/** A private `redis-server` on 127.0.0.1, started by {@link startRedis}. */
export interface RedisHandle {
  readonly port: number;
  /** `redis://:PASSWORD@127.0.0.1:PORT` (`redis://127.0.0.1:PORT` when started with `password: false`). */
  readonly url: string;
  /** The generated password it requires (`requirepass`), or undefined when started without one. */
  readonly password: string | undefined;
  /** Its own temp dir (AOF and RDB files live here); never removed by this harness. */
  readonly dir: string;
  /** The pid of the current process (it changes on {@link RedisHandle.restart}). */
  readonly pid: number;
  /** SIGTERM (Redis flushes its AOF), wait up to 10 s, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would, and wait for the exit. */
  kill(): Promise<void>;
  /**
   * Starts Redis again on the same port and dir with the same options (stopping it first if it
   * still runs) and waits until it answers PING, i.e. has loaded its data.
   */
  restart(): Promise<void>;
}

/** How {@link startRedis} configures the server. */
export interface RedisOptions {
  /** Keep an append-only file in {@link RedisHandle.dir} (default false). */
  appendonly?: boolean;
  /** AOF fsync policy; Redis' own default (`everysec`) when absent. */
  appendfsync?: 'always' | 'everysec';
  /**
   * Require a generated password (default true), as every deployment should, so the suite runs
   * with Redis auth; false starts one anyone may use, for tests of that case.
   */
  password?: boolean;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 4; // the first try plus three retries
const TAIL_LINES = 30;

/**
 * Starts a private `redis-server` on a free loopback port, in its own temp dir, with
 * `noeviction`, no RDB snapshots and a generated password (unless `password: false`), and
 * resolves once it answers PING (within 10 s). The password is in a 0600 config file in its
 * dir, never on the command line (which every user can read in /proc).
 * Retries on a new port if the chosen one was taken meanwhile. Throws if `redis-server` is not
 * installed, in CI or not: whether to skip is the test's decision, never this harness's.
 */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const binary = findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'longshore-redis-'));
  const password = opts.password === false ? undefined : randomBytes(24).toString('base64url');
  const config = join(dir, 'redis.conf');
  await writeFile(config, password === undefined ? '' : `requirepass ${password}\n`, { mode: 0o600 });
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const launch = (): Promise<ProcessHandle> => launchRedis(binary, { port, dir, config, password }, opts);
    try {
      return new RedisServer(port, dir, password, await launch(), launch);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      lastError = err;
    }
  }
  throw new Error(`redis-server found no free port in ${PORT_ATTEMPTS} attempts`, { cause: lastError });
}

class RedisServer implements RedisHandle {
  readonly url: string;
  readonly #launch: () => Promise<ProcessHandle>;
  #proc: ProcessHandle;

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly password: string | undefined,
    proc: ProcessHandle,
    launch: () => Promise<ProcessHandle>,
  ) {
    this.url = password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${password}@127.0.0.1:${port}`;
    this.#proc = proc;
    this.#launch = launch;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  stop(): Promise<void> {
    return this.#proc.stop(STOP_TIMEOUT_MS);
  }

  async kill(): Promise<void> {
    this.#proc.signal('SIGKILL');
    await this.#proc.waitForExit(STOP_TIMEOUT_MS);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.#proc = await this.#launch();
  }
}

/** The chosen port was bound by someone else between {@link freePort} and redis' bind. */
class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
}

/** Where and how one redis-server runs; `config` is the 0600 file holding its password. */
interface Launch {
  port: number;
  dir: string;
  config: string;
  password: string | undefined;
}

/** Spawns redis-server on `port` and waits until it answers PING, or fails with its output. */
async function launchRedis(binary: string, { port, dir, config, password }: Launch, opts: RedisOptions): Promise<ProcessHandle> {
  const args = [config, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', opts.appendonly ? 'yes' : 'no');
  if (opts.appendfsync) args.push('--appendfsync', opts.appendfsync);
  args.push('--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', '');
  const proc = startProcess({ name: `redis-server :${port}`, command: binary, args });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exited) {
      await proc.waitForExit(STOP_TIMEOUT_MS).catch(() => undefined); // let its output drain
      const output = tail(proc);
      const failure = `redis-server on port ${port} exited during startup:\n${output}`;
      throw /address already in use/i.test(output) ? new PortTakenError(failure) : new Error(failure);
    }
    // Both: PONG alone could come from a stranger that took the port while ours failed to bind.
    if (proc.lines.some((l) => l.includes('Ready to accept connections')) && (await ping(port, password))) return proc;
    await sleep(50);
  }
  await proc.stop(STOP_TIMEOUT_MS).catch(() => undefined);
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS}ms:\n${tail(proc)}`);
}

/**
 * One raw `PING` on a fresh TCP connection (after `AUTH` when there is a password); true only
 * for `+PONG` (a Redis still loading its AOF answers `-LOADING`). Raw TCP rather than
 * ioredis: no reconnect loop or error noise.
 */
export function ping(port: number, password: string | undefined, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(password === undefined ? 'PING\r\n' : `AUTH ${password}\r\nPING\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const lines = reply.split('\r\n');
      const pong = lines[password === undefined ? 0 : 1];
      if (lines.length > (password === undefined ? 1 : 2) || reply.startsWith('-')) done(pong !== undefined && pong.startsWith('+PONG'));
    });
    socket.once('end', () => done(false));
  });
}

/**
 * Finds `redis-server` on PATH, then in /usr/bin and /usr/sbin (`path` and `fallbacks` are
 * seams for tests). Throws naming where it looked and how to install it.
 */
export function findRedisServer(
  path: string = process.env['PATH'] ?? '',
  fallbacks: readonly string[] = ['/usr/bin/redis-server', '/usr/sbin/redis-server'],
): string {
  const dirs = path.split(delimiter).filter((d) => d !== '');
  const candidates = [...dirs.map((d) => join(d, 'redis-server')), ...fallbacks];
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here; keep looking.
    }
  }
  const consequence = process.env['CI'] === 'true' ? 'CI must provide it' : 'tests that need Redis cannot run';
  throw new Error(
    `redis-server not found on PATH or in ${fallbacks.join(', ') || '(no fallbacks)'}: ${consequence}; ` +
      'install it (e.g. apt-get install redis-server)',
  );
}

function tail(proc: ProcessHandle): string {
  const lines = proc.lines.slice(-TAIL_LINES);
  return lines.length === 0 ? '(no output)' : lines.join('\n');
}

/**
 * Whether tests that need redis-server should run: always under CI=true (where a missing binary
 * must fail the run, not skip it), elsewhere only when it can be found.
 */
export function redisServerRequired(): boolean {
  if (process.env['CI'] === 'true') return true;
  try {
    findRedisServer();
    return true;
  } catch {
    return false;
  }
}
