import { getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';

/**
 * The OTLP trace exporter the environment names, as the SDK chooses it: the protocol from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` default,
 * `http/json`, `grpc`), endpoint, headers, timeout and compression from `OTEL_EXPORTER_OTLP_*`.
 * `http/json` encodes with the direct JSON writer (`otlp-json.ts`).
 */
export async function otlpExporterFromEnv(): Promise<SpanExporter> {
  const protocol = (getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL'))?.trim() || 'http/protobuf';
  if (protocol === 'http/json') return (await import('./otlp-json.js')).jsonTraceExporter();
  if (protocol === 'grpc') return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  // http/protobuf, and what the SDK falls back to for an unknown protocol.
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

/** The SDK's BatchSpanProcessor over the OTLP exporter, with `OTEL_BSP_*` as the SDK reads them. */
export async function otlpBatchProcessorFromEnv(): Promise<BatchSpanProcessor> {
  return new BatchSpanProcessor({
    exporter: await otlpExporterFromEnv(),
    maxQueueSize: getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
    maxExportBatchSize: getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
}
