import { waitFor } from '@longshore/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ECS_TARGET, LOGS_TARGET, startAwsLocalEndpoint, type AwsLocalEndpoint } from './endpoint.js';
import { parseFaultSpec } from './faults.js';
import { FakeRuntime } from './spec-helpers.js';
import { OOM_REASON } from './task.js';

const IMAGE = 'app:1';
let endpoint: AwsLocalEndpoint | undefined;
let runtime: FakeRuntime;

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

async function start(): Promise<AwsLocalEndpoint> {
  runtime = new FakeRuntime();
  runtime.images.add(IMAGE);
  endpoint = await startAwsLocalEndpoint({ runtime, clusters: ['c1'], stopTimeoutSeconds: 7, onError: () => undefined });
  return endpoint;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function raw(action: string, body: unknown, target = ECS_TARGET): Promise<{ status: number; body: Json; errorType: string | null }> {
  const res = await fetch(endpoint!.url, {
    method: 'POST',
    headers: { 'x-amz-target': `${target}.${action}`, 'content-type': 'application/x-amz-json-1.1' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json, errorType: res.headers.get('x-amzn-errortype') };
}

async function call(action: string, body: unknown, target = ECS_TARGET): Promise<Json> {
  const got = await raw(action, body, target);
  if (got.status !== 200) throw new Error(`${action}: ${got.status} ${JSON.stringify(got.body)}`);
  return got.body;
}

const container = (extra: Json = {}) => ({ name: 'main', image: IMAGE, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g', 'awslogs-stream-prefix': 'p' } }, ...extra });

async function runOne(containerDefinitions: Json[] = [container()], input: Json = {}): Promise<string> {
  await call('RegisterTaskDefinition', { family: 'fam', containerDefinitions });
  const out = await call('RunTask', { cluster: 'c1', taskDefinition: 'fam', ...input });
  expect(out['failures']).toEqual([]);
  return out['tasks'][0].taskArn as string;
}

async function task(arn: string): Promise<Json> {
  return (await call('DescribeTasks', { cluster: 'c1', tasks: [arn] }))['tasks'][0] as Json;
}

const inState = (arn: string, status: string) => waitFor(async () => ((await task(arn))['lastStatus'] === status ? task(arn) : undefined), { what: `task ${status}` });

describe('the AWS JSON 1.1 protocol', () => {
  it('answers errors as {__type, message} with the status and x-amzn-errortype', async () => {
    await start();
    expect(await raw('Nope', {})).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' }, errorType: 'UnknownOperationException' });
    expect(await raw('ListTasks', '{not json')).toMatchObject({ status: 400, body: { __type: 'SerializationException' } });
    expect(await raw('RunTask', { cluster: 'nope', taskDefinition: 'x' })).toMatchObject({ status: 400, body: { __type: 'ClusterNotFoundException', message: expect.stringContaining('nope') } });
    expect(await raw('DescribeTaskDefinition', { taskDefinition: 'missing' })).toMatchObject({ status: 400, body: { __type: 'ClientException' } });
    expect(await raw('GetLogEvents', { logGroupName: 'g', logStreamName: 's' }, LOGS_TARGET)).toMatchObject({ status: 400, body: { __type: 'ResourceNotFoundException' } });
  });

  it('throttles the next N calls of an action when told, and counts every call', async () => {
    await start();
    endpoint!.faults.inject({ throttle: { action: 'ListTasks', count: 2 } });
    expect((await raw('ListTasks', {})).body['__type']).toBe('ThrottlingException');
    expect((await raw('ListTasks', {})).status).toBe(400);
    expect(await call('ListTasks', {})).toEqual({ taskArns: [] });
    expect(endpoint!.stats()).toEqual({ ListTasks: 3 });
    const res = await fetch(`${endpoint!.url}/_longshore/stats`);
    expect(await res.json()).toEqual({ calls: { ListTasks: 3 } });
  });

  it('answers the next N calls of an action late when told: the call has taken effect before its answer comes', async () => {
    await start();
    await call('RegisterTaskDefinition', { family: 'fam', containerDefinitions: [container()] });
    endpoint!.faults.inject({ delay: { action: 'RunTask', count: 1, ms: 600_000 } });
    let answered = false;
    const pending = raw('RunTask', { cluster: 'c1', taskDefinition: 'fam' }).then((r) => ((answered = true), r));
    // The task exists, and runs, while its caller still waits.
    const [arn] = await waitFor(async () => {
      const listed = (await call('ListTasks', { cluster: 'c1' }))['taskArns'] as string[];
      return listed.length ? listed : undefined;
    });
    await inState(arn!, 'RUNNING');
    expect(answered).toBe(false);
    // The next call is answered at once; closing lets the held answer go.
    expect((await call('RunTask', { cluster: 'c1', taskDefinition: 'fam' }))['tasks']).toHaveLength(1);
    await endpoint!.close();
    endpoint = undefined;
    await pending.catch(() => undefined);
    expect(() => parseFaultSpec({ delay: { action: 'RunTask', count: 1, ms: -1 } })).toThrow(/delay\.ms must be an integer/);
    expect(() => parseFaultSpec({ delay: { count: 1, ms: 5 } })).toThrow(/delay\.action/);
  });

  it('refuses a malformed fault spec on the control API, naming the field', async () => {
    await start();
    const res = await fetch(`${endpoint!.url}/_longshore/faults`, { method: 'POST', body: JSON.stringify({ throttle: { action: 'RunTask', count: 0 } }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json)['message']).toMatch(/throttle.count/);
  });

  it('refuses to listen beyond loopback unless allowed', async () => {
    await expect(startAwsLocalEndpoint({ runtime: new FakeRuntime(), host: '0.0.0.0' })).rejects.toThrow(/allowRemote/);
  });
});

describe('a task', () => {
  it('moves PROVISIONING → RUNNING → STOPPED with its container exit code, its output in its log stream', async () => {
    await start();
    await call('RegisterTaskDefinition', { family: 'fam', containerDefinitions: [container()] });
    const ran = await call('RunTask', { cluster: 'c1', taskDefinition: 'fam' });
    expect(ran['tasks'][0]).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' });
    const arn = ran['tasks'][0].taskArn as string;
    await inState(arn, 'RUNNING');
    const c = runtime.started[0]!;
    c.print('hello');
    c.exit(3);
    const t = await inState(arn, 'STOPPED');
    expect(t).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(t['containers']).toEqual([expect.objectContaining({ name: 'main', lastStatus: 'STOPPED', exitCode: 3 })]);
    expect(typeof t['createdAt']).toBe('number'); // epoch seconds
    const id = arn.split('/').at(-1);
    const events = await call('GetLogEvents', { logGroupName: 'g', logStreamName: `p/main/${id}`, startFromHead: true }, LOGS_TARGET);
    expect(events['events'].map((e: Json) => e['message'])).toEqual(['hello']);
  });

  it('reports OOM as the container reason ECS gives', async () => {
    await start();
    const arn = await runOne();
    await inState(arn, 'RUNNING');
    runtime.started[0]!.exit(137, true);
    expect((await inState(arn, 'STOPPED'))['containers'][0]).toMatchObject({ exitCode: 137, reason: OOM_REASON });
  });

  it('fails to start without an exit code when the image cannot be had or the container cannot start', async () => {
    await start();
    const pull = await inState(await runOne([container({ image: 'missing:1' })]), 'STOPPED');
    expect(pull).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: expect.stringMatching(/^CannotPullContainerError: /) });
    expect(pull['containers'][0].exitCode).toBeUndefined();
    runtime.startError = new Error('exec: "nope": executable file not found');
    const refused = await inState(await runOne(), 'STOPPED');
    expect(refused).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: expect.stringMatching(/^CannotStartContainerError: /) });
  });

  it('fails to start on an injected fault, and places nothing on an injected RunTask failure', async () => {
    await start();
    endpoint!.faults.inject({ failToStart: { count: 1 }, runTaskFailures: { count: 1, reason: 'AGENT' } });
    await call('RegisterTaskDefinition', { family: 'fam', containerDefinitions: [container()] });
    expect(await call('RunTask', { cluster: 'c1', taskDefinition: 'fam' })).toEqual({ tasks: [], failures: [expect.objectContaining({ reason: 'AGENT' })] });
    const out = await call('RunTask', { cluster: 'c1', taskDefinition: 'fam' });
    const t = await inState(out['tasks'][0].taskArn as string, 'STOPPED');
    expect(t['stopCode']).toBe('TaskFailedToStart');
    expect(runtime.started).toEqual([]);
  });

  it('stops on StopTask with the reason given: before it started (no container), and while running (docker stop with its grace)', async () => {
    await start();
    endpoint!.faults.inject({ slowStart: { count: 1, ms: 600_000 } });
    const early = await runOne();
    await call('StopTask', { cluster: 'c1', task: early, reason: 'cancelled' });
    expect(await inState(early, 'STOPPED')).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'cancelled' });
    expect(runtime.started).toEqual([]);

    const arn = await runOne([container({ stopTimeout: 5 })]);
    await inState(arn, 'RUNNING');
    const stop = await call('StopTask', { cluster: 'c1', task: arn });
    expect(stop['task']).toMatchObject({ desiredStatus: 'STOPPED' });
    expect(await inState(arn, 'STOPPED')).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    expect(runtime.started[0]!.stops).toEqual([5]);
  });

  it('stops the other containers when an essential one exits', async () => {
    await start();
    const arn = await runOne([container(), { name: 'side', image: IMAGE, essential: false }]);
    await inState(arn, 'RUNNING');
    runtime.started[0]!.exit(0);
    const t = await inState(arn, 'STOPPED');
    expect(runtime.started[1]!.stops).toEqual([7]);
    expect(t['containers'].map((c: Json) => [c['name'], c['exitCode']])).toEqual([
      ['main', 0],
      ['side', 137],
    ]);
  });

  it('runs the definition with the overrides merged: command replaced, environment by name, memory; no network unless asked', async () => {
    await start();
    const def = container({ command: ['old'], environment: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], memory: 64 });
    await runOne([def], { overrides: { containerOverrides: [{ name: 'main', command: ['new', 'arg'], environment: [{ name: 'B', value: 'two' }], memory: 128 }] } });
    expect(runtime.started[0]!.spec).toMatchObject({ image: IMAGE, command: ['new', 'arg'], env: { A: '1', B: 'two' }, memoryMiB: 128, network: 'none' });
    await call('RegisterTaskDefinition', { family: 'net', networkMode: 'bridge', containerDefinitions: [container()] });
    await call('RunTask', { cluster: 'c1', taskDefinition: 'net' });
    await waitFor(() => runtime.started.length === 2);
    expect(runtime.started[1]!.spec.network).toBe('bridge');
  });

  it('refuses RunTask input past ECS limits, naming the parameter', async () => {
    await start();
    await call('RegisterTaskDefinition', { family: 'fam', containerDefinitions: [container()] });
    const refused = (input: Json) => raw('RunTask', { cluster: 'c1', taskDefinition: 'fam', ...input });
    expect((await refused({ startedBy: 'x'.repeat(37) })).body).toMatchObject({ __type: 'InvalidParameterException', message: expect.stringContaining('startedBy') });
    expect((await refused({ count: 11 })).body['message']).toMatch(/count/);
    expect((await refused({ launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] })).body['__type']).toBe('InvalidParameterException');
    expect((await refused({ overrides: { containerOverrides: [{ name: 'other' }] } })).body['message']).toMatch(/other/);
    await call('RegisterTaskDefinition', { family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [container()] });
    expect((await raw('RunTask', { cluster: 'c1', taskDefinition: 'vpc' })).body['message']).toMatch(/Network Configuration/);
    const tooMany = { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['a', 'b', 'c', 'd', 'e', 'f'] } };
    expect((await raw('RunTask', { cluster: 'c1', taskDefinition: 'vpc', networkConfiguration: tooMany })).body['message']).toMatch(/securityGroups/);
  });

  it('accepts and echoes launch type, platform version and an awsvpc network configuration', async () => {
    await start();
    await call('RegisterTaskDefinition', { family: 'vpc', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '256', memory: '512', containerDefinitions: [container()] });
    const input = { launchType: 'FARGATE', platformVersion: 'LATEST', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'DISABLED' } } };
    const t = (await call('RunTask', { cluster: 'c1', taskDefinition: 'vpc', ...input }))['tasks'][0] as Json;
    expect(t).toMatchObject({ launchType: 'FARGATE', platformVersion: 'LATEST', cpu: '256', memory: '512' });
    expect(t['attachments'][0]).toMatchObject({ type: 'ElasticNetworkInterface', details: expect.arrayContaining([{ name: 'subnetId', value: 'subnet-1' }]) });
    await waitFor(() => runtime.started.length === 1);
    // Fargate's task size is the lone container's limit; awsvpc gets no network here.
    expect(runtime.started[0]!.spec).toMatchObject({ memoryMiB: 512, cpuLimitUnits: 256, network: 'none' });
  });

  it('is removed with every other container when the endpoint closes', async () => {
    await start();
    const arn = await runOne();
    await inState(arn, 'RUNNING');
    const first = endpoint!.close();
    expect(endpoint!.close()).toBe(first);
    await first;
    expect(runtime.removedAll).toBe(1);
    endpoint = undefined;
  });
});
