import { InterceptingCall, type Interceptor, type Metadata } from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { LongshoreError } from '@longshore/domain';
import type { HandlerWrapper } from './server.js';

/** The tracer of Longshore's gRPC seam (a no-op until an OpenTelemetry SDK is registered). */
const tracer = () => trace.getTracer('longshore.rpc');

const metadataSetter: TextMapSetter<Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

const metadataGetter: TextMapGetter<Metadata> = {
  get: (md, key) => {
    const v = md.get(key).map(String);
    return v.length === 0 ? undefined : v.length === 1 ? v[0] : v;
  },
  keys: (md) => Object.keys(md.getMap()),
};

/**
 * Client interceptor: writes the caller's trace context (W3C `traceparent`/`tracestate`) into
 * the call's metadata. The context is taken when the call is made, not when grpc-js starts it.
 * Without a registered propagator it writes nothing.
 */
export const propagateTraceContext: Interceptor = (options, nextCall) => {
  const ctx = context.active();
  return new InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => {
      propagation.inject(ctx, metadata, metadataSetter);
      next(metadata, listener);
    },
  });
};

/** The gRPC status code a handler's error becomes (as toWireStatus maps it, without logging). */
function grpcCode(err: unknown): number {
  return err instanceof LongshoreError ? (err.code as number) : 13;
}

/**
 * Server wrapper: continues the caller's trace from the call's metadata and runs the handler
 * inside a SERVER span named per the RPC semantic conventions (`longshore.v1.DispatcherService/SubmitJob`).
 */
export const traceServerCall: HandlerWrapper = (call, next) => {
  const parent = propagation.extract(context.active(), call.metadata, metadataGetter);
  return tracer().startActiveSpan(
    call.path,
    {
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': call.service, 'rpc.method': call.method },
    },
    parent,
    async (span) => {
      try {
        const res = await next();
        span.setAttribute('rpc.grpc.status_code', 0);
        return res;
      } catch (err) {
        const code = grpcCode(err);
        span.setAttribute('rpc.grpc.status_code', code);
        // Per the conventions, only server faults mark a server span as an error.
        if ([2, 4, 12, 13, 14, 15].includes(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    },
  );
};
