import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRedisEndpoint, readRedisUrlFile, redactRedisUrl, redisUrlPath } from '@longshore/config';
import { freeLoopbackPort, probeRedis, type ProbeResult, type RedisCredentials } from './redis-probe.js';

/** A redis-server this process started (or none, when one was already reachable). */
export interface LocalRedis {
  readonly started: boolean;
  /** What the services connect with, password included: never print it. */
  readonly url: string;
  /** {@link url} without credentials, for people. */
  readonly displayUrl: string;
  /** Whether it requires a password (false only for a password-less LONGSHORE_REDIS_URL). */
  readonly password: boolean;
  /** The 0600 file holding {@link url}, for a Redis `up` manages (no LONGSHORE_REDIS_URL). */
  readonly urlFile?: string;
  stop(): Promise<void>;
}

/** Where {@link ensureRedis} looks for a Redis, or starts one. */
export interface EnsureRedisOptions {
  /**
   * `LONGSHORE_REDIS_URL`, when set: use the Redis there if it answers; otherwise, when it points
   * at this machine, start one on its port with the URL's own credentials (none if it has none).
   * Absent: `up` manages its own Redis, with a generated password, recorded in `home`.
   */
  url?: string;
  /** `$LONGSHORE_HOME` (made 0700): the URL file `redis-url` (0600) lives here. */
  home: string;
  /** The Redis' `dir` (made 0700): AOF, and its 0600 `redis.conf` holding the password. */
  dataDir: string;
  /** Ports the caller binds next (the registry's, the dispatcher's): `up`'s own Redis never takes one. */
  avoidPorts?: readonly number[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const READY_TIMEOUT_MS = 30_000; // loading a large AOF takes a while
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 4;

/**
 * Makes sure a Redis is there for `longshore up`. Without `url`, it is `up`'s own: bound to
 * 127.0.0.1 on a free port, requiring a generated password, with AOF in `dataDir`; its URL
 * (password included) is written to `$LONGSHORE_HOME/redis-url` (0600), which the next `up`,
 * the CLI and services started by hand read, so data and credentials stay valid across runs.
 * The password goes to redis-server through a 0600 config file, never its command line (any
 * user can read that in /proc).
 */
export async function ensureRedis(opts: EnsureRedisOptions): Promise<LocalRedis> {
  return opts.url === undefined ? ensureOwnRedis(opts.home, opts.dataDir, opts.avoidPorts ?? []) : ensureNamedRedis(opts.url, opts.dataDir);
}

async function ensureOwnRedis(home: string, dataDir: string, avoidPorts: readonly number[]): Promise<LocalRedis> {
  await privateDir(home);
  await privateDir(dataDir);
  const urlFile = redisUrlPath({ LONGSHORE_HOME: home });
  const recorded = readRedisUrlFile(urlFile);
  const creds: RedisCredentials = recorded ? credentialsOf(recorded) ?? newCredentials() : newCredentials();
  let port: number | undefined = recorded ? Number(new URL(recorded).port) || undefined : undefined;
  if (port !== undefined) {
    const state = await probeRedis('127.0.0.1', port, creds);
    // Ours, still running (another `up`, or one a killed `up` left behind): use it as is.
    if (state === 'ready' || state === 'loading') {
      await waitReady(port, creds, undefined);
      return { started: false, url: urlOf(port, creds), displayUrl: displayOf(port), password: true, urlFile, stop: async () => undefined };
    }
    if (state === 'refused') port = undefined; // someone else's server took the port: pick another
  }
  const redis = await startServer(binary(), { port, creds, dataDir, retryOnOtherPort: true, avoidPorts });
  await writePrivate(urlFile, `${redis.url}\n`);
  return { ...redis, urlFile };
}

async function ensureNamedRedis(url: string, dataDir: string): Promise<LocalRedis> {
  const ep = parseRedisEndpoint(url);
  if (ep.kind !== 'single') {
    // `up` never starts a Redis Cluster or Sentinel set-up: the services connect to it and say what is wrong.
    return { started: false, url, displayUrl: redactRedisUrl(url).replace(/\/\/[^@/]*@/, '//'), password: ep.password !== undefined, stop: async () => undefined };
  }
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 6379);
  // Anything that answers (even NOAUTH) is the user's Redis: the services report auth problems.
  if ((await probeRedis(host, port)) !== 'down') return { started: false, url, displayUrl: displayOf(port, host), password: u.password !== '', stop: async () => undefined };
  if (!LOOPBACK.has(host)) throw new Error(`Redis is not reachable at ${host}:${port}: start it, or set LONGSHORE_REDIS_URL`);
  await privateDir(dataDir);
  // With the URL's own credentials, so the URL the user gave (and other services use) works;
  // a URL without a password gets a Redis without one, and every service warns about it.
  const redis = await startServer(binary(), { port, creds: credentialsOf(url), dataDir, retryOnOtherPort: false });
  return { ...redis, url };
}

interface StartRequest {
  /** Undefined: any free port. */
  port: number | undefined;
  creds: RedisCredentials | undefined;
  dataDir: string;
  /** When the port is taken: try another free one (`up`'s own Redis) or fail (a named port). */
  retryOnOtherPort: boolean;
  /** Ports not to take even when free now (the caller is about to bind them). */
  avoidPorts?: readonly number[];
}

/** Starts redis-server and waits until it answers with `creds`; tries other ports if allowed. */
async function startServer(bin: string, req: StartRequest): Promise<Omit<LocalRedis, 'urlFile'>> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= (req.retryOnOtherPort ? PORT_ATTEMPTS : 1); attempt++) {
    const port = attempt === 1 && req.port !== undefined && !req.avoidPorts?.includes(req.port) ? req.port : await freeLoopbackPort(req.avoidPorts);
    const conf = join(req.dataDir, 'redis.conf');
    await writePrivate(conf, redisConf(port, req.dataDir, req.creds));
    const child = spawn(bin, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const stop = stopper(child);
    try {
      await waitReady(port, req.creds, child, () => output);
      return { started: true, url: urlOf(port, req.creds), displayUrl: displayOf(port), password: req.creds !== undefined, stop };
    } catch (err) {
      await stop();
      lastError = err as Error;
      if (!/address already in use/i.test(output)) throw err;
    }
  }
  throw lastError ?? new Error('redis-server could not start');
}

/** Polls until the server answers PING with `creds`; fails if `child` exits or after 30 s. */
async function waitReady(port: number, creds: RedisCredentials | undefined, child: ChildProcess | undefined, output = () => ''): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: ProbeResult = 'down';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`redis-server exited at start (code ${child.exitCode}): ${output().trim().slice(-500)}`);
    last = await probeRedis('127.0.0.1', port, creds, 500);
    if (last === 'ready') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within ${READY_TIMEOUT_MS / 1000} s (last probe: ${last})`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    }));
}

/** The whole configuration, password included, for a 0600 file: nothing secret on argv. */
function redisConf(port: number, dataDir: string, creds: RedisCredentials | undefined): string {
  const lines = [
    '# Written by "longshore up" at each start. It holds the Redis password: keep it 0600.',
    'bind 127.0.0.1',
    `port ${port}`,
    'protected-mode yes',
    `dir ${quote(dataDir)}`,
    'save ""',
    'appendonly yes',
    'appendfsync everysec',
    'maxmemory-policy noeviction',
    'daemonize no',
    'logfile ""',
  ];
  if (creds && creds.username && creds.username !== 'default') {
    // A named ACL user with every right (keys, channels, commands); nobody gets in without it.
    lines.push(`user ${quote(creds.username)} on ${quote(`>${creds.password}`)} ~* &* +@all`, 'user default off');
  } else if (creds) {
    lines.push(`requirepass ${quote(creds.password)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A Redis config argument in double quotes, every byte outside a safe set as `\xHH`. */
function quote(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~/:@+=-]/.test(ch) ? ch : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

function newCredentials(): RedisCredentials {
  return { username: '', password: randomBytes(32).toString('base64url') };
}

function credentialsOf(url: string): RedisCredentials | undefined {
  const u = new URL(url);
  return u.password ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : undefined;
}

function urlOf(port: number, creds: RedisCredentials | undefined): string {
  if (!creds) return `redis://127.0.0.1:${port}`;
  return `redis://${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}`;
}

function displayOf(port: number, host = '127.0.0.1'): string {
  return `redis://${host}:${port}`;
}

/** Creates `dir` if needed and makes it 0700: it holds the password and the data. */
async function privateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Writes a 0600 file atomically (a temp file renamed over it), so no reader sees half of it. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

function binary(): string {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (dir && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`;
  }
  throw new Error('no Redis to use and redis-server is not installed: run "bash scripts/install.sh" (or "apt-get install redis-server"), then try again');
}
