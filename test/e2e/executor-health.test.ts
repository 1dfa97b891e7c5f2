import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Executor, JobState, LongshoreClient, type Agent } from '@longshore/client';
import { repoRoot, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

// Executor health with real agents, a real engine and the real CLI: docker is enabled by default
// where an engine answers at start, advertised with its state, and claims only while it answers.

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');

/**
 * An engine socket the test turns on and off: `down` (no socket: connect ENOENT), `pass` (each
 * connection forwarded to the real engine), `hang` (connections accepted, never answered: a wedged
 * engine). Every change cuts the connections open, as an engine that dies or restarts does.
 */
function switchableEngine(path: string, engineSocket: string) {
  let server: Server | undefined;
  let mode: 'down' | 'pass' | 'hang' = 'down';
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
  };
  return {
    async set(next: 'down' | 'pass' | 'hang'): Promise<void> {
      mode = next;
      for (const s of open) s.destroy();
      if (next === 'down' && server) {
        const s = server;
        server = undefined;
        await new Promise((resolve) => s.close(resolve)); // removes the socket file
      }
      if (next !== 'down' && !server) {
        server = createServer((client) => {
          track(client);
          if (mode !== 'pass') return;
          const engine = connect(engineSocket);
          track(engine);
          client.pipe(engine).pipe(client);
        });
        await new Promise<void>((resolve) => server!.listen(path, resolve));
      }
    },
  };
}

describeDocker('executor health of real agents on a real engine', ({ host, socketPath, image }) => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let dir: string;
  /** Where the `flaky` agent looks for its engine, which the test turns on and off. */
  let flakySocket: string;
  let flakyEngine: ReturnType<typeof switchableEngine>;
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const agent = async (id: string): Promise<Agent> => {
    const found = (await ls.registry.listAgents({ pool: '' })).agents.find((a) => a.id === id);
    if (!found) throw new Error(`agent ${id} is not registered`);
    return found;
  };
  const dockerState = async (id: string) => (await agent(id)).executorHealth.find((h) => h.executor === Executor.DOCKER);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'longshore-exec-health-'));
    flakySocket = join(dir, 'docker.sock');
    flakyEngine = switchableEngine(flakySocket, socketPath);
    cluster = await startCluster({
      agents: [
        // LONGSHORE_EXECUTORS unset: docker joins where the engine answers at start, not elsewhere.
        { LONGSHORE_AGENT_ID: 'with-engine', LONGSHORE_EXECUTORS: undefined, DOCKER_HOST: host },
        { LONGSHORE_AGENT_ID: 'no-engine', LONGSHORE_EXECUTORS: undefined, DOCKER_HOST: `unix://${join(dir, 'nothing-here.sock')}` },
        // Listed explicitly, unreachable at start: kept, advertised unreachable, claiming no docker job.
        { LONGSHORE_AGENT_ID: 'flaky', LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: `unix://${flakySocket}` },
      ],
    });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    await flakyEngine?.set('down');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an agent started without LONGSHORE_EXECUTORS has docker, healthy, where an engine answers; subprocess only where none does', async () => {
    expect((await agent('with-engine')).executors).toEqual([Executor.SUBPROCESS, Executor.DOCKER]);
    expect((await agent('with-engine')).executorHealth.map((h) => [h.executor, h.healthy])).toEqual([
      [Executor.SUBPROCESS, true],
      [Executor.DOCKER, true],
    ]);
    expect((await agent('no-engine')).executors).toEqual([Executor.SUBPROCESS]);
    expect((await agent('no-engine')).executorHealth.map((h) => [h.executor, h.healthy])).toEqual([[Executor.SUBPROCESS, true]]);
    const noEngine = cluster.agents.find((a) => a.name === 'no-engine')!;
    expect(noEngine.logs.some((l) => String(l['msg']).startsWith('"docker" not enabled: LONGSHORE_EXECUTORS is unset'))).toBe(true);

    const rows = cli(['agents', 'ls']).stdout.split('\n');
    expect(rows.find((r) => r.startsWith('with-engine'))).toContain('subprocess: ok, docker: ok');
    expect(rows.find((r) => r.startsWith('no-engine'))).toMatch(/subprocess: ok {2}/);
    // Listed but unreachable: the reason in ls (cut short), in full in agents get.
    expect(rows.find((r) => r.startsWith('flaky'))).toContain('subprocess: ok, docker: unreachable (connect ENOENT');
    const get = cli(['agents', 'get', 'flaky']);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain(`executors:    subprocess: ok, docker: unreachable (connect ENOENT ${flakySocket})\n`);
  });

  it('only agents whose engine answers claim docker jobs; an engine that comes and goes is followed on the heartbeat', async () => {
    const jobs = await Promise.all([1, 2, 3].map(() => ls.submit({ executor: Executor.DOCKER, image, command: ['echo', 'hi'] })));
    const done = await Promise.all(jobs.map((j) => ls.waitForJob(j.id)));
    expect(done.map((j) => j.state)).toEqual([JobState.SUCCEEDED, JobState.SUCCEEDED, JobState.SUCCEEDED]);
    expect(done.map((j) => j.attempts.at(-1)?.agentId)).toEqual(['with-engine', 'with-engine', 'with-engine']);

    // The engine appears where the flaky agent looks: it advertises docker healthy, without a restart.
    await flakyEngine.set('pass');
    await waitFor(async () => (await dockerState('flaky'))?.healthy, { timeoutMs: 30_000, what: 'the flaky agent to find its engine' });
    expect((await agent('flaky')).executors).toEqual([Executor.SUBPROCESS, Executor.DOCKER]);
    const flaky = cluster.agents.find((a) => a.name === 'flaky')!;
    expect(flaky.logs.filter((l) => String(l['msg']).startsWith('executor docker')).map((l) => l['msg'])).toEqual(['executor docker is healthy again: claiming its jobs again']);

    // It stops answering (accepts, says nothing): unreachable once its probe times out, heartbeats still coming.
    await flakyEngine.set('hang');
    await waitFor(async () => (await dockerState('flaky'))?.healthy === false, { timeoutMs: 30_000, what: 'the flaky agent to give up on its silent engine' });
    expect((await dockerState('flaky'))?.reason).toMatch(/^its probe did not answer within \d+ ms$/);
    expect((await agent('flaky')).executors).toEqual([Executor.SUBPROCESS]);

    // It answers again, then goes away for good (its socket removed).
    await flakyEngine.set('pass');
    await waitFor(async () => (await dockerState('flaky'))?.healthy, { timeoutMs: 30_000, what: 'the flaky agent to find its engine again' });
    await flakyEngine.set('down');
    await waitFor(async () => (await dockerState('flaky'))?.reason.startsWith('connect ENOENT'), { timeoutMs: 30_000, what: 'the flaky agent to lose its engine' });
    expect((await dockerState('flaky'))?.reason).toBe(`connect ENOENT ${flakySocket}`);
    expect((await agent('flaky')).executors).toEqual([Executor.SUBPROCESS]);
    // Each change logged once, however many heartbeats it lasted.
    expect(flaky.logs.filter((l) => String(l['msg']).startsWith('executor docker')).map((l) => String(l['msg']).replace(/\(.*\)/, '(…)'))).toEqual([
      'executor docker is healthy again: claiming its jobs again',
      'executor docker is unreachable (…): claiming none of its jobs until it is healthy again',
      'executor docker is healthy again: claiming its jobs again',
      'executor docker is unreachable (…): claiming none of its jobs until it is healthy again',
    ]);
  }, 180_000);
});
