import { context, propagation, trace, type Context } from '@opentelemetry/api';

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
