import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ENDPOINT_LABEL, startAwsLocalEndpoint, type AwsLocalEndpoint, type FaultSpec } from '@longshore/aws-local';
import { Executor, FailureClass, JobState, LongshoreClient } from '@longshore/client';
import { repoRoot, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');
const run = randomBytes(3).toString('hex');
const REGION = 'us-east-1';
const CLUSTER = `ecs-exec-${run}`;
const FAMILY = `longshore-e2e-${run}`;
const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

// ECS jobs end to end: the CLI submits, an agent with the ecs executor runs each as an ECS task on
// the local ECS endpoint (which runs it as a container on the run's private Docker engine), and
// the job's output comes back from the endpoint's CloudWatch Logs.
describeDocker('ECS jobs through a cluster and the local ECS endpoint', ({ docker, image }) => {
  let endpoint: AwsLocalEndpoint;
  let cluster: Cluster;
  let ls: LongshoreClient;
  let agentEnv: NodeJS.ProcessEnv;
  // Asynchronous: the endpoint runs in this process and must keep answering while the CLI waits.
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, encoding: 'utf8', timeout: 170_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const ecsJob = (more: string[]) => ['submit', '--executor', 'ecs', '--image', image, '--wait', ...more];
  const inject = (spec: FaultSpec) => endpoint.faults.inject(spec);

  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ docker, clusters: [CLUSTER], stopTimeoutSeconds: 2 });
    const ecs = new ECSClient({ endpoint: endpoint.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        containerDefinitions: [
          { name: 'main', image, essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/longshore/${run}`, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } } },
        ],
      }),
    );
    ecs.destroy();
    agentEnv = {
          LONGSHORE_AGENT_ID: 'ecs-keeper',
          LONGSHORE_ADOPT_WINDOW: '60s',
          LONGSHORE_EXECUTORS: 'subprocess,ecs',
          LONGSHORE_CAPACITY: '50',
          AWS_REGION: REGION,
          AWS_ENDPOINT_URL_ECS: endpoint.url,
          AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url,
          // The endpoint's faults are what the executor must survive, not the SDK's own retries.
          AWS_MAX_ATTEMPTS: '1',
          ...credentials,
          LONGSHORE_ECS_CLUSTER: CLUSTER,
          LONGSHORE_ECS_CONTAINER: 'main',
          LONGSHORE_ECS_TASK_DEFINITION: FAMILY,
          LONGSHORE_ECS_LAUNCH_TYPE: 'EC2',
          LONGSHORE_ECS_POLL_INTERVAL: '200ms',
          LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: '3',
    };
    cluster = await startCluster({ agents: [agentEnv] });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    await endpoint?.close();
  });

  it("prints the task's output and exits with its container's exit code", async () => {
    const r = await cli(ecsJob(['--', 'sh', '-c', 'echo hi; echo there; exit 4']));
    expect(r.stdout).toBe('hi\nthere\n');
    expect(r.code).toBe(4);
    const env = await cli(ecsJob(['--env', 'GREETING=hello ecs', '--', 'sh', '-c', 'echo "$GREETING from $LONGSHORE_JOB_ID"']));
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^hello ecs from \S+\n$/);
  });

  it('each start-failure kind is retried inside the attempt: one failure, and the job still runs', async () => {
    for (const fault of [{ runTaskFailures: { count: 1, reason: 'RESOURCE:MEMORY' } }, { failToStart: { count: 1 } }, { throttle: { action: 'RunTask', count: 1 } }] as FaultSpec[]) {
      inject(fault);
      const r = await cli(ecsJob(['--max-attempts', '1', '--', 'sh', '-c', 'echo ran']));
      expect(r, JSON.stringify(fault)).toMatchObject({ code: 0, stdout: 'ran\n' });
    }
  });

  it('start failures past LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS end start_failed, naming them, never success', async () => {
    inject({ runTaskFailures: { count: 3, reason: 'AGENT' } });
    const r = await cli(ecsJob(['--max-attempts', '1', '--', 'sh', '-c', 'echo must not run']));
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/ECS could not start .* in 3 tries/);
    expect(r.stderr).toContain('AGENT');
  });

  it('survives throttled DescribeTasks polls', async () => {
    inject({ throttle: { action: 'DescribeTasks', count: 3 } });
    const r = await cli(ecsJob(['--', 'sh', '-c', 'sleep 1; echo after the throttling']));
    expect(r).toMatchObject({ code: 0, stdout: 'after the throttling\n' });
  });

  it('a timeout stops the task with StopTask and the job ends timeout', async () => {
    const before = endpoint.stats()['StopTask'] ?? 0;
    const r = await cli(ecsJob(['--timeout', '2s', '--', 'sleep', '300']));
    expect(r.code).toBe(124);
    expect(endpoint.stats()['StopTask'] ?? 0).toBeGreaterThan(before);
  });

  it('a container over its memory is oom', async () => {
    const r = await cli(ecsJob(['--memory', '32Mi', '--', 'sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}']));
    expect(r.code).toBe(137);
    expect(r.stdout).not.toContain('survived');
    expect(r.stderr).toMatch(/oom|memory/i);
  });

  it('refuses at submit an ECS job whose environment cannot fit the 8 KiB overrides', async () => {
    const r = await cli(['submit', '--executor', 'ecs', '--image', image, '--env', `BIG=${'x'.repeat(9000)}`, '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/8192-byte task overrides/);
  });

  it('an agent killed outright and started again with the same id adopts its running task: the job finishes once, in one attempt, with its whole log', async () => {
    const runTasks = endpoint.stats()['RunTask'] ?? 0;
    const job = await ls.submit({
      executor: Executor.ECS,
      image,
      command: ['sh', '-c', 'echo before; until [ -e /away ]; do sleep 0.2; done; echo away; until [ -e /go ]; do sleep 0.2; done; echo after; exit 3'],
    });
    const printed = async (text: string) => {
      for await (const l of ls.logs(job.id)) if (l.text === text) return true;
      return false;
    };
    await waitFor(() => printed('before'), { timeoutMs: 60_000, what: 'the job to print "before"' });
    const [container] = await docker.listContainers({ filters: { label: [ENDPOINT_LABEL] } });
    expect(container, 'the task runs as a container of the endpoint').toBeDefined();
    const touch = async (file: string) => {
      const exec = await docker.getContainer(container!.Id).exec({ Cmd: ['sh', '-c', `: > ${file}`] });
      await exec.start({});
    };

    const agent = cluster.agents[0]!;
    agent.signal('SIGKILL');
    await agent.waitForExit(10_000);
    // Printed while no agent follows it: the adopting agent reads it back from CloudWatch Logs.
    await touch('/away');
    const again = await cluster.startAgent(agentEnv);
    await again.waitForLog((l) => l.msg === 'adopted a run an earlier life of this agent left running' && l['job'] === job.id, 60_000);
    await touch('/go');

    const done = await ls.waitForJob(job.id);
    expect(done).toMatchObject({ state: JobState.FAILED, exitCode: 3, failureClass: FailureClass.EXIT });
    expect(done.attempts, 'the same attempt, adopted: nothing ran twice').toHaveLength(1);
    expect(endpoint.stats()['RunTask'], 'one task started').toBe(runTasks + 1);
    const lines: string[] = [];
    for await (const l of ls.logs(job.id)) lines.push(l.text);
    expect(lines.filter((t) => !t.startsWith('[longshore]'))).toEqual(['before', 'away', 'after']);
  });
});
