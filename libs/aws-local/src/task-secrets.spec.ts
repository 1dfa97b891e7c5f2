import { waitFor } from '@longshore/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ECS_TARGET, startAwsLocalEndpoint, type AwsLocalEndpoint } from './endpoint.js';
import { SECRETS_MANAGER_TARGET } from './secrets-manager.js';
import { FakeRuntime } from './spec-helpers.js';

// A task definition's container `secrets` (valueFrom), fetched from the endpoint's Secrets Manager
// when the task starts, as ECS does with the task's execution role.
const IMAGE = 'app:1';
const ROLE = 'arn:aws:iam::000000000000:role/exec';
let endpoint: AwsLocalEndpoint | undefined;
let runtime: FakeRuntime;

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function raw(action: string, body: unknown, target = ECS_TARGET): Promise<{ status: number; body: Json }> {
  const res = await fetch(endpoint!.url, { method: 'POST', headers: { 'x-amz-target': `${target}.${action}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
}

async function call(action: string, body: unknown, target = ECS_TARGET): Promise<Json> {
  const got = await raw(action, body, target);
  if (got.status !== 200) throw new Error(`${action}: ${got.status} ${JSON.stringify(got.body)}`);
  return got.body;
}

async function start(): Promise<void> {
  runtime = new FakeRuntime();
  runtime.images.add(IMAGE);
  endpoint = await startAwsLocalEndpoint({ runtime, onError: () => undefined });
}

async function runWithSecrets(secrets: { name: string; valueFrom: string }[], family = 'fam'): Promise<string> {
  await call('RegisterTaskDefinition', { family, executionRoleArn: ROLE, containerDefinitions: [{ name: 'main', image: IMAGE, environment: [{ name: 'PLAIN', value: 'p' }], secrets }] });
  const out = await call('RunTask', { taskDefinition: family, overrides: { containerOverrides: [{ name: 'main', environment: [{ name: 'JOB', value: 'j' }] }] } });
  return out['tasks'][0].taskArn as string;
}

const describeTask = async (arn: string) => (await call('DescribeTasks', { tasks: [arn] }))['tasks'][0] as Json;
const inState = (arn: string, status: string) => waitFor(async () => ((await describeTask(arn))['lastStatus'] === status ? describeTask(arn) : undefined), { what: `task ${status}` });

describe('container secrets of the local endpoint', () => {
  it('gives the container each secret (whole, a JSON key, a pinned version) when the task starts, and shows none of them', async () => {
    await start();
    const token = await call('CreateSecret', { Name: 'p/TOKEN', SecretString: 'token-v1-abcdef' }, SECRETS_MANAGER_TARGET);
    const db = await call('CreateSecret', { Name: 'p/DB', SecretString: JSON.stringify({ user: 'app', password: 'db-pw-123456' }) }, SECRETS_MANAGER_TARGET);
    await call('PutSecretValue', { SecretId: 'p/TOKEN', SecretString: 'token-v2-abcdef' }, SECRETS_MANAGER_TARGET);
    const arn = await runWithSecrets([
      { name: 'TOKEN_NOW', valueFrom: token['ARN'] as string },
      { name: 'TOKEN_THEN', valueFrom: `${token['ARN']}:::${token['VersionId']}` },
      { name: 'PW', valueFrom: `${db['ARN']}:password::${db['VersionId']}` },
      { name: 'BY_NAME', valueFrom: 'p/TOKEN' },
    ]);
    const running = await inState(arn, 'RUNNING');
    expect(runtime.started[0]!.spec.env).toEqual({ PLAIN: 'p', JOB: 'j', TOKEN_NOW: 'token-v2-abcdef', TOKEN_THEN: 'token-v1-abcdef', PW: 'db-pw-123456', BY_NAME: 'token-v2-abcdef' });
    const shown = JSON.stringify([running, await call('DescribeTaskDefinition', { taskDefinition: 'fam' })]);
    for (const v of ['token-v1-abcdef', 'token-v2-abcdef', 'db-pw-123456']) expect(shown).not.toContain(v);
  });

  it('fails the task to start, as ECS does (ResourceInitializationError), when a secret, its version or its JSON key cannot be had', async () => {
    await start();
    const db = await call('CreateSecret', { Name: 'p/DB', SecretString: '{"user":"app"}' }, SECRETS_MANAGER_TARGET);
    const cases: [string, RegExp][] = [
      ['arn:aws:secretsmanager:us-east-1:000000000000:secret:p/NOPE-abcdef', /can't find the specified secret\.$/],
      [`${db['ARN']}:::no-such-version`, /VersionId: no-such-version/],
      [`${db['ARN']}:password::`, /did not contain json key password/],
      ['arn:aws:ssm:us-east-1:000000000000:parameter/x', /not a Secrets Manager secret ARN/],
    ];
    for (const [i, [valueFrom, why]] of cases.entries()) {
      const t = await inState(await runWithSecrets([{ name: 'S', valueFrom }], `fam${i}`), 'STOPPED');
      expect(t['stopCode'], valueFrom).toBe('TaskFailedToStart');
      expect(t['stoppedReason'], valueFrom).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: /);
      expect(t['stoppedReason'], valueFrom).toMatch(why);
      expect(t['containers'][0].exitCode).toBeUndefined();
    }
    expect(runtime.started).toEqual([]);
  });

  it('refuses a task definition with secrets but no execution role, as ECS does', async () => {
    await start();
    const got = await raw('RegisterTaskDefinition', { family: 'f', containerDefinitions: [{ name: 'main', image: IMAGE, secrets: [{ name: 'S', valueFrom: 'x' }] }] });
    expect(got).toMatchObject({ status: 400, body: { __type: 'ClientException', message: expect.stringContaining("must also specify a value for 'executionRoleArn'") } });
  });
});
