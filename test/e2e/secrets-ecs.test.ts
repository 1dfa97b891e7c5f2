import { randomBytes } from 'node:crypto';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTaskDefinitionsCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsLocalEndpoint, type AwsLocalEndpoint } from '@longshore/aws-local';
import { Code, Executor, FailureClass, JobState, type Job, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { startCluster, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpRedis, sha, shaOf } from './secrets-support.js';
import { connect, logLines } from './support.js';

const run = randomBytes(3).toString('hex');
const REGION = 'us-east-1';
const CLUSTER = `secrets-ecs-${run}`;
const FAMILY = `longshore-secrets-e2e-${run}`;
const ROLE = 'arn:aws:iam::000000000000:role/longshore-task-execution';
const V1 = `ecs-secret-v1-${randomBytes(6).toString('hex')}`;
const V2 = `ecs-secret-v2-${randomBytes(6).toString('hex')}`;
const JSON_PW = `ecs-json-pw-${randomBytes(6).toString('hex')}`;
const ENV_VALUE = `ecs-env-secret-${randomBytes(6).toString('hex')}`;
const ALL = [V1, V2, JSON_PW, ENV_VALUE];

// ECS jobs get their Secrets Manager secrets through the task definition's `secrets` (valueFrom),
// which ECS (here the local endpoint) resolves when it starts the task: the value reaches the job
// but not DescribeTasks (nor the overrides it shows), Redis or the job's log.
describeDocker('secrets of ECS jobs: through the task definition, never the overrides', ({ docker, image }) => {
  let endpoint: AwsLocalEndpoint;
  let ecs: ECSClient;
  let sm: SecretsManagerClient;
  let cluster: Cluster;
  let ls: LongshoreClient;
  const ran: Job[] = [];

  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ docker, clusters: [CLUSTER], stopTimeoutSeconds: 2, onError: () => undefined });
    const client = { endpoint: endpoint.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    ecs = new ECSClient(client);
    sm = new SecretsManagerClient(client);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        executionRoleArn: ROLE,
        containerDefinitions: [
          { name: 'main', image, essential: true, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/longshore/${run}`, 'awslogs-stream-prefix': 'job', 'awslogs-region': REGION } } },
        ],
      }),
    );
    await sm.send(new CreateSecretCommand({ Name: `e2e-${run}/API_TOKEN`, SecretString: V1 }));
    await sm.send(new CreateSecretCommand({ Name: `e2e-${run}/DB`, SecretString: JSON.stringify({ user: 'svc', password: JSON_PW }) }));
    cluster = await startCluster({
      agents: [
        {
          LONGSHORE_EXECUTORS: 'subprocess,ecs',
          AWS_REGION: REGION,
          AWS_ENDPOINT_URL_ECS: endpoint.url,
          AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          LONGSHORE_ECS_CLUSTER: CLUSTER,
          LONGSHORE_ECS_CONTAINER: 'main',
          LONGSHORE_ECS_TASK_DEFINITION: FAMILY,
          LONGSHORE_ECS_LAUNCH_TYPE: 'EC2',
          LONGSHORE_ECS_POLL_INTERVAL: '200ms',
          LONGSHORE_SECRET_PROVIDERS: 'aws,env',
          LONGSHORE_SECRET_AWS_PREFIX: `e2e-${run}/`,
          LONGSHORE_SECRET_LOCAL_PW: ENV_VALUE,
          // Every job asks Secrets Manager again: the rotation below reaches the next job.
          LONGSHORE_SECRET_TTL: '0s',
        },
      ],
    });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    ecs?.destroy();
    sm?.destroy();
    await endpoint?.close();
  });

  const runEcs = async (env: Record<string, string>, script: string) => {
    const submitted = await ls.submit({ executor: Executor.ECS, image, maxAttempts: 1, env, command: ['sh', '-c', script] });
    const job = await ls.waitForJob(submitted.id);
    ran.push(job);
    return { job, log: await logLines(ls, job.id) };
  };

  /** Every task of the cluster as DescribeTasks shows it (running or stopped), as text. */
  const describedTasks = async () => {
    const arns: string[] = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) arns.push(...((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, desiredStatus }))).taskArns ?? []));
    expect(arns.length).toBeGreaterThan(0);
    return JSON.stringify((await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns, include: ['TAGS'] }))).tasks);
  };

  /** The `valueFrom` of each secret of each task definition Longshore derived (in the order of their families' names). */
  const derivedSecrets = async () => {
    const arns = (await ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? [];
    const out: string[][] = [];
    for (const arn of arns.filter((a) => a.includes(`${FAMILY}-secrets-`))) {
      const def = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition!;
      out.push((def.containerDefinitions?.[0]?.secrets ?? []).map((s) => `${s.name}=${s.valueFrom}`));
    }
    return out;
  };

  it('gives the job its secret and a JSON field through container secrets pinned to their versions; DescribeTasks, Redis and the log never hold a value', async () => {
    const { job, log } = await runEcs({ T: '${API_TOKEN}', P: '${DB#password}', PLAIN: 'plain' }, `${shaOf('T')}; ${shaOf('P')}; echo "it is $T"; echo "plain=$PLAIN"`);
    expect(job.state, log.join('\n')).toBe(JobState.SUCCEEDED);
    expect(log).toEqual([`T=${sha(V1)}`, `P=${sha(JSON_PW)}`, 'it is ***', 'plain=plain']);
    const uses = job.attempts[0]!.secrets.map((u) => ({ name: u.name, provider: u.provider, version: u.version }));
    expect(uses).toEqual([
      { name: 'API_TOKEN', provider: 'aws', version: expect.any(String) },
      { name: 'DB', provider: 'aws', version: expect.any(String) },
    ]);
    const [derived] = await derivedSecrets();
    expect(derived).toEqual([expect.stringMatching(new RegExp(`^P=arn:aws:secretsmanager:${REGION}:\\d+:secret:e2e-${run}/DB-\\w+:password::${uses[1]!.version}$`)), expect.stringMatching(new RegExp(`^T=arn:aws:secretsmanager:.*:secret:e2e-${run}/API_TOKEN-\\w+:::${uses[0]!.version}$`))]);
    const tasks = await describedTasks();
    // The task's overrides are there (the job's command and its plain variable), the values are not.
    expect(tasks).toContain('"name":"PLAIN"');
    for (const v of ALL) expect(tasks).not.toContain(v);
  });

  it('a rotation reaches the next job: a new version pinned in a new derived revision, and recorded on the attempt', async () => {
    const rotated = await sm.send(new PutSecretValueCommand({ SecretId: `e2e-${run}/API_TOKEN`, SecretString: V2 }));
    const { job, log } = await runEcs({ T: '${API_TOKEN}' }, shaOf('T'));
    expect(job.state, log.join('\n')).toBe(JobState.SUCCEEDED);
    expect(log).toEqual([`T=${sha(V2)}`]);
    expect(job.attempts[0]!.secrets.map((u) => [u.name, u.provider, u.version])).toEqual([['API_TOKEN', 'aws', rotated.VersionId]]);
    expect(await derivedSecrets()).toContainEqual([expect.stringMatching(new RegExp(`^T=.*:secret:e2e-${run}/API_TOKEN-\\w+:::${rotated.VersionId}$`))]);
    // The same secret set again reuses its revision.
    const before = (await derivedSecrets()).length;
    const again = await runEcs({ T: '${API_TOKEN}' }, shaOf('T'));
    expect(again.log).toEqual([`T=${sha(V2)}`]);
    expect((await derivedSecrets()).length).toBe(before);
  });

  it('refuses a reference inside a longer value at submit, and ends start_failed for a secret another provider gives, naming the variable', async () => {
    const err = (await ls.submit({ executor: Executor.ECS, image, env: { URL: 'https://svc:${API_TOKEN}@host' }, command: ['true'] }).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toMatch(/env\.URL: references secret \$\{API_TOKEN\} inside a longer value: an ECS job gets a secret through its task definition's secrets/);
    const { job } = await runEcs({ X: '${LOCAL_PW}' }, 'echo must not run');
    expect(job.state).toBe(JobState.FAILED);
    expect(job.failureClass).toBe(FailureClass.START_FAILED);
    expect(job.message).toMatch(/env\.X: secret LOCAL_PW comes from the env provider on this agent, but an ECS job gets its secrets from Secrets Manager only/);
    expect(job.message).not.toContain(ENV_VALUE);
  });

  it('leaves no value in any Redis key or value, in DescribeTasks or in the agent’s logs', async () => {
    expect(ran.length).toBeGreaterThanOrEqual(4);
    const dump = await dumpRedis(cluster.clientEnv['LONGSHORE_REDIS_URL']!);
    expect(dump).toContain('${API_TOKEN}');
    for (const v of ALL) expect(dump).not.toContain(v);
    const tasks = await describedTasks();
    for (const v of ALL) expect(tasks).not.toContain(v);
    const agentLog = cluster.agents.flatMap((a) => a.lines).join('\n');
    for (const v of ALL) expect(agentLog).not.toContain(v);
  });
});
