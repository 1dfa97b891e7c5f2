import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { startTelemetry, tracesWanted } from './sdk.js';
import { activeTraceId, injectTraceContext, traceparentOf } from './trace-context.js';

describe('tracesWanted', () => {
  it('exports only when an endpoint or another exporter is configured, and never when disabled', () => {
    expect(tracesWanted({})).toBe(false);
    expect(tracesWanted({ OTEL_SERVICE_NAME: 'x', OTEL_METRICS_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp' })).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracesWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracesWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(false);
    expect(tracesWanted({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(false);
  });
});

describe('startTelemetry with no OTEL_* variables', () => {
  it('records and exports nothing, yet passes a caller trace context through, and shuts down cleanly', async () => {
    const t = await startTelemetry('test', {});
    expect(t.exporting).toBe(false);
    const span = trace.getTracer('t').startSpan('s');
    expect(span.isRecording()).toBe(false);
    span.end();
    // A caller's context still propagates (the W3C propagator is registered) and logs name it.
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const ctx = propagation.extract(context.active(), { traceparent });
    expect(injectTraceContext(ctx)['traceparent']).toBe(traceparent);
    expect(traceparentOf(ctx)).toBe(traceparent);
    expect(traceparentOf()).toBeUndefined();
    // …across awaits too (the context manager is registered without the SDK).
    const later = await context.with(ctx, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return activeTraceId();
    });
    expect(later).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(activeTraceId()).toBeUndefined();
    const lines: string[] = [];
    const dest = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
    const logger = createLogger('test', { destination: dest });
    context.with(ctx, () => logger.info('inside'));
    logger.info('outside');
    expect(JSON.parse(lines[0]!)).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('trace_id');
    await t.shutdown();
  });
});
