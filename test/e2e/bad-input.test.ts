import { Code, Executor, type JobSpecInit, type LongshoreClient, type LongshoreError } from '@longshore/client';
import { LIMITS } from '@longshore/domain';
import { startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from './support.js';

describe('bad input is refused with a clear status and leaves nothing behind', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    // No agents: anything wrongly accepted would stay visible in the queue.
    cluster = await startCluster({ agents: 0 });
    ls = connect(cluster);
    await ls.registry.createPool({ id: 'small', maxWeightMilli: 500 });
    await ls.registry.createPool({ id: 'containers', executors: [Executor.DOCKER] });
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
  });

  const cases: [string, JobSpecInit, Code, RegExp][] = [
    ['unknown pool', { pool: 'nope', command: ['true'] }, Code.NotFound, /pool "nope" does not exist \(pools: containers, default, small\)/],
    ['invalid pool id', { pool: 'Not A Pool', command: ['true'] }, Code.InvalidArgument, /pool: .*not a valid name/],
    ['empty command', { command: [] }, Code.InvalidArgument, /command: is empty/],
    ['empty program name', { command: [''] }, Code.InvalidArgument, /command\[0\]/],
    ['weight above the pool maximum', { pool: 'small', weightMilli: 600, command: ['true'] }, Code.InvalidArgument, /weight: 0.6 is more than pool "small" accepts \(at most 0.5/],
    ['weight above any limit', { weightMilli: LIMITS.maxMilli + 1, command: ['true'] }, Code.InvalidArgument, /weight: .*out of range/],
    ['invalid env name', { command: ['true'], env: { 'BAD-NAME': 'x' } }, Code.InvalidArgument, /env\.BAD-NAME: is not a valid variable name/],
    ['oversized env value', { command: ['true'], env: { BIG: 'x'.repeat(LIMITS.envValueBytes + 1) } }, Code.InvalidArgument, /env\.BIG: value is \d+ bytes/],
    ['too many arguments', { command: Array(LIMITS.commandArgs + 1).fill('x') }, Code.InvalidArgument, /command: has \d+ arguments/],
    ['oversized argument', { command: ['echo', 'y'.repeat(LIMITS.argBytes + 1)] }, Code.InvalidArgument, /command\[1\]: is \d+ bytes/],
    ['too many labels', { command: ['true'], labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])) }, Code.InvalidArgument, /labels: has 40 labels/],
    ['invalid label key', { command: ['true'], labels: { 'Not Valid': 'v' } }, Code.InvalidArgument, /labels\.Not Valid/],
    ['absurd timeout', { command: ['true'], timeoutMs: BigInt(LIMITS.maxTimeoutMs) + 1n }, Code.InvalidArgument, /timeout: .*out of range/],
    ['relative working dir', { command: ['true'], workingDir: 'tmp' }, Code.InvalidArgument, /working_dir: must be an absolute path/],
    ['priority out of range', { command: ['true'], priority: 100_000 }, Code.InvalidArgument, /priority/],
    ['docker without an image', { command: ['true'], executor: 2 }, Code.InvalidArgument, /image: executor "docker" needs an image/],
    [
      'an executor its pool does not allow',
      { pool: 'containers', command: ['true'], executor: Executor.SUBPROCESS },
      Code.InvalidArgument,
      /executor: "subprocess" is not an executor of pool "containers", which runs jobs with: docker/,
    ],
    [
      'an auto chain with an executor its pool does not allow',
      { pool: 'containers', command: ['true'], executor: Executor.AUTO, allowedExecutors: [Executor.DOCKER, Executor.SUBPROCESS], image: 'img' },
      Code.InvalidArgument,
      /allowed_executors: "subprocess" is not an executor of pool "containers"/,
    ],
  ];

  async function queuedEverywhere(): Promise<bigint> {
    const { pools } = await ls.registry.listPools({});
    return pools.reduce((s, p) => s + (p.status?.jobsQueued ?? 0n), 0n);
  }

  it.each(cases)('%s', async (_name, spec, code, message) => {
    const before = (await ls.dispatcher.listJobs({ pageSize: 500 })).jobs.length;
    const err = (await ls.submit(spec).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect((await ls.dispatcher.listJobs({ pageSize: 500 })).jobs.length).toBe(before);
    expect(await queuedEverywhere()).toBe(0n);
  });

  it('a batch with one bad spec enqueues none of them, naming the bad one', async () => {
    const err = (await ls.dispatcher
      .submitJobs({ specs: [{ command: ['true'] }, { command: ['true'] }, { command: [] }] })
      .catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.message).toMatch(/^specs\[2\]\.command: is empty/);
    expect(await queuedEverywhere()).toBe(0n);
    expect((await ls.dispatcher.listJobs({})).jobs).toEqual([]);
  });

  it('a pool with no agents still accepts jobs (agents may scale up from zero)', async () => {
    const { jobs } = await ls.dispatcher.submitJobs({ specs: [{ command: ['true'], pool: 'small' }, { command: ['true'], pool: 'small' }] });
    expect(jobs).toHaveLength(2);
    expect((await ls.registry.getPool({ id: 'small' })).pool!.status!.jobsQueued).toBe(2n);
    for (const j of jobs) await ls.dispatcher.cancelJob({ id: j.id });
  });

  it('refuses malformed ids and page tokens', async () => {
    for (const p of [ls.getJob('../../etc/passwd'), ls.dispatcher.cancelJob({ id: 'x' }), ls.dispatcher.listJobs({ pageToken: 'zz' }), ls.dispatcher.listJobs({ pageSize: 10_000 })]) {
      expect(((await p.catch((e: unknown) => e)) as LongshoreError).code).toBe(Code.InvalidArgument);
    }
  });
});
