import { context, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { LongshoreError } from '@longshore/domain';

/** The dispatcher's service, as the RPC semantic conventions name spans and attributes. */
const SERVICE = 'longshore.v1.DispatcherService';

/**
 * Runs a dispatcher call in a CLIENT span named per the RPC conventions
 * (`longshore.v1.DispatcherService/SubmitJob`), a child of the caller's active span if any. The
 * rpc layer's interceptor carries the span's context to the dispatcher (`traceparent`). Without
 * an OpenTelemetry SDK registered the span is a no-op.
 */
export async function inClientSpan<T>(method: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer('longshore.client');
  return tracer.startActiveSpan(
    `${SERVICE}/${method}`,
    { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': SERVICE, 'rpc.method': method, ...attributes } },
    context.active(),
    async (span) => {
      try {
        const res = await fn();
        span.setAttribute('rpc.grpc.status_code', 0);
        return res;
      } catch (err) {
        const code = err instanceof LongshoreError ? (err.code as number) : 2;
        span.setAttribute('rpc.grpc.status_code', code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
