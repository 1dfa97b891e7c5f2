import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, Executor, FailureClass, JobState, type Job, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { repoRoot, startCluster, startOtlpReceiver, waitFor, writeKubeSecretVolume, type Cluster, type OtlpReceiver } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsLocalEndpoint, type AwsLocalEndpoint } from '@longshore/aws-local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpRedis, sha, shaOf } from './secrets-support.js';
import { connect, logLines } from './support.js';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');

// Values no test writes anywhere but into the agent's environment and its secrets directory.
const ENV_VALUE = `env-secret-${randomBytes(6).toString('hex')}`;
const FILE_V1 = `file-secret-v1-${randomBytes(6).toString('hex')}`;
const FILE_V2 = `file-secret-v2-${randomBytes(6).toString('hex')}`;
// Characters that URL-encoding changes, so its encoded form differs from the value.
const URLISH = `p@ss w/rd+${randomBytes(4).toString('hex')}!`;
const MULTI_LINES = [`line-one-${randomBytes(4).toString('hex')}`, `line-two-${randomBytes(4).toString('hex')}`];
const JSON_PASSWORD = `json-pw-${randomBytes(6).toString('hex')}`;
const ALL_VALUES = [ENV_VALUE, FILE_V1, FILE_V2, URLISH, ...MULTI_LINES, JSON_PASSWORD];

/** Every form of a value the log must not show: itself, its base64 (with and without padding) and URL-encoded forms. */
function forms(v: string): string[] {
  const b64 = Buffer.from(v).toString('base64');
  return [v, b64.replace(/=+$/, ''), Buffer.from(v).toString('base64url'), encodeURIComponent(v)];
}

describe('secrets by reference: resolved on the agent, never stored, masked in logs', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let receiver: OtlpReceiver;
  const secretsDir = mkdtempSync(join(tmpdir(), 'longshore-secrets-e2e-'));
  const outside = mkdtempSync(join(tmpdir(), 'longshore-secrets-outside-'));
  const agentEnv = {
    LONGSHORE_SECRET_ENV_PW: ENV_VALUE,
    LONGSHORE_SECRETS_DIR: secretsDir,
  };

  beforeAll(async () => {
    // The agent reads its secrets directory; jobs (maybe other uids) never need to.
    chmodSync(secretsDir, 0o700);
    writeKubeSecretVolume(secretsDir, 'v1', {
      FILE_PW: FILE_V1,
      URL_PW: URLISH,
      MULTI: `${MULTI_LINES.join('\n')}\n`,
      DB: JSON.stringify({ user: 'app_user_name', password: JSON_PASSWORD }),
    });
    writeFileSync(join(outside, 'target'), 'outside-the-directory');
    symlinkSync(join(outside, 'target'), join(secretsDir, 'ESCAPE'));
    receiver = await startOtlpReceiver();
    cluster = await startCluster({
      agents: [agentEnv],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    await receiver?.close();
    rmSync(secretsDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const ran: Job[] = [];
  async function runJob(env: Record<string, string>, script: string, extra: { pool?: string } = {}): Promise<{ job: Job; log: string[] }> {
    const submitted = await ls.submit({ command: ['sh', '-c', script], env, maxAttempts: 1, ...extra });
    const job = await ls.waitForJob(submitted.id);
    ran.push(job);
    return { job, log: await logLines(ls, job.id) };
  }

  it('gives a job its secrets from the env and files providers, never the agent’s own variables, and records the versions', async () => {
    const { job, log } = await runJob(
      { A: '${ENV_PW}', B: '${FILE_PW}', LIT: '$${ENV_PW}' },
      // The job prints hashes of what it got, so nothing here depends on masking.
      `${shaOf('A')}; ${shaOf('B')}; echo "lit=$LIT"; echo "agent-vars=$(env | grep -c '^LONGSHORE_SECRET_')"`,
    );
    expect(job.state).toBe(JobState.SUCCEEDED);
    expect(log).toEqual([`A=${sha(ENV_VALUE)}`, `B=${sha(FILE_V1)}`, 'lit=${ENV_PW}', 'agent-vars=0']);
    const uses = job.attempts[0]!.secrets.map((u) => ({ name: u.name, provider: u.provider, version: u.version }));
    expect(uses).toEqual([
      { name: 'ENV_PW', provider: 'env', version: 'env' },
      { name: 'FILE_PW', provider: 'files', version: expect.stringMatching(/^sha256:[0-9a-f]{12}@\d{4}-/) },
    ]);
    // The job's spec keeps the references.
    expect(job.spec?.env).toEqual({ A: '${ENV_PW}', B: '${FILE_PW}', LIT: '$${ENV_PW}' });
  });

  it('picks up a Kubernetes ..data swap on the next job without a restart, and jobs get shows each version', async () => {
    const before = await runJob({ B: '${FILE_PW}' }, shaOf('B'));
    expect(before.log).toEqual([`B=${sha(FILE_V1)}`]);
    writeKubeSecretVolume(secretsDir, 'v2', { FILE_PW: FILE_V2, URL_PW: URLISH, MULTI: `${MULTI_LINES.join('\n')}\n`, DB: JSON.stringify({ user: 'app_user_name', password: JSON_PASSWORD }) });
    const after = await runJob({ B: '${FILE_PW}' }, shaOf('B'));
    expect(after.log).toEqual([`B=${sha(FILE_V2)}`]);
    const v1 = before.job.attempts[0]!.secrets[0]!.version;
    const v2 = after.job.attempts[0]!.secrets[0]!.version;
    expect(v2).not.toBe(v1);
    const shown = cli(['jobs', 'get', after.job.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('secrets used:');
    expect(shown.stdout).toMatch(new RegExp(`1\\s+FILE_PW\\s+files\\s+${v2.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(shown.stdout).not.toContain(FILE_V2);
  });

  it('masks values in the stored log: whole, split across lines, each line of a multi-line value, JSON fields, base64 and URL forms', async () => {
    const half = Math.floor(FILE_V2.length / 2);
    const { job, log } = await runJob(
      { B: '${FILE_PW}', U: '${URL_PW}', M: '${MULTI}', P: '${DB#password}', A: '${ENV_PW}' },
      [
        'echo "plain $B end"',
        // The value cut in two by a newline, as a wrapped line would be.
        `printf '%s\\n%s\\n' "$(printf %s "$B" | cut -c1-${half})" "$(printf %s "$B" | cut -c${half + 1}-)"`,
        'printf "%s" "$M"',
        'echo "json $P"',
        'echo "b64 $(printf %s "$A" | base64)"',
        // encodeURIComponent's form of this value (no shell has one built in).
        `echo "url $(printf %s "$U" | sed -e 's/@/%40/g; s/ /%20/g; s|/|%2F|g; s/+/%2B/g')"`,
        'echo "stderr $A" >&2',
        'echo done',
      ].join('; '),
    );
    expect(job.state).toBe(JobState.SUCCEEDED);
    // stderr is a pipe of its own: where its line lands among stdout's is not fixed.
    expect(log.filter((l) => !l.startsWith('stderr'))).toEqual(['plain *** end', '***', '***', '***', '***', 'json ***', 'b64 ***', 'url ***', 'done']);
    expect(log).toContain('stderr ***');
    const text = log.join('\n');
    for (const v of ALL_VALUES) for (const f of forms(v)) expect(text).not.toContain(f);
  });

  it('masks a value split over two lines printed a second apart (no flush timing), and holds no other line back', async () => {
    const half = Math.floor(FILE_V2.length / 2);
    const submitted = await ls.submit({
      command: ['sh', '-c', `echo start; printf '%s\\n' "$(printf %s "$B" | cut -c1-${half})"; sleep 1; printf '%s end\\n' "$(printf %s "$B" | cut -c${half + 1}-)"; echo waiting; sleep 30`],
      env: { B: '${FILE_PW}' },
      maxAttempts: 1,
    });
    // While the job sleeps, its log has every line it printed: nothing is held that could not begin the value.
    await waitFor(async () => (await logLines(ls, submitted.id)).includes('waiting'), { timeoutMs: 60_000 });
    expect(await logLines(ls, submitted.id)).toEqual(['start', '***', '*** end', 'waiting']);
    await ls.dispatcher.cancelJob({ id: submitted.id });
    const job = await ls.waitForJob(submitted.id);
    ran.push(job);
    const text = (await logLines(ls, job.id)).join('\n');
    expect(text).not.toContain(FILE_V2.slice(0, half));
    expect(text).not.toContain(FILE_V2.slice(half));
  });

  it('ends the attempt start_failed naming a missing secret and the providers tried, and refuses links out of the directory', async () => {
    const missing = await runJob({ X: '${NO_SUCH_SECRET}' }, 'echo ran');
    expect(missing.job.state).toBe(JobState.FAILED);
    expect(missing.job.failureClass).toBe(FailureClass.START_FAILED);
    expect(missing.job.message).toContain('secret NO_SUCH_SECRET was not found in any provider of this agent: tried env (LONGSHORE_SECRET_NO_SUCH_SECRET), files (');
    expect(missing.log).toEqual([]);
    const escape = await runJob({ X: '${ESCAPE}' }, 'echo ran');
    expect(escape.job.failureClass).toBe(FailureClass.START_FAILED);
    expect(escape.job.message).toMatch(/secret ESCAPE could not be read from files: .*ESCAPE leads outside/);
    expect(escape.job.message).not.toContain('outside-the-directory');
  });

  it('refuses at submit references that are not names, and secrets in docker build args', async () => {
    for (const bad of ['${../etc/passwd}', '${a/b}', '${}', '${x']) {
      const err = (await ls.submit({ command: ['true'], env: { X: bad } }).catch((e: unknown) => e)) as LongshoreError;
      expect(err.code, bad).toBe(Code.InvalidArgument);
      expect(err.message, bad).toMatch(/env\.X: secret reference/);
    }
    const build = (await ls
      .submit({ command: ['true'], executor: Executor.DOCKER, image: 'busybox:1', docker: { buildSteps: ['true'], buildArgs: { TOKEN: '${FILE_PW}' } } })
      .catch((e: unknown) => e)) as LongshoreError;
    expect(build.code).toBe(Code.InvalidArgument);
    expect(build.message).toMatch(/docker\.build_args\.TOKEN: references secret \$\{FILE_PW\}.*cached image layer.*env/);
  });

  it('refuses at submit a job referencing a secret outside its pool’s allow-list', async () => {
    await ls.registry.createPool({ id: 'team-ingest', secrets: ['ingest_*', 'ENV_PW'] });
    const err = (await ls.submit({ pool: 'team-ingest', command: ['true'], env: { X: '${FILE_PW}' } }).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toContain('env.X: secret "FILE_PW" is not allowed in pool "team-ingest", whose jobs may use: ingest_*, ENV_PW');
    // Names the list allows are accepted (the pool has no agent: it waits, and is cancelled here).
    const ok = await ls.submit({ pool: 'team-ingest', command: ['true'], env: { X: '${ingest_db}', Y: '${ENV_PW}' } });
    await ls.dispatcher.cancelJob({ id: ok.id });
    const shown = cli(['pools', 'get', 'team-ingest']);
    expect(shown.stdout).toMatch(/secrets:\s+ingest_\*, ENV_PW/);
  });

  it('leaves no value in any Redis key or value, nor in exported spans or the agent’s logs', async () => {
    expect(ran.length).toBeGreaterThan(3);
    const dump = await dumpRedis(cluster.redis.url);
    // The scan saw the jobs themselves (their references), so it would have seen a value too.
    expect(dump).toContain('${FILE_PW}');
    for (const v of ALL_VALUES) expect(dump).not.toContain(v);
    await waitFor(() => receiver.spans.some((s) => s.name === 'attempt' && s.attributes['longshore.job.id'] === ran[ran.length - 1]!.id), { timeoutMs: 30_000 });
    const spans = JSON.stringify(receiver.spans, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    for (const v of ALL_VALUES) expect(spans).not.toContain(v);
    const agentLog = cluster.agents.flatMap((a) => a.lines).join('\n');
    expect(agentLog).toContain('secret providers');
    for (const v of ALL_VALUES) expect(agentLog).not.toContain(v);
  });

  describeDocker('a docker job', ({ host, image }) => {
    beforeAll(async () => {
      await ls.registry.createPool({ id: 'secrets-docker' });
      await cluster.startAgent({ ...agentEnv, LONGSHORE_AGENT_ID: 'agent-docker', LONGSHORE_POOL: 'secrets-docker', LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host });
    });

    it('gets its secret in its container’s env, masked in its log, also split over two lines a second apart', async () => {
      const half = Math.floor(FILE_V2.length / 2);
      const submitted = await ls.submit({
        pool: 'secrets-docker',
        executor: Executor.DOCKER,
        image,
        maxAttempts: 1,
        env: { B: '${FILE_PW}' },
        command: ['sh', '-c', `${shaOf('B')}; echo "it is $B"; echo "$B" | cut -c1-${half}; sleep 1; echo "$B" | cut -c${half + 1}-`],
      });
      const job = await ls.waitForJob(submitted.id);
      expect(job.state).toBe(JobState.SUCCEEDED);
      expect(await logLines(ls, job.id)).toEqual([`B=${sha(FILE_V2)}`, 'it is ***', '***', '***']);
      expect(job.attempts[0]!.secrets.map((u) => u.name)).toEqual(['FILE_PW']);
      const dump = await dumpRedis(cluster.redis.url);
      expect(dump).not.toContain(FILE_V2);
    });
  });
});

// The aws provider for real against the local Secrets Manager (libs/aws-local), as an agent
// configured for AWS would use it: AWS_REGION, the standard endpoint variable, a name prefix.
describe('secrets from AWS Secrets Manager (the local endpoint): rotation without a restart, versions recorded, nothing stored', () => {
  const AWS_V1 = `aws-secret-v1-${randomBytes(6).toString('hex')}`;
  const AWS_V2 = `aws-secret-v2-${randomBytes(6).toString('hex')}`;
  const AWS_JSON_PW = `aws-json-pw-${randomBytes(6).toString('hex')}`;
  let endpoint: AwsLocalEndpoint;
  let sm: SecretsManagerClient;
  let cluster: Cluster;
  let ls: LongshoreClient;

  beforeAll(async () => {
    endpoint = await startAwsLocalEndpoint({ onError: () => undefined });
    sm = new SecretsManagerClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await sm.send(new CreateSecretCommand({ Name: 'e2e/API_TOKEN', SecretString: AWS_V1 }));
    await sm.send(new CreateSecretCommand({ Name: 'e2e/DB', SecretString: JSON.stringify({ user: 'svc', password: AWS_JSON_PW }) }));
    cluster = await startCluster({
      agents: [
        {
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint.url,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          LONGSHORE_SECRET_PROVIDERS: 'aws',
          LONGSHORE_SECRET_AWS_PREFIX: 'e2e/',
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
    sm?.destroy();
    await endpoint?.close();
  });

  const run = async (env: Record<string, string>, script: string) => {
    const job = await ls.waitForJob((await ls.submit({ command: ['sh', '-c', script], env, maxAttempts: 1 })).id);
    return { job, log: await logLines(ls, job.id) };
  };

  it('resolves ${NAME} and ${NAME#key}, picks up a rotation on the next job, and records each VersionId', async () => {
    const first = await run({ T: '${API_TOKEN}', P: '${DB#password}' }, `${shaOf('T')}; ${shaOf('P')}; echo "$T"`);
    expect(first.job.state, first.log.join('\n')).toBe(JobState.SUCCEEDED);
    // The job got the values (their hashes), and printing one shows it masked.
    expect(first.log.slice(0, 2)).toEqual([`T=${sha(AWS_V1)}`, `P=${sha(AWS_JSON_PW)}`]);
    expect(first.log[2]).not.toContain(AWS_V1);
    const rotated = await sm.send(new PutSecretValueCommand({ SecretId: 'e2e/API_TOKEN', SecretString: AWS_V2 }));
    const second = await run({ T: '${API_TOKEN}' }, shaOf('T'));
    expect(second.log).toEqual([`T=${sha(AWS_V2)}`]);
    const versionOf = (job: Job, name: string) => job.attempts[0]!.secrets.find((u) => u.name === name);
    expect(versionOf(second.job, 'API_TOKEN')).toMatchObject({ provider: 'aws', version: rotated.VersionId });
    expect(versionOf(first.job, 'API_TOKEN')?.version).not.toBe(rotated.VersionId);
    const dump = await dumpRedis(cluster.clientEnv['LONGSHORE_REDIS_URL']!);
    for (const v of [AWS_V1, AWS_V2, AWS_JSON_PW]) expect(dump).not.toContain(v);
  });

  it('ends the attempt start_failed naming a secret Secrets Manager does not have', async () => {
    const { job } = await run({ X: '${NOT_THERE}' }, 'true');
    expect(job.state).toBe(JobState.FAILED);
    expect(job.failureClass).toBe(FailureClass.START_FAILED);
    expect(job.message).toContain('NOT_THERE');
    expect(job.message).toContain('aws');
  });
});
