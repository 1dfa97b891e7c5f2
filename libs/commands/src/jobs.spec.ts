import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { Executor, FailureClass, JobState } from '@longshore/client';
import { FakeClient, makeJob, runWith } from './test-helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const ID = 'default.0mbx4k2a1f3c2b1a0e9d8c7b6';

function failedJob() {
  return makeJob({
    id: ID,
    state: JobState.FAILED,
    weightMilli: 250,
    spec: { pool: 'ingest', command: ['sh', '-c', "echo 'hi there'"] },
    failureClass: FailureClass.EXIT,
    exitCode: 3,
    message: 'exited with code 3',
    agentId: 'agent-a',
    createdAt: timestampFromMs(NOW - 90_000),
    finishedAt: timestampFromMs(NOW - 5_000),
    attempts: [
      { number: 1, agentId: 'agent-b', executor: Executor.DOCKER, failureClass: FailureClass.START_FAILED, startedAt: timestampFromMs(NOW - 80_000) },
      { number: 2, agentId: 'agent-a', executor: Executor.SUBPROCESS, exitCode: 3, failureClass: FailureClass.EXIT, finishedAt: timestampFromMs(NOW - 5_000) },
    ],
  });
}

describe('longshore jobs', () => {
  it('get shows a readable view with decimal weight, quoted command and attempts', async () => {
    const client = new FakeClient();
    client.jobs.set(ID, failedJob());
    const run = await runWith(client, ['jobs', 'get', ID], { now: NOW });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id: +default\.0mbx4k2a1f3c2b1a0e9d8c7b6$/m);
    expect(run.stdout).toMatch(/^state: +failed$/m);
    expect(run.stdout).toMatch(/^weight: +0\.25$/m);
    expect(run.stdout).toContain(`sh -c 'echo '\\''hi there'\\'''`);
    expect(run.stdout).toMatch(/^failure: +exit: exited with code 3$/m);
    expect(run.stdout).toMatch(/^created: +2025-06-01T11:58:30Z \(2m ago\)$/m);
    expect(run.stdout).toMatch(/^#\s+AGENT\s+EXECUTOR\s+STARTED\s+FINISHED\s+EXIT\s+CLASS\s+WHY$/m);
    expect(run.stdout).toMatch(/^1\s+agent-b\s+docker\s+2025-06-01T11:58:40Z\s+-\s+-\s+start_failed\s+\S.*$/m);
    expect(run.stdout).toMatch(/^2\s+agent-a\s+subprocess\s+-\s+2025-06-01T11:59:55Z\s+3\s+exit\s+\S.*$/m);
  });

  it('get lists the secrets each attempt used with provider and version, and nothing when none were used', async () => {
    const client = new FakeClient();
    const job = failedJob();
    job.attempts[1]!.secrets = [
      { $typeName: 'longshore.v1.SecretUse', name: 'DB_PASSWORD', provider: 'files', version: 'sha256:0123456789ab@2025-06-01T11:00:00.000Z' },
      { $typeName: 'longshore.v1.SecretUse', name: 'API_TOKEN', provider: 'aws', version: 'a1b2c3d4-5678' },
    ];
    client.jobs.set(ID, job);
    const run = await runWith(client, ['jobs', 'get', ID], { now: NOW });
    expect(run.stdout).toMatch(/^secrets used:$/m);
    expect(run.stdout).toMatch(/^#\s+SECRET\s+PROVIDER\s+VERSION$/m);
    expect(run.stdout).toMatch(/^2\s+DB_PASSWORD\s+files\s+sha256:0123456789ab@2025-06-01T11:00:00\.000Z$/m);
    expect(run.stdout).toMatch(/^2\s+API_TOKEN\s+aws\s+a1b2c3d4-5678$/m);
    client.jobs.set(ID, failedJob());
    expect((await runWith(client, ['jobs', 'get', ID], { now: NOW })).stdout).not.toContain('secrets used');
  });

  it('get shows the run detail the executor recorded on the latest attempt (an ECS task\'s Fargate size)', async () => {
    const client = new FakeClient();
    const job = failedJob();
    job.attempts[1]!.runDetail = 'Fargate 1 vCPU / 2 GiB (cpu 1024, memory 2048 MiB)';
    client.jobs.set(ID, job);
    expect((await runWith(client, ['jobs', 'get', ID])).stdout).toMatch(/^run: +Fargate 1 vCPU \/ 2 GiB \(cpu 1024, memory 2048 MiB\)$/m);
    client.jobs.set(ID, failedJob());
    expect((await runWith(client, ['jobs', 'get', ID])).stdout).not.toMatch(/^run:/m);
  });

  it('get shows the trace id, as a link when LONGSHORE_TRACE_URL is a template', async () => {
    const client = new FakeClient();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    client.jobs.set(ID, makeJob({ ...failedJob(), traceId }));
    expect((await runWith(client, ['jobs', 'get', ID])).stdout).toMatch(new RegExp(`^trace: +${traceId}$`, 'm'));
    const linked = await runWith(client, ['jobs', 'get', ID], { env: { LONGSHORE_TRACE_URL: 'http://jaeger:16686/trace/{trace_id}' } });
    expect(linked.stdout).toMatch(new RegExp(`^trace: +${traceId} \\(http://jaeger:16686/trace/${traceId}\\)$`, 'm'));
    client.jobs.set(ID, failedJob());
    expect((await runWith(client, ['jobs', 'get', ID])).stdout).toMatch(/^trace: +-$/m);
  });

  it('get --json prints the job as protobuf JSON', async () => {
    const client = new FakeClient();
    client.jobs.set(ID, failedJob());
    const run = await runWith(client, ['jobs', 'get', '--json', ID]);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: ID, state: 'JOB_STATE_FAILED', exitCode: 3, weightMilli: 250 });
  });

  it('ls sends the filters and prints a table, and the next-page command on stderr', async () => {
    const client = new FakeClient();
    client.listedJobs = [failedJob(), makeJob({ id: 'job-2', state: JobState.RUNNING, weightMilli: 1000, spec: { command: ['x'.repeat(80)] } })];
    client.nextPageToken = 'tok123';
    const run = await runWith(client, ['jobs', 'ls', '--pool', 'ingest', '--state', 'failed', '--label', 'team=data', '--limit', '2'], { now: NOW });
    expect(run.code).toBe(0);
    expect(client.calls[0]!.request).toMatchObject({ pool: 'ingest', state: JobState.FAILED, labels: { team: 'data' }, pageSize: 2, pageToken: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+POOL\s+WEIGHT\s+AGE\s+EXIT\s+COMMAND$/);
    expect(lines[1]).toMatch(new RegExp(`^${ID}\\s+failed\\s+ingest\\s+0\\.25\\s+2m\\s+3\\s+sh -c`));
    expect(lines[2]).toMatch(/^job-2\s+running\s+-\s+1\s+-\s+-\s+x+…$/);
    expect(lines[2]!.length).toBeLessThan(120);
    expect(run.stderr).toBe('next page: longshore jobs ls --pool ingest --state failed --label team=data --limit 2 --page-token tok123\n');
  });

  it('ls --json prints a JSON array', async () => {
    const client = new FakeClient();
    client.listedJobs = [failedJob()];
    const run = await runWith(client, ['jobs', 'ls', '--json']);
    const jobs = JSON.parse(run.stdout) as unknown[];
    expect(jobs).toHaveLength(1);
  });

  it('ls refuses an unknown state', async () => {
    const run = await runWith(new FakeClient(), ['jobs', 'ls', '--state', 'done']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('queued, claimed, running');
  });

  it('cancel prints the resulting state', async () => {
    const client = new FakeClient();
    client.jobs.set(ID, failedJob());
    const run = await runWith(client, ['jobs', 'cancel', ID]);
    expect(run).toMatchObject({ code: 0, stdout: 'cancelled\n' });
    expect(client.calls).toEqual([{ method: 'cancelJob', request: { id: ID } }]);
  });

  it('a job that does not exist is exit 1 with the message', async () => {
    const run = await runWith(new FakeClient(), ['jobs', 'get', 'nope']);
    expect(run).toMatchObject({ code: 1, stderr: 'longshore: error: job "nope" does not exist\n' });
  });
});
