import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { context, propagation } from '@opentelemetry/api';
import { AlsContextManager } from './context-manager.js';
import { exporterNames } from './otel-env.js';
import { onFlush } from './shutdown.js';

/** What {@link startTelemetry} started. */
export interface Telemetry {
  /** True when spans are recorded and exported (an OTLP endpoint or an exporter is configured). */
  readonly exporting: boolean;
  /** Flushes and stops the SDK; idempotent. */
  shutdown(): Promise<void>;
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

/** Whether the environment asks for spans to be exported: an OTLP endpoint, or an exporter named. */
export function tracesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (truthy(env['OTEL_SDK_DISABLED'])) return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporter === 'none') return false;
  if (exporter && exporter !== 'otlp') return true; // console, zipkin: the SDK's own choice
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim() || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim());
}

let started: Telemetry | undefined;

/** Whether spans go over OTLP only (`OTEL_TRACES_EXPORTER` unset or `otlp`): the exporters Longshore sets up itself. */
function otlpOnly(env: NodeJS.ProcessEnv): boolean {
  return exporterNames(env['OTEL_TRACES_EXPORTER']).every((e) => e === 'otlp');
}

/**
 * The processor that exports on a worker thread, from a compiled build (none from sources), unless
 * `LONGSHORE_TRACE_EXPORT_THREAD=0` keeps the export on the main thread. Loaded only here: a
 * process that exports nothing does not load node:worker_threads.
 */
async function threadProcessor(env: NodeJS.ProcessEnv): Promise<SpanProcessor | undefined> {
  const off = env['LONGSHORE_TRACE_EXPORT_THREAD']?.trim();
  if (off !== undefined && /^(0|false|no|off)$/i.test(off)) return undefined;
  const { exportThreadUrl, ThreadSpanProcessor } = await import('./thread-span-processor.js');
  const url = exportThreadUrl();
  return url && new ThreadSpanProcessor(url);
}

/**
 * Without an exporter: no SDK (nothing recorded), only the context manager and the W3C
 * propagators, so a caller's trace context still reaches the job (`OTEL_PROPAGATORS=none`: not even that).
 */
async function passThrough(env: NodeJS.ProcessEnv): Promise<Telemetry> {
  if (env['OTEL_PROPAGATORS']?.trim() !== 'none') {
    const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = await import('@opentelemetry/core');
    context.setGlobalContextManager(new AlsContextManager());
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  }
  return { exporting: false, shutdown: () => Promise.resolve() };
}

/**
 * Applies the ioredis instrumentation to the ioredis the services use. Its load-time hook sees
 * only `require`, not ESM imports nor bundles, so the patch is applied here to the module itself
 * (one class, shared by every importer).
 */
function patchIoredis(inst: Instrumentation): void {
  const require = createRequire(import.meta.url);
  const ioredis = require('ioredis') as object;
  const { version } = require('ioredis/package.json') as { version: string };
  for (const def of (inst as unknown as { getModuleDefinitions(): { name: string; patch?: (m: object, v?: string) => unknown }[] }).getModuleDefinitions()) {
    if (def.name === 'ioredis') def.patch?.(ioredis, version);
  }
}

/**
 * Starts the OpenTelemetry Node SDK for traces, from the standard `OTEL_*` variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL` —
 * `http/protobuf`, `http/json`, `grpc` —, `OTEL_SERVICE_NAME` (default `longshore-<service>`),
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_PROPAGATORS`,
 * `OTEL_SDK_DISABLED`). Call it first in a service's main.
 *
 * - No endpoint (and no other exporter named): nothing is recorded or exported and no collector
 *   is needed; the W3C propagator is still registered, so a caller's trace context passes
 *   through unchanged (jobs keep the caller's trace id).
 * - Metrics and logs are never set up here, whatever `OTEL_METRICS_EXPORTER` /
 *   `OTEL_LOGS_EXPORTER` say: metrics have their own provider; logs are the JSON lines.
 * - `LONGSHORE_TRACE_REDIS=1` adds the ioredis instrumentation (a span per Redis command: many).
 * - Shutdown flushes pending spans: it is wired into {@link exitAfterFlush}.
 */
export async function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry> {
  if (started) return started;
  if (truthy(env['OTEL_SDK_DISABLED'])) return (started = { exporting: false, shutdown: () => Promise.resolve() });
  const exporting = tracesWanted(env);
  if (!exporting) return (started = await passThrough(env));
  const instrumentations: Instrumentation[] = [];
  let redis: Instrumentation | undefined;
  if (truthy(env['LONGSHORE_TRACE_REDIS'])) {
    const { IORedisInstrumentation } = await import('@opentelemetry/instrumentation-ioredis');
    // Only commands made inside a traced operation (the agents' polling is not), and only the
    // command's name: its arguments hold job specs, environments and log lines.
    redis = new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (cmd) => cmd });
    instrumentations.push(redis);
  }
  // Loaded here, not at import: a process that never starts telemetry does not pay for the SDK.
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  // OTLP: batched and exported on a worker thread when there is one (configured there from the
  // same OTEL_* variables), else here, by the same processor. Other exporters (console, zipkin):
  // no span processors given, the SDK reads OTEL_TRACES_EXPORTER and sets them up itself.
  const spanProcessors = !otlpOnly(env) ? undefined : [(await threadProcessor(env)) ?? (await (await import('./otlp-export.js')).otlpBatchProcessorFromEnv())];
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME']?.trim() || `longshore-${service}`,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations,
    ...(spanProcessors ? { spanProcessors } : {}),
  });
  sdk.start();
  if (redis) patchIoredis(redis);
  let stopping: Promise<void> | undefined;
  const shutdown = () => (stopping ??= sdk.shutdown().catch(() => undefined));
  onFlush(shutdown);
  started = { exporting: true, shutdown };
  return started;
}
