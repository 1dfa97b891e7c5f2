import { context, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { AlsContextManager } from '@longshore/telemetry';

/** Spans recorded in this process, for tests of code that traces in-process (an executor). */
export interface SpanRecorder {
  /** Runs `fn` under a fresh span `name` of this recorder (ended once `fn` settles), as a caller's span would be. */
  under<T>(name: string, fn: () => Promise<T>): Promise<{ parent: Span; result: T }>;
  /** Every span ended so far. */
  finished(): ReadableSpan[];
  /** Unregisters the global provider and context manager it set. */
  stop(): Promise<void>;
}

/** Registers a global tracer provider with an in-memory exporter (and the context manager the services use). */
export function recordSpans(): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AlsContextManager());
  trace.setGlobalTracerProvider(provider);
  return {
    async under(name, fn) {
      const parent = trace.getTracer('test').startSpan(name);
      try {
        return { parent, result: await context.with(trace.setSpan(context.active(), parent), fn) };
      } finally {
        parent.end();
      }
    },
    finished: () => exporter.getFinishedSpans(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
