import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';

/** A redis-server this process started (or none, when one was already reachable). */
export interface LocalRedis {
  readonly started: boolean;
  readonly url: string;
  stop(): Promise<void>;
}

function ping(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

function findRedisServer(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (dir && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`;
  }
  return undefined;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Uses the Redis at `url` if it answers; otherwise, when `url` points at this machine, starts
 * `redis-server` on its port with data (AOF, fsync every second) in `dataDir`.
 */
export async function ensureRedis(url: string, dataDir: string): Promise<LocalRedis> {
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 6379);
  if (await ping(host, port)) return { started: false, url, stop: async () => undefined };
  if (!LOOPBACK.has(host)) throw new Error(`Redis is not reachable at ${host}:${port}: start it, or set LONGSHORE_REDIS_URL`);
  const bin = findRedisServer();
  if (!bin) {
    throw new Error(`Redis is not reachable at ${host}:${port} and redis-server is not installed: run "bash scripts/install.sh" (or "apt-get install redis-server"), then try again`);
  }
  await mkdir(dataDir, { recursive: true });
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 50; i++) {
    if (await ping('127.0.0.1', port, 200)) break;
    if (child.exitCode !== null) throw new Error(`redis-server exited at start (code ${child.exitCode}): ${stderr.trim().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await ping('127.0.0.1', port, 500))) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${port} within 5 s`);
  }
  let stopping: Promise<void> | undefined;
  return {
    started: true,
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      })),
  };
}
