import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Executor, PullPolicy, type JobSpec } from '@longshore/client';
import { buildProgram } from './program.js';
import { FakeClient, runWith } from './test-helpers.js';

/** The spec the CLI sent in its one SubmitJob call. */
function submittedSpec(client: FakeClient): JobSpec {
  const calls = client.calls.filter((c) => c.method === 'submitJob');
  expect(calls).toHaveLength(1);
  return (calls[0]!.request as { spec: JobSpec }).spec;
}

describe('longshore submit', () => {
  it('passes everything after -- through verbatim, flags and a second -- included', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--pool', 'ingest', '--', 'ls', '-la', '--json', '--pool', 'x', '--', '--help']);
    expect(run.code).toBe(0);
    expect(submittedSpec(client).command).toEqual(['ls', '-la', '--json', '--pool', 'x', '--', '--help']);
    expect(submittedSpec(client).pool).toBe('ingest');
  });

  it('prints only the job id and a newline on stdout', async () => {
    const run = await runWith(new FakeClient(), ['submit', '--', 'true']);
    expect(run).toEqual({ code: 0, stdout: 'job-1\n', stderr: '' });
  });

  it('maps every flag to its spec field in API units', async () => {
    const client = new FakeClient();
    const run = await runWith(client, [
      'submit',
      '--pool', 'ingest-eu',
      '--weight', '0.25',
      '--executor', 'docker',
      '--image', 'python:3.12',
      '--env', 'A=1',
      '--env', 'B=x=y',
      '--label', 'team=data',
      '--lane', 'ingestion',
      '--workdir', '/srv/job',
      '--timeout', '30s',
      '--memory', '512Mi',
      '--max-attempts', '3',
      '--priority', '-5',
      '--idempotency-key', 'nightly-2024-06-01',
      '--', 'python', 'run.py',
    ]);
    expect(run.stderr).toBe('');
    const spec = submittedSpec(client);
    expect(spec).toMatchObject({
      pool: 'ingest-eu',
      weightMilli: 250,
      executor: Executor.DOCKER,
      image: 'python:3.12',
      env: { A: '1', B: 'x=y' },
      labels: { team: 'data' },
      lane: 'ingestion',
      workingDir: '/srv/job',
      timeoutMs: 30000n,
      memoryBytes: 536870912n,
      maxAttempts: 3,
      priority: -5,
      idempotencyKey: 'nightly-2024-06-01',
      command: ['python', 'run.py'],
    });
  });

  it('maps the docker flags to the spec\'s docker options', async () => {
    const client = new FakeClient();
    const run = await runWith(client, [
      'submit',
      '--executor', 'docker',
      '--image', 'busybox:1',
      '--pull', 'never',
      '--user', '1000:1000',
      '--cpus', '1.5',
      '--network', 'bridge',
      '--docker-label', 'com.example.team=data',
      '--docker-label', 'tier=batch',
      '--read-only',
      '--cap-add', 'cap_sys_ptrace',
      '--cap-add', 'NET_ADMIN',
      '--mount', '/data/in:/in:ro',
      '--mount', '/scratch:/scratch',
      '--device', '/dev/fuse',
      '--privileged',
      '--pid', 'host',
      '--ipc', 'host',
      '--build-step', 'apk add curl',
      '--build-step', 'echo done',
      '--build-arg', 'VERSION=1.2',
      '--', 'true',
    ]);
    expect(run.stderr).toBe('');
    // The CPU limit is the job's own (any executor), not a docker option.
    expect(submittedSpec(client).cpusMilli).toBe(1500);
    expect(submittedSpec(client).docker).toMatchObject({
      pullPolicy: PullPolicy.NEVER,
      user: '1000:1000',
      network: 'bridge',
      labels: { 'com.example.team': 'data', tier: 'batch' },
      readOnlyRoot: true,
      capAdd: ['SYS_PTRACE', 'NET_ADMIN'],
      mounts: [
        { source: '/data/in', target: '/in', readOnly: true },
        { source: '/scratch', target: '/scratch', readOnly: false },
      ],
      devices: ['/dev/fuse'],
      privileged: true,
      hostPid: true,
      hostIpc: true,
      buildSteps: ['apk add curl', 'echo done'],
      buildArgs: { VERSION: '1.2' },
    });
  });

  it('maps the ecs flags to the spec\'s ECS options, and sends none without them', async () => {
    const client = new FakeClient();
    const overrides = '{"overrides":{"ephemeralStorage":{"sizeInGiB":40}}}';
    const run = await runWith(client, ['submit', '--executor', 'ecs', '--ecs-task-definition', 'etl:3', '--ecs-container', 'main', '--ecs-overrides', overrides, '--', 'true']);
    expect(run.stderr).toBe('');
    expect(submittedSpec(client).executor).toBe(Executor.ECS);
    expect(submittedSpec(client).ecs).toMatchObject({ taskDefinition: 'etl:3', container: 'main', runTaskOverrides: overrides });
    const plain = new FakeClient();
    await runWith(plain, ['submit', '--executor', 'ecs', '--image', 'busybox:1', '--', 'true']);
    expect(submittedSpec(plain).ecs).toBeUndefined();
  });

  it('sends no docker options when no docker flag is given', async () => {
    const client = new FakeClient();
    await runWith(client, ['submit', '--executor', 'docker', '--image', 'busybox:1', '--', 'true']);
    expect(submittedSpec(client).docker).toBeUndefined();
  });

  it('leaves unset flags at zero, which the API reads as "the default"', async () => {
    const client = new FakeClient();
    await runWith(client, ['submit', '--', 'true']);
    expect(submittedSpec(client)).toMatchObject({ pool: '', weightMilli: 0, executor: Executor.UNSPECIFIED, timeoutMs: 0n, memoryBytes: 0n, priority: 0 });
  });

  it('takes --allow as the auto chain, implying --executor auto', async () => {
    const client = new FakeClient();
    await runWith(client, ['submit', '--allow', 'ecs,docker,subprocess', '--', 'true']);
    expect(submittedSpec(client)).toMatchObject({ executor: Executor.AUTO, allowedExecutors: [Executor.ECS, Executor.DOCKER, Executor.SUBPROCESS] });
  });

  it.each([
    [['--weight', 'abc'], "'--weight <w>'", 'e.g. 0.25'],
    [['--weight', '0'], "'--weight <w>'", 'e.g. 0.25'],
    [['--weight', '1.2345'], "'--weight <w>'", 'e.g. 0.25'],
    [['--timeout', 'xyz'], "'--timeout <duration>'", 'e.g. 30s'],
    [['--memory', 'lots'], "'--memory <size>'", 'e.g. 512Mi'],
    [['--env', 'NOEQUALS'], "'--env <K=V>'", 'e.g. --env LOG_LEVEL=debug'],
    [['--env', '1BAD=x'], "'--env <K=V>'", 'not a valid name'],
    [['--priority', '1.5'], "'--priority <n>'", 'e.g. 10 or -5'],
    [['--max-attempts', '0'], "'--max-attempts <n>'", 'e.g. 3'],
    [['--executor', 'shell'], "'--executor <name>'", 'subprocess, docker'],
    [['--allow', 'docker,shell'], "'--allow <list>'", 'e.g. --allow'],
    [['--pool', 'Bad_Pool'], "'--pool <pool>'", 'ingest-eu'],
    [['--pull', 'sometimes'], "'--pull <policy>'", 'always, if_not_present, never'],
    [['--cpus', '0'], "'--cpus <n>'", 'e.g. 0.5'],
    [['--cpus', 'two'], "'--cpus <n>'", 'e.g. 0.5, 1.5'],
    [['--docker-label', 'nokey'], "'--docker-label <K=V>'", 'e.g. --docker-label com.example.team=data'],
    [['--cap-add', 'sys-ptrace'], "'--cap-add <cap>'", 'e.g. SYS_PTRACE'],
    [['--mount', '/data'], "'--mount <src:dst[:ro]>'", 'e.g. /data/in:/in:ro'],
    [['--mount', '/a:/b:rx'], "'--mount <src:dst[:ro]>'", 'e.g. /data/in:/in:ro'],
    [['--mount', 'data:/in'], "'--mount <src:dst[:ro]>'", 'both paths must be absolute'],
    [['--device', '/etc/passwd'], "'--device <path>'", 'e.g. /dev/fuse'],
    [['--pid', 'container'], "'--pid <mode>'", 'host'],
    [['--build-step', ' '], "'--build-step <cmd>'", 'e.g. --build-step'],
    [['--build-arg', '1X=y'], "'--build-arg <K=V>'", 'not a valid name'],
  ])('refuses %j with exit 2, naming the flag and an example', async (flags, flag, hint) => {
    const client = new FakeClient();
    const run = await runWith(client, ['submit', ...flags, '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(flag);
    expect(run.stderr).toContain(hint);
    expect(run.stdout).toBe('');
    expect(client.calls).toEqual([]);
  });

  it.each([
    [['submit'], 'give the command to run after --'],
    [['submit', '--pool', 'a', '--'], 'give the command to run after --'],
    [['submit', '--executor', 'auto', '--', 'true'], '--executor auto needs the chain'],
    [['submit', '--executor', 'docker', '--allow', 'ecs', '--', 'true'], '--allow is the chain for --executor auto'],
    [['submit', '--wait', '--json', '--', 'true'], '--json cannot be used with --wait'],
    [['submit', 'ls', '-la'], "unknown option '-la'"],
  ])('%j is a usage error (exit 2, nothing sent)', async (argv, message) => {
    const client = new FakeClient();
    const run = await runWith(client, argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(client.calls).toEqual([]);
  });

  it('prints the job as protobuf JSON with --json (on submit or on the root)', async () => {
    for (const argv of [['submit', '--json', '--', 'echo', 'hi'], ['--json', 'submit', '--', 'echo', 'hi']]) {
      const run = await runWith(new FakeClient(), argv);
      expect(run.code).toBe(0);
      const job = JSON.parse(run.stdout) as { id: string; state: string; spec: { command: string[] } };
      expect(job).toMatchObject({ id: 'job-1', state: 'JOB_STATE_QUEUED', spec: { command: ['echo', 'hi'] } });
    }
  });

  it('--help exits 0 and shows usage and an example', async () => {
    const client = new FakeClient();
    const run = await runWith(client, ['submit', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: longshore submit [options] -- CMD [ARG...]');
    expect(run.stdout).toMatch(/Examples:\n\s+\$ longshore submit/);
    expect(run.stdout).toMatch(/\n\s+--cpus\b[^\n]*CPU limit/);
    for (const flag of ['--pull', '--user', '--network', '--docker-label', '--read-only', '--cap-add', '--mount', '--device', '--privileged', '--pid', '--ipc', '--build-step', '--build-arg']) {
      expect(run.stdout, flag).toMatch(new RegExp(`\\n\\s+${flag}\\b[^\\n]*docker: `));
    }
    expect(client.calls).toEqual([]);
  });

  it('uses --dispatcher, else LONGSHORE_DISPATCHER, for the client', async () => {
    const seen: string[] = [];
    const sink = new Writable({ write: (_c, _e, done) => done() });
    for (const [argv, env] of [
      [['submit', '--', 'true'], { LONGSHORE_DISPATCHER: 'env-host:1' }],
      [['--dispatcher', 'flag-host:2', 'submit', '--', 'true'], { LONGSHORE_DISPATCHER: 'env-host:1' }],
      [['submit', '--', 'true'], {}],
    ] as const) {
      await buildProgram({ stdout: sink, stderr: sink, env }, {
        connect: (opts) => {
          seen.push(opts.dispatcher ?? '?');
          return new FakeClient();
        },
      }).run(argv);
    }
    expect(seen).toEqual(['env-host:1', 'flag-host:2', '127.0.0.1:7400']);
  });
});
