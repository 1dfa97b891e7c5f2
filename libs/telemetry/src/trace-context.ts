import { context, createContextKey, isSpanContextValid, propagation, trace, type Context } from '@opentelemetry/api';

/** The SDK's own key (`@opentelemetry/core`'s suppressTracing), without loading the SDK. */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * W3C trace context as it travels in a job's queue data and gRPC metadata. Empty when no
 * OpenTelemetry SDK is registered: the field exists from the start so tracing is not a retrofit.
 */
export type TraceCarrier = Record<string, string>;

/** The active context, serialized for the queue. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** A context to run a job's work under, from the carrier the submitter wrote. */
export function extractTraceContext(carrier: TraceCarrier | undefined): Context {
  return propagation.extract(context.active(), carrier ?? {});
}

/** The trace id of the active span, or undefined. */
export function activeTraceId(ctx: Context = context.active()): string | undefined {
  const id = trace.getSpanContext(ctx)?.traceId;
  return id && !/^0+$/.test(id) ? id : undefined;
}

/**
 * The W3C `traceparent` of the active span (recorded or passed through), or undefined: what a
 * job gets as `TRACEPARENT`. Written directly from the span's context, whatever
 * `OTEL_PROPAGATORS` names for the wire (the variable is W3C's by name), and without the
 * propagators' carrier work, which an agent would otherwise do for every job.
 */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc) || ctx.getValue(SUPPRESS_TRACING) === true) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
