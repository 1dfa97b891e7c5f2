import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

/**
 * Runs `fn` in a child span `name` of the active context (`executor.start`, `run`,
 * `executor.pull`, …), ended when `fn`'s promise settles: with an error status when it rejects,
 * after `onResult` when it resolves. The span ends on a side chain: the caller awaits `fn`'s own
 * promise, so tracing adds no turn of the event loop to the traced path. Without an SDK the span
 * is a no-op one and costs next to nothing.
 */
export function withSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: () => Promise<T>, onResult?: (span: Span, res: T) => void): Promise<T> {
  const span = tracer.startSpan(name, { attributes }, context.active());
  const p = context.with(trace.setSpan(context.active(), span), fn);
  p.then(
    (res) => {
      onResult?.(span, res);
      span.end();
    },
    (err: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
    },
  );
  return p;
}
