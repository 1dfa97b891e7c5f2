import { context, ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';

/**
 * Runs `fn` in a child span `name` of the active context (`executor.start`, `run`,
 * `executor.pull`, …), ended when `fn`'s promise settles: with an error status when it rejects,
 * after `onResult` when it resolves. The span ends on a side chain: the caller awaits `fn`'s own
 * promise, so tracing adds no turn of the event loop to the traced path. Without an SDK the span
 * is a no-op one and costs next to nothing.
 */
export function withSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: () => Promise<T>, onResult?: (span: Span, res: T) => void): Promise<T> {
  const parent = context.active();
  const span = tracer.startSpan(name, { attributes }, parent);
  const p = context.with(trace.setSpan(parent, span), fn);
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

/**
 * A getter of the tracer `name` of the registered provider, fetched once per provider rather
 * than at every span (the SDK builds a key and looks it up each time); a provider registered
 * later (the SDK starts after modules load, tests swap theirs) gets its own.
 */
export function tracerGetter(name: string): () => Tracer {
  let provider: TracerProvider | undefined;
  let tracer: Tracer | undefined;
  return () => {
    const global = trace.getTracerProvider();
    const current = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
    if (current !== provider || !tracer) {
      provider = current;
      tracer = current.getTracer(name);
    }
    return tracer;
  };
}
