import { makeGenericClientConstructor, credentials } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, InvalidArgumentError, LongshoreError } from '@longshore/domain';
import { DispatcherService, JobState } from '@longshore/proto';
import { createLogger, silentLogger } from '@longshore/telemetry';
import { createRpcClient, RpcServer, type ServiceImpl } from './index.js';

const notUsed = () => {
  throw new Error('not used in this test');
};

const impl: ServiceImpl<(typeof DispatcherService)['method']> = {
  async getJob(req) {
    if (req.id === 'bad') throw new InvalidArgumentError('id', 'is bad');
    if (req.id === 'boom') throw new Error('secret internal detail');
    return { job: { id: req.id, state: JobState.RUNNING } };
  },
  async *watchJob(req) {
    for (let i = 0; i < 3; i++) yield { job: { id: `${req.id}-${i}` } };
  },
  async *streamJobLogs(req) {
    yield { lines: [{ text: 'first' }] };
    throw new InvalidArgumentError('id', `no logs for ${req.id}`);
  },
  submitJob: notUsed,
  submitJobs: notUsed,
  listJobs: notUsed,
  cancelJob: notUsed,
  retryJob: notUsed,
};

describe('RpcServer and createRpcClient over a real gRPC server', () => {
  const server = new RpcServer(silentLogger()).register(DispatcherService, impl);
  let address = '';
  beforeAll(async () => {
    address = await server.listen('127.0.0.1:0');
  });
  afterAll(() => server.close(100));

  it('binds a free port and round-trips a unary call', async () => {
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = createRpcClient(DispatcherService, address);
    const res = await c.rpc.getJob({ id: 'j1' });
    expect(res.job?.id).toBe('j1');
    expect(res.job?.state).toBe(JobState.RUNNING);
    c.close();
  });

  it('maps Longshore errors to their status code and message', async () => {
    const c = createRpcClient(DispatcherService, address);
    const err = await c.rpc.getJob({ id: 'bad' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LongshoreError);
    expect((err as LongshoreError).code).toBe(Code.InvalidArgument);
    expect((err as LongshoreError).message).toBe('id: is bad');
    c.close();
  });

  it('turns unexpected errors into INTERNAL without leaking their message', async () => {
    const c = createRpcClient(DispatcherService, address);
    const err = (await c.rpc.getJob({ id: 'boom' }).catch((e: unknown) => e)) as LongshoreError;
    expect(err.code).toBe(Code.Internal);
    expect(err.message).not.toContain('secret');
    c.close();
  });

  it('streams server messages and then an error status', async () => {
    const c = createRpcClient(DispatcherService, address);
    const ids: string[] = [];
    for await (const m of c.rpc.watchJob({ id: 'w' })) ids.push(m.job!.id);
    expect(ids).toEqual(['w-0', 'w-1', 'w-2']);
    const lines: string[] = [];
    const err = await (async () => {
      for await (const m of c.rpc.streamJobLogs({ id: 'x' })) lines.push(...m.lines.map((l) => l.text));
    })().catch((e: unknown) => e);
    expect(lines).toEqual(['first']);
    expect((err as LongshoreError).code).toBe(Code.InvalidArgument);
    c.close();
  });

  it('reports SERVING through grpc.health.v1.Health', async () => {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const h = new Health(address, credentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
      close(): void;
    };
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      h.check({ service: 'longshore.v1.DispatcherService' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(res.status).toBe('SERVING');
    h.close();
  });

  it('gives UNAVAILABLE naming the address when nothing listens', async () => {
    const c = createRpcClient(DispatcherService, '127.0.0.1:1');
    const err = (await c.rpc.getJob({ id: 'j' }, { timeoutMs: 3000 }).catch((e: unknown) => e)) as LongshoreError;
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(err.code);
    expect(err.message).toContain('127.0.0.1:1');
    c.close();
  });
});

describe('a follow stream when its server shuts down', () => {
  it('ends with UNAVAILABLE (reconnect and resume), never with OK as if it had seen everything, and logs no failed request', async () => {
    const following: ServiceImpl<(typeof DispatcherService)['method']> = {
      ...impl,
      // Like the dispatcher's follow: lines until the call's signal says stop.
      async *streamJobLogs(_req, ctx) {
        yield { lines: [{ text: 'first' }] };
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      },
    };
    const logged: { level: string; msg: string }[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logged.push(JSON.parse(line) as { level: string; msg: string });
        done();
      },
    });
    const server = new RpcServer(createLogger('rpc-test', { level: 'debug', destination })).register(DispatcherService, following);
    const address = await server.listen('127.0.0.1:0');
    const c = createRpcClient(DispatcherService, address);
    const lines: string[] = [];
    const ended = (async () => {
      for await (const m of c.rpc.streamJobLogs({ id: 'x', follow: true })) {
        lines.push(...m.lines.map((l) => l.text));
        if (lines.length === 1) void server.close(5000);
      }
    })().then(
      () => 'ended OK',
      (e: unknown) => e,
    );
    const err = await ended;
    expect(lines).toEqual(['first']);
    expect((err as LongshoreError).code).toBe(Code.Unavailable);
    // Shutting down is not a failure: nothing at warn or above, one debug line saying why.
    expect(logged.filter((l) => ['warn', 'error', 'fatal'].includes(l.level))).toEqual([]);
    expect(logged.map((l) => l.msg)).toContain('stream cut short by shutdown: the client is told to reconnect');
    c.close();
  });
});
