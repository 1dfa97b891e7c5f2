import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot, startCluster, startProcess, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');

describe('the longshore CLI against a real cluster', () => {
  let cluster: Cluster;
  let dir: string;
  const cli = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, input, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2 });
    dir = await mkdtemp(join(tmpdir(), 'longshore-cli-'));
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('submit --wait prints the output, the id on stderr, and exits with the job\'s code', () => {
    const r = cli(['submit', '--wait', '--', 'sh', '-c', 'echo hello; echo warn >&2; exit 3']);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toMatch(/^job [a-z0-9-]+\.[0-9a-z]{25}\n/);
    expect(r.stderr).toContain('warn\n');
    expect(r.code).toBe(3);
  });

  it('maps endings without an exit code: timeout 124, start failure 125', () => {
    expect(cli(['submit', '--wait', '--timeout', '1s', '--', 'sleep', '30']).code).toBe(124);
    const notFound = cli(['submit', '--wait', '--', 'no-such-program-here']);
    expect(notFound.code).toBe(125);
    expect(notFound.stderr).toContain('no-such-program-here');
  });

  it('submit without --wait prints only the id, and jobs get / logs / ls find it', async () => {
    const r = cli(['submit', '--label', 'suite=cli', '--', 'sh', '-c', 'echo from-the-job']);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[a-z0-9-]+\.[0-9a-z]{25}$/);
    expect(cli(['logs', id, '-f']).stdout).toBe('from-the-job\n');
    const got = JSON.parse(cli(['jobs', 'get', id, '--json']).stdout) as { state: string; id: string };
    expect(got.id).toBe(id);
    expect(got.state).toBe('JOB_STATE_SUCCEEDED');
    const table = cli(['jobs', 'ls', '--label', 'suite=cli']).stdout;
    expect(table).toContain(id);
    expect(table).toContain('succeeded');
  });

  it('submit --file enqueues every line in one call, or nothing when a line is bad', async () => {
    const good = join(dir, 'good.jsonl');
    await writeFile(good, '{"command": ["true"], "labels": {"batch": "file"}}\n\n{"command": ["sh", "-c", "exit 0"], "labels": {"batch": "file"}}\n');
    const ok = cli(['submit', '--file', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(2);

    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"command": ["true"], "labels": {"batch": "bad"}}\n{not json\n{"command": [], "labels": {"batch": "bad"}}\n');
    const refused = cli(['submit', '--file', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('bad.jsonl:2:');
    expect(refused.stdout).toBe('');
    expect(JSON.parse(cli(['jobs', 'ls', '--label', 'batch=bad', '--json']).stdout)).toEqual([]);
  });

  it('names the flag and the fix for bad input, exiting 2 with nothing sent', () => {
    for (const args of [['--weight', 'abc'], ['--weight', '0'], ['--timeout', 'soon'], ['--env', 'NOEQUALS'], ['--memory', 'lots']]) {
      const r = cli(['submit', ...args, '--', 'true']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(args[0]!.slice(2));
    }
    const unknownPool = cli(['submit', '--pool', 'nowhere', '--', 'true']);
    expect(unknownPool.code).toBe(1);
    expect(unknownPool.stderr).toContain('pool "nowhere" does not exist (pools: default)');
  });

  it('manages pools and lists agents as tables and JSON', () => {
    expect(cli(['pools', 'create', 'cli-pool', '--default-weight', '0.5', '--description', 'from the CLI']).code).toBe(0);
    const pools = JSON.parse(cli(['pools', 'ls', '--json']).stdout) as { id: string; defaultWeightMilli?: number }[];
    expect(pools.find((p) => p.id === 'cli-pool')?.defaultWeightMilli).toBe(500);
    expect(cli(['pools', 'set-default', 'cli-pool']).code).toBe(0);
    const refused = cli(['pools', 'delete', 'cli-pool']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('default pool');
    expect(cli(['pools', 'set-default', 'default']).code).toBe(0);
    expect(cli(['pools', 'delete', 'cli-pool']).code).toBe(0);
    const agents = cli(['agents', 'ls']).stdout;
    expect(agents).toContain('agent-1');
    expect(agents).toContain('agent-2');
  });

  it('creates, lists and revokes tokens; a created token works and a revoked one is refused', async () => {
    const created = cli(['tokens', 'create', '--role', 'reader', '--name', 'cli-reader']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^lst_[a-z0-9]{16}_\S{43}$/);
    expect(created.stderr).toMatch(/shown only this once/);
    const id = secret.split('_')[1]!;
    const listed = cli(['tokens', 'ls']);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('cli-reader');
    expect(listed.stdout).not.toContain(secret);
    const asReader = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv, LONGSHORE_TOKEN: secret }, encoding: 'utf8', timeout: 60_000 });
    expect(asReader(['tokens', 'whoami']).stdout).toContain('reader');
    const refused = asReader(['submit', '--', 'true']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/needs the submitter role/);
    expect(cli(['tokens', 'revoke', id]).code).toBe(0);
    await waitFor(() => asReader(['jobs', 'ls']).status === 1, { timeoutMs: 30_000, intervalMs: 500, what: 'the revoked token to be refused' });
    expect(cli(['tokens', 'create', '--role', 'agent', '--name', 'no-pool']).stderr).toMatch(/exactly one pool/);
  });

  it('says how to start the cluster when it cannot reach it', () => {
    const r = spawnSync(process.execPath, [BIN, 'jobs', 'ls'], { env: { ...process.env, LONGSHORE_DISPATCHER: '127.0.0.1:1' }, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('longshore up');
  });
});

describe('longshore up --demo', () => {
  it('starts redis-server, the services and an agent, runs the demo job, and stops cleanly on Ctrl-C', { timeout: 300_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'longshore-up-'));
    const [redisPort, dispatcherPort, registryPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const up = startProcess({
      name: 'longshore-up',
      command: process.execPath,
      args: [BIN, 'up', '--demo'],
      env: {
        ...process.env,
        LONGSHORE_HOME: home,
        LONGSHORE_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        LONGSHORE_DISPATCHER: `127.0.0.1:${dispatcherPort}`,
        LONGSHORE_REGISTRY: `127.0.0.1:${registryPort}`,
        LONGSHORE_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
        LONGSHORE_CONSOLE_ADDR: '127.0.0.1:0',
      },
    });
    try {
      await waitForLine(up, /Press Ctrl-C to stop/);
      const out = up.lines.join('\n');
      expect(out).toContain(`started redis-server at redis://127.0.0.1:${redisPort}`);
      // One endpoint for the whole local cluster: the registry's pool gauges and the agent's counters.
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      expect(out).toContain(`metrics    ${metricsUrl}`);
      const scraped = await (await fetch(metricsUrl)).text();
      expect(scraped).toMatch(/^longshore_pool_jobs_queued\{pool="default"\} 0$/m);
      expect(scraped).toMatch(/^longshore_jobs_finished_total\{pool="default",executor="subprocess",failure_class="none"\} 1$/m);
      expect(out).toMatch(/\| Hello from Longshore: job [a-z0-9-]+\.[0-9a-z]{25}/);
      expect(out).toContain('| step 3 of 3');
      // The console's one-time link signs a browser in as the local admin, once.
      const link = /^console {4}(http:\/\/127\.0\.0\.1:\d+\/)#login=([\w-]+)$/m.exec(out);
      expect(link).not.toBeNull();
      const login = () => fetch(new URL('/api/login', link![1]), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: link![2] }) });
      const { token } = (await (await login()).json()) as { token: string };
      const pools = (await (await fetch(new URL('/api/pools', link![1]), { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }[];
      expect(pools.map((p) => p.id)).toContain('default');
      expect((await login()).status).toBe(401);
      expect(out).toMatch(/finished with exit code 0/);
      // The CLI finds the admin token up wrote (0600) by itself: no token to copy.
      const credentials = join(home, 'credentials');
      expect((await stat(credentials)).mode & 0o777).toBe(0o600);
      const cliEnv = { ...process.env, LONGSHORE_HOME: home, LONGSHORE_TOKEN: '', LONGSHORE_DISPATCHER: `127.0.0.1:${dispatcherPort}`, LONGSHORE_REGISTRY: `127.0.0.1:${registryPort}` };
      const r = spawnSync(process.execPath, [BIN, 'submit', '--wait', '--', 'sh', '-c', 'echo hello; exit 3'], { env: cliEnv, encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toBe('hello\n');
      expect(r.status).toBe(3);
      const anonymous = spawnSync(process.execPath, [BIN, 'jobs', 'ls'], { env: { ...cliEnv, LONGSHORE_HOME: join(home, 'elsewhere') }, encoding: 'utf8', timeout: 60_000 });
      expect(anonymous.status).toBe(1);
      expect(anonymous.stderr).toMatch(/needs a token[\s\S]*hint: set LONGSHORE_TOKEN/);
      up.signal('SIGINT');
      expect(await up.waitForExit(90_000)).toEqual({ code: 0, signal: null });
      expect(up.lines.at(-1)).toBe('stopped');
      // The redis-server it started is gone with it.
      const { createConnection } = await import('node:net');
      const refused = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port: redisPort });
        s.on('connect', () => (s.destroy(), resolve(false)));
        s.on('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      await up.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});

async function waitForLine(p: ReturnType<typeof startProcess>, re: RegExp, timeoutMs = 150_000): Promise<void> {
  const t0 = Date.now();
  while (!p.lines.some((l) => re.test(l))) {
    if (p.exited) throw new Error(`process exited before printing ${re}:\n${p.lines.join('\n')}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${re}:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
