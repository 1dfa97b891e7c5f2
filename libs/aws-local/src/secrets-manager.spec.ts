import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsLocalEndpoint, type AwsLocalEndpoint } from './endpoint.js';
import { FakeRuntime } from './spec-helpers.js';

// The endpoint's Secrets Manager, as AWS's own clients see it: the JS SDK and the aws CLI.
describe('the local Secrets Manager', () => {
  let endpoint: AwsLocalEndpoint;
  let sm: SecretsManagerClient;
  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ runtime: new FakeRuntime(), onError: () => undefined });
    sm = new SecretsManagerClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    sm?.destroy();
    await endpoint?.close();
  });

  it('keeps versions with AWS staging labels: a new value is AWSCURRENT, the one before AWSPREVIOUS', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'team/db', SecretString: 'first' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:team\/db-[0-9a-f]{6}$/);
    const first = await sm.send(new GetSecretValueCommand({ SecretId: 'team/db' }));
    expect(first).toMatchObject({ Name: 'team/db', SecretString: 'first', VersionId: created.VersionId, VersionStages: ['AWSCURRENT'] });
    const put = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'second' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'team/db' }))).SecretString).toBe('second');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'team/db', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('first');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'team/db', VersionId: created.VersionId }))).SecretString).toBe('first');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'team/db' }));
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'] });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'team/db' }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([created.VersionId, put.VersionId]);
  });

  it('answers unknown secrets and taken names with the errors of the API reference', async () => {
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await sm.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'x' }));
    await expect(sm.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'y' }))).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('is accepted by the aws CLI: create-secret, put-secret-value, get-secret-value', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const aws = async (...args: string[]) => JSON.parse((await promisify(execFile)('aws', ['secretsmanager', ...args, '--endpoint-url', endpoint.url, '--output', 'json'], { env, timeout: 120_000 })).stdout) as Record<string, unknown>;
    await aws('create-secret', '--name', 'cli/token', '--secret-string', '{"user":"u","password":"p"}');
    await aws('put-secret-value', '--secret-id', 'cli/token', '--secret-string', '{"user":"u","password":"rotated"}');
    const got = await aws('get-secret-value', '--secret-id', 'cli/token');
    expect(got).toMatchObject({ Name: 'cli/token', SecretString: '{"user":"u","password":"rotated"}', VersionStages: ['AWSCURRENT'] });
  });
});
