/**
 * Redis auth end to end: `longshore up` without LONGSHORE_REDIS_URL runs its own Redis with a
 * generated password and records its URL in $LONGSHORE_HOME; a second `up` reuses it; services
 * started by hand find it; a service pointed at a Redis anyone may use warns at start.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisServerRequired, repoRoot, Resources, startProcess, startRedis, startService, type LogRecord, type ProcessHandle } from '@longshore/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');
/** The start-up warning's fixed part (libs/store `OPEN_REDIS_WARNING`). */
const OPEN_REDIS = /Redis accepts commands without a password/;
/** Outside CI a machine without redis-server skips these; under CI=true they must run. */
const haveRedis = redisServerRequired();

const res = new Resources();
afterAll(() => res.stopAll());

/** Mode bits of a path, as an octal string: '600'. */
function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

/** A GET without credentials, as a hostile job could try: the reply, or the error message. */
async function unauthenticatedGet(port: number): Promise<string> {
  // No ready check: its INFO would be refused first and close the connection.
  const r = new Redis({ host: '127.0.0.1', port, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return String(await r.get('anything'));
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}

async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

async function waitForLine(p: ProcessHandle, re: RegExp, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.lines.some((l) => re.test(l))) {
    if (p.exited) throw new Error(`${p.name} exited before printing ${re}:\n${p.lines.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} from ${p.name}:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isOpenRedisWarning = (l: LogRecord): boolean => (l['level'] === 'warn' || l['level'] === 40) && OPEN_REDIS.test(String(l['msg']));

describe.skipIf(!haveRedis)('longshore up without LONGSHORE_REDIS_URL', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'longshore-home-'));
    res.add({ stop: () => rm(home, { recursive: true, force: true }) });
    const [dispatcherPort, registryPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    env = {
      ...process.env,
      LONGSHORE_HOME: home,
      LONGSHORE_REDIS_URL: undefined,
      LONGSHORE_TOKEN: undefined,
      LONGSHORE_BOOTSTRAP_TOKEN: undefined,
      LONGSHORE_DISPATCHER: `127.0.0.1:${dispatcherPort}`,
      LONGSHORE_REGISTRY: `127.0.0.1:${registryPort}`,
      // Not up's default (127.0.0.1:9464): test files run side by side.
      LONGSHORE_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
      LONGSHORE_CONSOLE_ADDR: '127.0.0.1:0',
    };
  });

  /** Runs `longshore up` until it says it is running; stop it with {@link stopUp}. */
  async function up(name: string): Promise<ProcessHandle> {
    const p = res.add(startProcess({ name, command: process.execPath, args: [BIN, 'up'], env }));
    await waitForLine(p, /Press Ctrl-C to stop/);
    return p;
  }
  async function stopUp(p: ProcessHandle): Promise<void> {
    p.signal('SIGINT');
    expect(await p.waitForExit(60_000)).toEqual({ code: 0, signal: null });
  }

  it('starts its own Redis with a generated password, keeps its URL in a 0600 file, and a second up reuses it', { timeout: 240_000 }, async () => {
    const first = await up('longshore-up-1');
    const urlFile = join(home, 'redis-url');
    expect(mode(home)).toBe('700');
    expect(mode(join(home, 'redis'))).toBe('700');
    expect(mode(urlFile)).toBe('600');
    const url = (await readFile(urlFile, 'utf8')).trim();
    const u = new URL(url);
    expect(u.hostname).toBe('127.0.0.1');
    expect(decodeURIComponent(u.password).length).toBeGreaterThanOrEqual(32);
    const port = Number(u.port);
    expect(first.lines.join('\n')).toContain(`started redis-server at redis://127.0.0.1:${port}`);
    // The password is on no terminal line and no command line any user can read.
    const password = decodeURIComponent(u.password);
    expect(first.lines.join('\n')).not.toContain(password);
    const redisPid = await withRedis(url, async (r) => Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]));
    expect(redisPid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${redisPid}/cmdline`, 'utf8')).not.toContain(password);
    expect(mode(join(home, 'redis', 'redis.conf'))).toBe('600');

    // A job that guesses the address gets nothing without the password.
    expect(await unauthenticatedGet(port)).toMatch(/^NOAUTH/);
    await withRedis(url, (r) => r.set('e2e:survivor', 'kept'));

    // A service started by hand, with LONGSHORE_REDIS_URL unset, finds the URL file and does not warn.
    const registry = res.add(startService('pool-registry', { LONGSHORE_HOME: home, LONGSHORE_REDIS_URL: undefined, LONGSHORE_REGISTRY: '127.0.0.1:0' }, 'registry-by-hand'));
    await registry.waitForLog((l) => l['msg'] === 'Listening', 60_000);
    expect(registry.logs.filter(isOpenRedisWarning)).toEqual([]);
    await registry.stop();

    await stopUp(first);
    expect(await refused(port)).toBe(true); // the Redis it started is gone with it

    const second = await up('longshore-up-2');
    expect((await readFile(urlFile, 'utf8')).trim()).toBe(url);
    expect(mode(urlFile)).toBe('600');
    expect(await withRedis(url, (r) => r.get('e2e:survivor'))).toBe('kept');
    expect(await unauthenticatedGet(port)).toMatch(/^NOAUTH/);
    await stopUp(second);
  });
});

describe.skipIf(!haveRedis)('a service and the Redis it connects to', () => {
  /** Starts the registry against `redisUrl` and waits until it listens. */
  async function registryOn(redisUrl: string, name: string): Promise<ProcessHandle> {
    const home = await mkdtemp(join(tmpdir(), 'longshore-home-'));
    res.add({ stop: () => rm(home, { recursive: true, force: true }) });
    const p = res.add(startService('pool-registry', { LONGSHORE_HOME: home, LONGSHORE_REDIS_URL: redisUrl, LONGSHORE_REGISTRY: '127.0.0.1:0' }, name));
    await p.waitForLog((l) => l['msg'] === 'Listening', 60_000);
    return p;
  }

  it('warns once at start when that Redis needs no password, saying what is at stake and how to fix it', async () => {
    const redis = await startRedis({ password: false });
    res.add({ stop: () => rm(redis.dir, { recursive: true, force: true }) });
    res.add(redis); // stopped before its dir is removed
    const registry = await registryOn(redis.url, 'registry-open-redis');
    const warnings = registry.logs.filter(isOpenRedisWarning);
    expect(warnings).toHaveLength(1);
    const msg = String(warnings[0]?.['msg']);
    expect(msg).toContain('including a job, can read and rewrite every job');
    expect(msg).toContain('requirepass');
    expect(msg).toContain('LONGSHORE_REDIS_URL as redis://user:password@host:port');
  });

  it('does not warn when that Redis requires the password it was given', async () => {
    const redis = await startRedis();
    res.add({ stop: () => rm(redis.dir, { recursive: true, force: true }) });
    res.add(redis); // stopped before its dir is removed
    const registry = await registryOn(redis.url, 'registry-password-redis');
    expect(registry.logs.filter(isOpenRedisWarning)).toEqual([]);
  });
});
