// The image smoke: deploy/docker/Dockerfile built on this machine's private Docker engine on a
// local Node 24 base, then Redis, the registry, the dispatcher and two agents run as containers
// (host network, loopback addresses) and jobs go in through the CLI. An agent killed outright
// loses its job to the other; an agent stopped with `docker stop` drains: it exits 0, a job that
// fits in its grace finishes there, a longer one is handed back without costing an attempt.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, freePort, repoRoot, waitFor } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildNodeBase, buildRedisImage, dockerCli } from './deploy-image-base.js';

const BASE = 'longshore-smoke/node-base:24';
const REDIS = 'longshore-smoke/redis:1';
const IMAGE = 'longshore-smoke/longshore:test';
const CLI = join(repoRoot, 'services/cli/bin/longshore.js');
const AGENT_CAPS = ['SETUID', 'SETGID', 'KILL', 'CHOWN', 'FOWNER', 'DAC_OVERRIDE', 'NET_ADMIN', 'NET_RAW'];
/** Job states a job ends in (the API's JSON names). */
const FINISHED = ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'];
/** A job uid range no agent outside this test's containers uses (see the agents' environment). */
const JOB_UIDS = (() => {
  const first = 1_000_000_000 + Math.floor(Math.random() * 100_000) * 1000;
  return { first, last: first + 999 };
})();
/** The agents' drain: short, so a long job is handed back within the test. */
const SHUTDOWN_GRACE_S = 10;

interface Attempt {
  agentId: string;
  failureClass?: string;
  handedBack?: boolean;
}
interface Job {
  id: string;
  state: string;
  attempts?: Attempt[];
}

describeDocker('the Longshore image (deploy/docker/Dockerfile)', ({ host }) => {
  const docker = dockerCli(host);
  const run = Math.random().toString(36).slice(2, 8);
  const home = mkdtempSync(join(tmpdir(), 'longshore-smoke-home-'));
  const containers: string[] = [];
  const password = `smoke-${run}-${Math.random().toString(36).slice(2)}`;
  const bootstrap = `bootstrap-${run}-${'x'.repeat(32)}`;
  let env: Record<string, string>;
  let agentEnv: string[];
  /** Every service's Redis, registry and dispatcher settings. */
  let common: string[];
  /** The agent left after the first test killed the other one. */
  let survivor: string;

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`longshore ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const job = (id: string) => JSON.parse(cli(['jobs', 'get', id, '--json'])) as Job;
  const start = (name: string, args: string[]) => {
    containers.push(name);
    docker(['run', '-d', '--name', name, '--network', 'host', ...args]);
  };
  const logsOfAll = () =>
    containers
      .map((c) => {
        const r = spawnSync('docker', ['logs', '--tail', '150', c], { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8' });
        return `--- ${c}\n${r.stdout}${r.stderr}`;
      })
      .join('\n');
  /** Asserts a finished job's state, printing every container's log tail first when it is another. */
  const expectFinished = (j: Job, state: string) => {
    if (j.state !== state) console.error(`job ${j.id} ended ${j.state}, not ${state}: ${JSON.stringify(j)}\nthe containers' logs:\n${logsOfAll()}`);
    expect(j.state, JSON.stringify(j)).toBe(state);
  };
  /** waitFor, printing every container's log tail when it times out. */
  const until = async <T>(fn: () => T | undefined | false, what: string, timeoutMs = 120_000): Promise<T> => {
    try {
      return await waitFor(fn, { timeoutMs, intervalMs: 500, what });
    } catch (err) {
      console.error(logsOfAll());
      throw err;
    }
  };
  const startAgent = (id: string) =>
    start(`smoke-${run}-${id}`, [
      ...['--user', '0:0', '--cap-drop', 'ALL', ...AGENT_CAPS.flatMap((c) => ['--cap-add', c]), '--stop-timeout', '60'],
      ...agentEnv,
      ...['-e', `LONGSHORE_AGENT_ID=${id}`],
      IMAGE,
      'agent',
    ]);

  beforeAll(async () => {
    const nodeVersion = buildNodeBase(docker, BASE);
    console.log(`local base ${BASE}: Node ${nodeVersion}`);
    buildRedisImage(docker, REDIS, findRedisServer());
    // The classic builder (DOCKER_BUILDKIT=0), its installs on the host network.
    const build = spawnSync('docker', ['build', '--network', 'host', '--build-arg', `BASE_IMAGE=${BASE}`, '-f', 'deploy/docker/Dockerfile', '-t', IMAGE, '.'], {
      cwd: repoRoot,
      env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 1_500_000,
    });
    if (build.status !== 0) throw new Error(`docker build failed:\n${build.stdout.slice(-4000)}\n${build.stderr}`);
    const size = Number(docker(['image', 'inspect', '-f', '{{.Size}}', IMAGE]).trim());
    const baseSize = Number(docker(['image', 'inspect', '-f', '{{.Size}}', BASE]).trim());
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
    console.log(`image ${IMAGE}: ${mib(size)} (${size} bytes), of which the local Node ${nodeVersion} base is ${mib(baseSize)} and Longshore ${mib(size - baseSize)}`);

    const [redisPort, registryPort, dispatcherPort] = [await freePort(), await freePort(), await freePort()];
    const redisUrl = `redis://default:${password}@127.0.0.1:${redisPort}`;
    start(`smoke-${run}-redis`, [REDIS, '--bind', '127.0.0.1', '--port', String(redisPort), '--requirepass', password, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    common = ['-e', `LONGSHORE_REDIS_URL=${redisUrl}`, '-e', `LONGSHORE_REGISTRY=127.0.0.1:${registryPort}`, '-e', `LONGSHORE_DISPATCHER=127.0.0.1:${dispatcherPort}`];
    start(`smoke-${run}-registry`, [...common, '-e', `LONGSHORE_BOOTSTRAP_TOKEN=${bootstrap}`, IMAGE, 'registry']);
    start(`smoke-${run}-dispatcher`, [...common, IMAGE, 'dispatcher']);
    env = { LONGSHORE_HOME: home, LONGSHORE_REGISTRY: `127.0.0.1:${registryPort}`, LONGSHORE_DISPATCHER: `127.0.0.1:${dispatcherPort}`, LONGSHORE_TOKEN: bootstrap };
    // The image's own health check (the one the Kubernetes readiness probe runs).
    for (const port of [registryPort, dispatcherPort]) {
      await until(() => spawnSync(process.execPath, [join(repoRoot, 'deploy/docker/grpc-health.mjs'), `127.0.0.1:${port}`]).status === 0, `a SERVING health check on ${port}`, 180_000);
    }
    cli(['pools', 'create', 'smoke', '--default-weight', '0.5']);
    const agentToken = cli(['tokens', 'create', '--role', 'agent', '--name', `smoke-${run}`, '--pool', 'smoke']).trim();
    agentEnv = [
      ...common,
      ...['-e', `LONGSHORE_TOKEN=${agentToken}`, '-e', 'LONGSHORE_POOL=smoke', '-e', 'LONGSHORE_EXECUTORS=subprocess'],
      ...['-e', `LONGSHORE_SHUTDOWN_GRACE=${SHUTDOWN_GRACE_S}s`, '-e', 'LONGSHORE_KILL_GRACE=2s'],
      // Each run's start and end in the log, printed when a job ends otherwise than expected.
      ...['-e', 'LONGSHORE_LOG_LEVEL=debug'],
      // Host network: the job firewall would edit this machine's own iptables.
      ...['-e', 'LONGSHORE_JOB_FIREWALL=off'],
      // Job uids of their own. A container's agents lock their uids in the container's /run, so
      // they do not see the locks of agents on this host (other tests'), which take the same
      // default range; when such an agent's job ends, its reaper (kill -1 as the job's uid, in
      // the host's pid namespace, which holds the containers' processes) killed this test's job
      // that happened to run as that uid: exit 137, FAILED. That was the smoke's flaky failure.
      ...['-e', `LONGSHORE_JOB_UIDS=${JOB_UIDS.first}-${JOB_UIDS.last}`],
    ];
    startAgent('smoke-a');
    startAgent('smoke-b');
    await until(() => {
      const agents = JSON.parse(cli(['agents', 'ls', '--json'])) as { id: string; state: string }[];
      return agents.filter((a) => a.state === 'AGENT_STATE_ACTIVE').length === 2;
    }, 'two active agents', 180_000);
  }, 1_800_000);

  afterAll(() => {
    for (const c of containers) spawnSync('docker', ['rm', '-f', c], { env: { ...process.env, DOCKER_HOST: host } });
    rmSync(home, { recursive: true, force: true });
  });

  // Checked inside the running registry (docker exec): each `docker run` would copy the whole
  // image first on the test engine's vfs storage, seconds apiece.
  it('ships Node 24 and the compiled build only, runs the servers as uid 1000 and starts each service by its argument', () => {
    const inRegistry = (args: string[]) => spawnSync('docker', ['exec', `smoke-${run}-registry`, ...args], { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', timeout: 120_000 });
    expect(inRegistry(['node', '--version']).stdout.trim()).toMatch(/^v24\./);
    expect(inRegistry(['id', '-u']).stdout.trim()).toBe('1000');
    expect(JSON.parse(docker(['image', 'inspect', '-f', '{{json .Config}}', IMAGE])) as { User: string; Entrypoint: string[]; Cmd: string[] }).toMatchObject({
      User: '1000:1000',
      Entrypoint: ['tini', '--', 'node', '/app/deploy/docker/entrypoint.mjs'],
      Cmd: ['cli', '--help'],
    });
    // No TypeScript and nothing that runs it: every package is its package.json and dist/.
    expect(inRegistry(['find', '/app/libs', '/app/services', '-name', '*.ts']).stdout).toBe('');
    expect(inRegistry(['find', '/app/libs', '/app/services', '-maxdepth', '2', '-name', 'src']).stdout).toBe('');
    expect(inRegistry(['ls', '/app/node_modules/tsx']).status).not.toBe(0);
    expect(inRegistry(['ls', '/app/node_modules/typescript']).status).not.toBe(0);
    expect(inRegistry(['node', '/app/deploy/docker/entrypoint.mjs', 'cli', '--help']).stdout).toContain('submit');
    const bad = inRegistry(['node', '/app/deploy/docker/entrypoint.mjs', 'nonsense']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('registry|dispatcher|agent|cli');
  });

  // The console as compose and Kubernetes run it (`cli console`): its UI, built at build time,
  // must be in the image, and it must reach the registry with a user's token (it has none).
  it('serves the web console from the image, with its built UI, showing the cluster to a signed-in user', async () => {
    const port = await freePort();
    start(`smoke-${run}-console`, [...common, IMAGE, 'cli', 'console', '--listen', `127.0.0.1:${port}`]);
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${base}/`).catch(() => undefined))?.ok === true, 'the console answering GET /', 180_000);
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = await fetch(`${base}/app.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(1000);
    const pools = await fetch(`${base}/api/pools`, { headers: { authorization: `Bearer ${bootstrap}` } });
    expect(pools.status).toBe(200);
    expect(JSON.stringify(await pools.json())).toContain('"smoke"');
    expect((await fetch(`${base}/api/pools`)).status).toBe(401);
  });

  it('finishes a job on the other agent when its agent is killed mid-job', async () => {
    const id = cli(['submit', '--pool', 'smoke', '--', 'sh', '-c', 'sleep 6; echo finished']).trim();
    const running = await until(() => {
      const j = job(id);
      return j.state === 'JOB_STATE_RUNNING' && j.attempts?.at(-1)?.agentId;
    }, `job ${id} running`);
    docker(['kill', `smoke-${run}-${running}`]);
    const done = await until(() => {
      const j = job(id);
      return FINISHED.includes(j.state) && j;
    }, `job ${id} to finish on the other agent`, 180_000);
    expectFinished(done, 'JOB_STATE_SUCCEEDED');
    survivor = done.attempts!.at(-1)!.agentId;
    expect(survivor).not.toBe(running);
    expect(done.attempts?.[0]).toMatchObject({ agentId: running, failureClass: 'FAILURE_CLASS_LOST' });
    expect(cli(['logs', id])).toContain('finished');
  }, 300_000);

  it('drains an agent on docker stop: exit 0, a short job finishes, a long one is handed back uncharged and runs again', async () => {
    const short = cli(['submit', '--pool', 'smoke', '--', 'sh', '-c', 'sleep 8; echo short done']).trim();
    const long = cli(['submit', '--pool', 'smoke', '--retries', 'lost=0', '--', 'sh', '-c', 'sleep 20; echo long done']).trim();
    await until(() => job(short).state === 'JOB_STATE_RUNNING' && job(long).state === 'JOB_STATE_RUNNING', 'both jobs running on the survivor');
    // A timeout well above LONGSHORE_SHUTDOWN_GRACE + LONGSHORE_KILL_GRACE: the drain, not SIGKILL, ends it.
    docker(['stop', '-t', '60', `smoke-${run}-${survivor}`], { timeout: 120_000 });
    const exitCode = docker(['inspect', '-f', '{{.State.ExitCode}}', `smoke-${run}-${survivor}`]).trim();
    if (exitCode !== '0') console.error(`agent ${survivor} exited ${exitCode} on docker stop; the containers' logs:\n${logsOfAll()}`);
    expect(exitCode).toBe('0');
    const shortDone = job(short);
    expectFinished(shortDone, 'JOB_STATE_SUCCEEDED');
    expect(shortDone.attempts).toHaveLength(1);
    const handedBack = job(long);
    expect(handedBack.state, JSON.stringify(handedBack)).toBe('JOB_STATE_QUEUED');
    expect(handedBack.attempts).toEqual([expect.objectContaining({ agentId: survivor, handedBack: true })]);
    // An agent comes back under the killed one's id; the handed-back job runs there in full.
    docker(['start', `smoke-${run}-${survivor === 'smoke-a' ? 'smoke-b' : 'smoke-a'}`]);
    const done = await until(() => {
      const j = job(long);
      return FINISHED.includes(j.state) && j;
    }, `job ${long} to run again`, 180_000);
    expectFinished(done, 'JOB_STATE_SUCCEEDED');
    expect(cli(['logs', long])).toContain('long done');
  }, 400_000);
});
