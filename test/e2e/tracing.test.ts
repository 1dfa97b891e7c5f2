import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { JobState, type LongshoreClient } from '@longshore/client';
import { AlsContextManager } from '@longshore/telemetry';
import { repoRoot, startCluster, startOtlpReceiver, waitFor, type Cluster, type OtlpReceiver, type ReceivedSpan } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, logLines } from './support.js';

const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

describe('tracing: one trace per job, across the client, the dispatcher and an agent (separate processes)', () => {
  let receiver: OtlpReceiver;
  let cluster: Cluster;
  let ls: LongshoreClient;
  let provider: TracerProvider;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // This test process is the client: its SDK exports to the same receiver.
    provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'tracing-e2e-client' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }) })],
    });
    context.setGlobalContextManager(new AlsContextManager());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    cluster = await startCluster({
      agents: 1,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        // The agent's `job started` line is debug.
        LONGSHORE_LOG_LEVEL: 'debug',
        LONGSHORE_TRACE_REDIS: '1',
      },
    });
    ls = connect(cluster);
  });

  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    await provider?.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
    await receiver?.close();
  });

  /** The trace's spans once every name in `names` arrived (as many times as listed). */
  const spansOf = (traceId: string, names: string[]) =>
    waitFor(
      () => {
        const got = receiver.spans.filter((s) => s.traceId === traceId);
        const enough = names.every((n) => got.filter((s) => s.name === n).length >= names.filter((m) => m === n).length);
        return enough ? got : undefined;
      },
      { timeoutMs: 60_000, what: `spans ${names.join(', ')} of trace ${traceId}` },
    );
  const one = (spans: ReceivedSpan[], name: string) => {
    const found = spans.filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it('links client → dispatcher → enqueue → claim → attempt → start/run/finish, and the job gets its attempt span as TRACEPARENT', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'echo "tp=$TRACEPARENT"'] });
    const done = await ls.waitForJob(job.id);
    expect(done.state).toBe(JobState.SUCCEEDED);
    const traceId = done.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const spans = await spansOf(traceId, ['longshore.v1.DispatcherService/SubmitJob', 'longshore.v1.DispatcherService/SubmitJob', 'enqueue', 'claim', 'attempt', 'executor.start', 'run', 'finish']);
    // By name too: the dispatcher's Redis commands are CLIENT spans of the same trace.
    const client = spans.find((s) => s.kind === SPAN_KIND.client && s.name === 'longshore.v1.DispatcherService/SubmitJob')!;
    const server = spans.find((s) => s.kind === SPAN_KIND.server && s.name === 'longshore.v1.DispatcherService/SubmitJob')!;
    expect(client).toMatchObject({ service: 'tracing-e2e-client', parentSpanId: '', name: 'longshore.v1.DispatcherService/SubmitJob' });
    expect(server).toMatchObject({ service: 'longshore-dispatcher', parentSpanId: client.spanId });
    expect(server.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'longshore.v1.DispatcherService', 'rpc.method': 'SubmitJob', 'rpc.grpc.status_code': 0 });
    const enqueue = one(spans, 'enqueue');
    expect(enqueue).toMatchObject({ service: 'longshore-dispatcher', kind: SPAN_KIND.producer, parentSpanId: server.spanId });
    expect(enqueue.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.destination.name': 'default', 'messaging.message.id': job.id });
    // LONGSHORE_TRACE_REDIS=1: the enqueue's Redis commands are its children, named without their arguments.
    const redis = await waitFor(
      () => {
        const found = receiver.spans.filter((s) => s.traceId === traceId && s.parentSpanId === enqueue.spanId && s.attributes['db.system.name'] === 'redis');
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 60_000, what: "the enqueue's redis spans" },
    );
    for (const r of redis) expect(r.attributes['db.query.text']).toMatch(/^[a-z]+$/);
    const claim = one(spans, 'claim');
    expect(claim).toMatchObject({ service: 'longshore-worker-agent', kind: SPAN_KIND.consumer, parentSpanId: enqueue.spanId });
    expect(claim.links).toContainEqual({ traceId, spanId: enqueue.spanId });
    const attempt = one(spans, 'attempt');
    expect(attempt).toMatchObject({ service: 'longshore-worker-agent', parentSpanId: claim.spanId });
    expect(attempt.attributes).toMatchObject({
      'longshore.job.id': job.id,
      'longshore.pool': 'default',
      'longshore.agent': 'agent-1',
      'longshore.attempt': 1,
      'longshore.weight': done.weightMilli / 1000,
      'longshore.executor': 'subprocess',
      'longshore.exit_code': 0,
      'process.command_args': ['sh', '-c', 'echo "tp=$TRACEPARENT"'],
    });
    for (const name of ['executor.start', 'run', 'finish']) expect(one(spans, name).parentSpanId, name).toBe(attempt.spanId);
    // At least two processes besides the client exported spans of this one trace.
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['tracing-e2e-client', 'longshore-dispatcher', 'longshore-worker-agent']));

    // The job's own code sees its attempt span.
    expect(await logLines(ls, job.id)).toEqual([`tp=00-${traceId}-${attempt.spanId}-01`]);

    // Logs and the trace meet: the agent's line about the job names its trace and attempt span.
    const started = await cluster.agents[0]!.waitForLog((l) => l['msg'] === 'job started' && l['job'] === job.id);
    expect(started).toMatchObject({ service: 'worker-agent', agent: 'agent-1', pool: 'default', attempt: 1, trace_id: traceId, span_id: attempt.spanId });
    const submitted = await cluster.dispatcher.waitForLog((l) => l['msg'] === 'job submitted' && l['job'] === job.id);
    expect(submitted).toMatchObject({ service: 'dispatcher', trace_id: traceId, span_id: server.spanId });

    // `jobs get` shows the trace id, and a link with LONGSHORE_TRACE_URL.
    const cli = spawnSync(process.execPath, [join(repoRoot, 'services/cli/bin/longshore.js'), 'jobs', 'get', job.id], {
      env: { ...process.env, ...cluster.clientEnv, LONGSHORE_TRACE_URL: 'http://jaeger:16686/trace/{trace_id}' },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`^trace: +${traceId} \\(http://jaeger:16686/trace/${traceId}\\)$`, 'm'));
  });

  it('shows each attempt of a retried job as its own span in the same trace', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'exit 1'], retry: { exit: 1, backoffMs: 100n } });
    const done = await ls.waitForJob(job.id);
    expect(done.attempts.map((a) => a.exitCode)).toEqual([1, 1]);
    const spans = await spansOf(done.traceId, ['attempt', 'attempt', 'claim', 'claim', 'enqueue']);
    const attempts = spans.filter((s) => s.name === 'attempt').sort((a, b) => Number(a.attributes['longshore.attempt']) - Number(b.attributes['longshore.attempt']));
    expect(attempts.map((a) => [a.attributes['longshore.attempt'], a.attributes['longshore.failure_class'], a.attributes['longshore.exit_code'], a.status])).toEqual([
      [1, 'exit', 1, 2],
      [2, 'exit', 1, 2],
    ]);
    const enqueue = one(spans, 'enqueue');
    const claims = spans.filter((s) => s.name === 'claim');
    for (const c of claims) expect(c.parentSpanId).toBe(enqueue.spanId);
    expect(new Set(attempts.map((a) => a.parentSpanId))).toEqual(new Set(claims.map((c) => c.spanId)));
  });

  it('a batch from the CLI is one SubmitJobs trace whose jobs all carry it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'longshore-tracing-'));
    const file = join(dir, 'batch.jsonl');
    writeFileSync(file, '{"command": ["true"]}\n{"command": ["true"]}\n');
    try {
      const cli = spawnSync(process.execPath, [join(repoRoot, 'services/cli/bin/longshore.js'), 'submit', '--file', file], {
        env: { ...process.env, ...cluster.clientEnv, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
        encoding: 'utf8',
      });
      expect(cli.status, cli.stderr).toBe(0);
      const ids = cli.stdout.trim().split('\n');
      const jobs = await Promise.all(ids.map((id) => ls.waitForJob(id)));
      const traceId = jobs[0]!.traceId;
      expect(jobs.map((j) => j.traceId)).toEqual([traceId, traceId]);
      const spans = await spansOf(traceId, ['longshore.v1.DispatcherService/SubmitJobs', 'longshore.v1.DispatcherService/SubmitJobs', 'attempt', 'attempt']);
      // (Not just any CLIENT span: the dispatcher's Redis commands are CLIENT spans of the same trace.)
      expect(spans.find((s) => s.kind === SPAN_KIND.client && s.name === 'longshore.v1.DispatcherService/SubmitJobs')).toMatchObject({ service: 'longshore-cli', parentSpanId: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
