import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { JobState, type Job, type LongshoreClient } from '@longshore/client';
import { freePort, processGone, startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, logLines } from './support.js';

// Jobs get their own uids and firewall rules only from an agent running as root with iptables.
// Under CI=true nothing may be missing: the agents are told LONGSHORE_JOB_FIREWALL=on, and a
// non-root run fails instead of skipping.
const root = process.getuid?.() === 0;
const ci = process.env['CI'] === 'true';
if (!root) console.warn(`job-isolation.test: ${ci ? 'will fail (CI=true)' : 'skipped'}: jobs can only run as other uids when the agent is root`);

const AGENT_SECRET = 'agent-only-secret-4f9c1d';
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

// Tries each attack and prints one `name=result` line per attempt. Connections use node, which
// is on every agent host (the agent is a node process); results are error codes.
const PROBE = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
let left = targets.length;
for (const [name, host, port] of targets) {
  const s = net.connect(port, host);
  const done = (r) => { console.log(name + '=' + r); s.destroy(); if (--left === 0) process.exit(0); };
  s.once('connect', () => done('connected'));
  s.once('error', (e) => done(e.code));
}
`;
const HOSTILE = [
  'echo "uid=$(id -u)"',
  'if cat /proc/$PPID/environ >/dev/null; then echo environ=readable; else echo environ=denied; fi',
  'kill -9 $PPID || echo kill=refused',
  'node -e "$0" "$1"',
].join('\n');

describe.skipIf(!root && !ci)('subprocess jobs cannot reach the agent, Redis or each other', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let open: Server;
  let agentEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!root) throw new Error('the job isolation test needs root under CI=true (jobs run as other uids)');
    cluster = await startCluster({ agents: 0 });
    agentEnv = {
      // The agent learns the dispatcher's address to firewall it off (the harness does not set it).
      LONGSHORE_DISPATCHER: cluster.clientEnv['LONGSHORE_DISPATCHER'],
      LONGSHORE_JOB_FIREWALL: ci ? 'on' : 'auto',
      AWS_SECRET_ACCESS_KEY: AGENT_SECRET,
      LONGSHORE_METRICS_ADDR: `127.0.0.1:${await freePort()}`,
    };
    await cluster.startAgent({ ...agentEnv, LONGSHORE_AGENT_ID: 'iso-1' });
    ls = connect(cluster);
    // A port no rule covers: a job reaching it shows the refusals come from the rules, not from a broken network.
    open = createServer((s) => s.end());
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    open?.close();
    ls?.close();
    await cluster?.stop();
  });

  it('refuses a hostile job the agent\'s environment, its signals, Redis and the API, and the agent runs on', async () => {
    const agent = cluster.agents[0]!;
    const redisPort = Number(new URL(cluster.clientEnv['LONGSHORE_REDIS_URL']!).port);
    const targets: [string, string, number][] = [
      ['redis', '127.0.0.1', redisPort],
      ['dispatcher', '127.0.0.1', portOf(cluster.clientEnv['LONGSHORE_DISPATCHER']!)],
      ['registry', '127.0.0.1', portOf(cluster.clientEnv['LONGSHORE_REGISTRY']!)],
      ['metrics', '127.0.0.1', portOf(agentEnv['LONGSHORE_METRICS_ADDR']!)],
      ['open', '127.0.0.1', (open.address() as { port: number }).port],
    ];
    // The same Redis port through another of this host's addresses, if it has one: a rule for
    // 127.0.0.1 alone would let a job go round it.
    const other = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) targets.push(['redis-other-address', other.address, redisPort]);
    const job = await ls.submit({ command: ['sh', '-c', HOSTILE, PROBE, JSON.stringify(targets)] });
    const done = await ls.waitForJob(job.id);
    const lines = await logLines(ls, job.id);
    const text = lines.join('\n');
    expect(done.state, text).toBe(JobState.SUCCEEDED);
    expect(Number(/uid=(\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(200000);
    expect(lines).toContain('environ=denied');
    expect(text).toMatch(/Permission denied/);
    expect(text).toMatch(/kill.*Operation not permitted/);
    expect(lines).toContain('kill=refused');
    expect(lines).toContain('redis=ECONNREFUSED');
    expect(lines).toContain('dispatcher=ECONNREFUSED');
    expect(lines).toContain('registry=ECONNREFUSED');
    expect(lines).toContain('metrics=ECONNREFUSED');
    // ... which the agent does serve: the refusal is the firewall's.
    expect((await fetch(`http://${agentEnv['LONGSHORE_METRICS_ADDR']}/metrics`)).status).toBe(200);
    if (other) expect(lines).toContain('redis-other-address=ECONNREFUSED');
    expect(lines).toContain('open=connected');
    expect(text).not.toContain(AGENT_SECRET);
    // The agent is alive and keeps running jobs.
    expect(processGone(agent.pid)).toBe(false);
    const next = await ls.submit({ command: ['echo', 'still here'] });
    expect((await ls.waitForJob(next.id)).state).toBe(JobState.SUCCEEDED);
    expect(await logLines(ls, next.id)).toEqual(['still here']);
  });

  it('gives a job an environment without the agent\'s configuration, and a private HOME and TMPDIR', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'env; echo "cwd=$(pwd)"; stat -c "mode=%a owner=%u" .; echo "me=$(id -u)"'] });
    await ls.waitForJob(job.id);
    const lines = await logLines(ls, job.id);
    const text = lines.join('\n');
    for (const name of ['LONGSHORE_REDIS_URL', 'LONGSHORE_TOKEN', 'LONGSHORE_REGISTRY', 'LONGSHORE_DISPATCHER', 'AWS_SECRET_ACCESS_KEY']) {
      expect(text).not.toContain(`${name}=`);
    }
    expect(text).not.toContain(AGENT_SECRET);
    expect(text).not.toContain(cluster.clientEnv['LONGSHORE_TOKEN']!);
    expect(text).not.toContain(cluster.clientEnv['LONGSHORE_REDIS_URL']!);
    expect(text).not.toMatch(/password/i);
    const cwd = /^cwd=(.*)$/m.exec(text)?.[1];
    expect(cwd).toBeTruthy();
    expect(lines).toContain(`HOME=${cwd}`);
    expect(lines).toContain(`TMPDIR=${cwd}/tmp`);
    const me = /^me=(\d+)$/m.exec(text)?.[1];
    expect(lines).toContain(`mode=700 owner=${me}`);
  });

  it('runs two jobs at once as different uids that can neither read each other\'s directory nor signal each other', async () => {
    const first = await ls.submit({ command: ['sh', '-c', 'echo secret > mine; echo "$(id -u) $(pwd) $$"; sleep 60'], timeoutMs: 120_000n });
    let info = '';
    for await (const l of ls.logs(first.id, { follow: true })) {
      info = l.text;
      break;
    }
    const [firstUid, firstDir, firstPid] = info.split(' ');
    try {
      const probe = [
        'echo "uid=$(id -u)"',
        `ls "${firstDir}" >/dev/null 2>&1 && echo list=yes || echo list=no`,
        `cat "${firstDir}/mine" 2>/dev/null || echo read=no`,
        `kill -0 ${firstPid} 2>&1 || echo signal=no`,
      ].join('\n');
      const second = await ls.submit({ command: ['sh', '-c', probe] });
      await ls.waitForJob(second.id);
      const lines = await logLines(ls, second.id);
      expect(lines, lines.join('\n')).toContain('list=no');
      expect(lines).toContain('read=no');
      expect(lines).toContain('signal=no');
      expect(lines.join('\n')).toMatch(/Operation not permitted/);
      expect(lines).not.toContain('secret');
      const secondUid = /uid=(\d+)/.exec(lines.join('\n'))?.[1];
      expect(secondUid).toBeTruthy();
      expect(secondUid).not.toBe(firstUid);
      // Still running: the first job was not disturbed.
      expect((await ls.getJob(first.id)).state).toBe(JobState.RUNNING);
    } finally {
      await ls.dispatcher.cancelJob({ id: first.id }).catch(() => undefined);
    }
    const cancelled: Job = await ls.waitForJob(first.id);
    expect(cancelled.state).toBe(JobState.CANCELLED);
  });

  it('advertises its isolation in ListAgents', async () => {
    const { agents } = await ls.registry.listAgents({ pool: '' });
    const mine = agents.find((a) => a.id === 'iso-1');
    expect(mine?.isolation).toMatchObject({ separateUsers: true, jobUids: '200000-265535' });
    if (ci) expect(mine?.isolation?.firewall).toBe(true);
    if (mine?.isolation?.firewall) expect(mine.isolation.detail).toMatch(/firewall .*refuses job uids redis/);
  });
});
