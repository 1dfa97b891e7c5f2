import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { AgentSchema, AgentState, Executor } from '@longshore/client';
import { FakeClient, runWith } from './test-helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('longshore agents ls', () => {
  it('prints load, lanes, executors and when each was last seen', async () => {
    const client = new FakeClient();
    client.agents = [
      create(AgentSchema, {
        id: 'agent-a',
        pool: 'ingest',
        host: 'host-1',
        version: '0.1.0',
        capacityMilli: 1000,
        weightInUseMilli: 500,
        runningJobIds: ['j1', 'j2'],
        laneUsage: { ingestion: 1, adhoc: 1 },
        laneLimits: { ingestion: 4, monitor: 10 },
        executors: [Executor.SUBPROCESS, Executor.DOCKER],
        state: AgentState.ACTIVE,
        lastHeartbeat: timestampFromMs(NOW - 2_000),
        isolation: { separateUsers: true, jobUids: '200000-265535', firewall: true, detail: 'jobs run as uids 200000-265535' },
      }),
    ];
    const run = await runWith(client, ['agents', 'ls', '--pool', 'ingest'], { now: NOW });
    expect(client.calls[0]!.request).toEqual({ pool: 'ingest' });
    const [head, row] = run.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^ID\s+POOL\s+STATE\s+HOST\s+CAPACITY\s+IN USE\s+RUNNING\s+LANES\s+EXECUTORS\s+ISOLATION\s+LAST SEEN\s+VERSION$/);
    expect(row).toMatch(/^agent-a\s+ingest\s+active\s+host-1\s+1\s+0\.5\s+2\s+adhoc 1, ingestion 1\/4, monitor 0\/10\s+subprocess, docker\s+uids\+fw\s+2s ago\s+0\.1\.0$/);
  });

  it("shows each executor's state, a long reason cut short; an agent without health shows its executors", async () => {
    const client = new FakeClient();
    const reason = 'connect ENOENT /var/run/docker.sock (and a great deal more the engine client said)';
    client.agents = [
      create(AgentSchema, {
        id: 'a',
        executors: [Executor.SUBPROCESS],
        executorHealth: [
          { executor: Executor.SUBPROCESS, healthy: true },
          { executor: Executor.DOCKER, healthy: false, reason },
        ],
      }),
      create(AgentSchema, { id: 'b', executors: [Executor.SUBPROCESS, Executor.DOCKER], executorHealth: [{ executor: Executor.SUBPROCESS, healthy: true }, { executor: Executor.DOCKER, healthy: true }] }),
      create(AgentSchema, { id: 'c', executors: [Executor.SUBPROCESS] }),
    ];
    const [head, ...rows] = (await runWith(client, ['agents', 'ls'], { now: NOW })).stdout.trimEnd().split('\n');
    const column = (row: string) => row.slice(head!.indexOf('EXECUTORS'), head!.indexOf('ISOLATION')).trimEnd();
    expect(rows.map(column)).toEqual(['subprocess: ok, docker: unreachable (connect ENOENT /var/run/docker.sock (an…)', 'subprocess: ok, docker: ok', 'subprocess']);
  });

  it('shows isolation in a word: uids, none, or - for an agent that does not say', async () => {
    const client = new FakeClient();
    client.agents = [
      create(AgentSchema, { id: 'a', isolation: { separateUsers: true, jobUids: '200000-265535' } }),
      create(AgentSchema, { id: 'b', isolation: { detail: 'not root' } }),
      create(AgentSchema, { id: 'c' }),
    ];
    const rows = (await runWith(client, ['agents', 'ls'], { now: NOW })).stdout.trimEnd().split('\n').slice(1);
    // Columns after EXECUTORS: ISOLATION, LAST SEEN, VERSION.
    expect(rows.map((r) => r.split(/\s+/).at(-3))).toEqual(['uids', 'none', '-']);
    const json = JSON.parse((await runWith(client, ['--json', 'agents', 'ls'])).stdout) as { isolation?: { detail?: string } }[];
    expect(json[1]!.isolation).toEqual({ detail: 'not root' });
  });

  it('--json prints a JSON array', async () => {
    const client = new FakeClient();
    client.agents = [create(AgentSchema, { id: 'agent-a', state: AgentState.LOST })];
    const run = await runWith(client, ['--json', 'agents', 'ls']);
    expect(JSON.parse(run.stdout)).toEqual([{ id: 'agent-a', state: 'AGENT_STATE_LOST' }]);
  });
});

describe('longshore agents get', () => {
  it("shows one agent in full: each executor's state with its whole reason, and its isolation's detail", async () => {
    const client = new FakeClient();
    const reason = 'connect ENOENT /var/run/docker.sock (and a great deal more the engine client said)';
    client.agents = [
      create(AgentSchema, { id: 'other', pool: 'ingest' }),
      create(AgentSchema, {
        id: 'agent-a',
        pool: 'ingest',
        host: 'host-1',
        version: '0.1.0',
        capacityMilli: 1000,
        weightInUseMilli: 250,
        runningJobIds: ['j1'],
        executors: [Executor.SUBPROCESS],
        executorHealth: [
          { executor: Executor.SUBPROCESS, healthy: true },
          { executor: Executor.DOCKER, healthy: false, reason },
        ],
        state: AgentState.ACTIVE,
        lastHeartbeat: timestampFromMs(NOW - 2_000),
        registeredAt: timestampFromMs(NOW - 60_000),
        isolation: { separateUsers: true, jobUids: '200000-265535', firewall: false, detail: 'jobs run as uids 200000-265535; no firewall: no iptables' },
      }),
    ];
    const run = await runWith(client, ['agents', 'get', 'agent-a'], { now: NOW });
    expect(client.calls[0]!.request).toEqual({ pool: '' });
    expect(run.stdout).toBe(
      [
        'id:           agent-a',
        'pool:         ingest',
        'state:        active',
        'host:         host-1',
        'version:      0.1.0',
        'capacity:     1',
        'in use:       0.25',
        'running:      j1',
        'lanes:        -',
        `executors:    subprocess: ok, docker: unreachable (${reason})`,
        'docker allow: -',
        'isolation:    uids (jobs run as uids 200000-265535; no firewall: no iptables)',
        'labels:       -',
        'registered:   2025-06-01T11:59:00Z (1m ago)',
        'last seen:    2025-06-01T11:59:58Z (2s ago)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await runWith(client, ['--json', 'agents', 'get', 'agent-a'])).stdout) as { executorHealth: unknown[] };
    expect(json.executorHealth).toEqual([{ executor: 'EXECUTOR_SUBPROCESS', healthy: true }, { executor: 'EXECUTOR_DOCKER', reason }]);
  });

  it('names the agents there are when the id is unknown', async () => {
    const client = new FakeClient();
    client.agents = [create(AgentSchema, { id: 'agent-a' })];
    const run = await runWith(client, ['agents', 'get', 'agent-z']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('longshore: error: agent "agent-z" is not registered (agents: agent-a); see longshore agents ls\n');
  });
});
