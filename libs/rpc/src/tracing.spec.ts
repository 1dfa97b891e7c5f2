import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@longshore/domain';
import { DispatcherService, JobState } from '@longshore/proto';
import { AlsContextManager, silentLogger } from '@longshore/telemetry';
import { createRpcClient, RpcServer, type HandlerWrapper, type ServiceImpl, type WrappedCall } from './index.js';

const notUsed = () => {
  throw new Error('not used in this test');
};

describe('the gRPC seam: client interceptors, server wrappers and W3C trace context', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const seen: { traceparent?: string; activeTrace?: string }[] = [];
  const wrapped: string[] = [];
  const impl: ServiceImpl<(typeof DispatcherService)['method']> = {
    async getJob(req, ctx) {
      seen.push({ traceparent: ctx.metadata.get('traceparent')[0] as string | undefined, activeTrace: trace.getActiveSpan()?.spanContext().traceId });
      if (req.id === 'bad') throw new InvalidArgumentError('id', 'is bad');
      return { job: { id: req.id, state: JobState.RUNNING } };
    },
    async *watchJob(req) {
      yield { job: { id: req.id } };
    },
    streamJobLogs: notUsed,
    submitJob: notUsed,
    submitJobs: notUsed,
    listJobs: notUsed,
    cancelJob: notUsed,
    retryJob: notUsed,
  };
  const recordCall: HandlerWrapper = (call: WrappedCall, next) => {
    wrapped.push(`${call.kind} ${call.service} ${call.method} ${String(call.metadata.get('x-test')[0] ?? '')}`);
    return next();
  };
  const server = new RpcServer(silentLogger(), { wrappers: [recordCall] }).register(DispatcherService, impl);
  let address = '';
  beforeAll(async () => {
    const cm = new AlsContextManager();
    context.setGlobalContextManager(cm);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    address = await server.listen('127.0.0.1:0');
  });
  afterAll(async () => {
    await server.close(100);
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('carries the caller context in traceparent and runs the handler in a SERVER span under it', async () => {
    const addHeader: Interceptor = (options, next) =>
      new InterceptingCall(next(options), {
        start: (md, listener, n) => {
          md.set('x-test', 'yes');
          n(md, listener);
        },
      });
    const c = createRpcClient(DispatcherService, address, { interceptors: [addHeader] });
    const caller = provider.getTracer('test').startSpan('caller');
    await context.with(trace.setSpan(context.active(), caller), () => c.rpc.getJob({ id: 'j1' }));
    caller.end();
    const err = await c.rpc.getJob({ id: 'bad' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    for await (const m of c.rpc.watchJob({ id: 'w' })) expect(m.job?.id).toBe('w');
    c.close();

    const tid = caller.spanContext().traceId;
    expect(seen[0]!.traceparent).toMatch(new RegExp(`^00-${tid}-${caller.spanContext().spanId}-0[01]$`));
    expect(seen[0]!.activeTrace).toBe(tid);
    expect(wrapped).toEqual([
      'unary longshore.v1.DispatcherService GetJob yes',
      'unary longshore.v1.DispatcherService GetJob yes',
      'server_streaming longshore.v1.DispatcherService WatchJob yes',
    ]);
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(spans.map((s) => s.name)).toEqual([
      'longshore.v1.DispatcherService/GetJob',
      'longshore.v1.DispatcherService/GetJob',
      'longshore.v1.DispatcherService/WatchJob',
    ]);
    const [ok, bad] = spans;
    expect(ok!.spanContext().traceId).toBe(tid);
    expect(ok!.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
    expect(ok!.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'longshore.v1.DispatcherService', 'rpc.method': 'GetJob', 'rpc.grpc.status_code': 0 });
    expect(bad!.attributes['rpc.grpc.status_code']).toBe(3);
    expect(bad!.spanContext().traceId).not.toBe(tid); // no caller context: a trace of its own
  });
});
