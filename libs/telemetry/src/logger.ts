import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** `trace_id` and `span_id` of the active span (recorded or passed through), so a log search and a trace meet. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || /^0+$/.test(sc.traceId)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/**
 * Structured JSON logs from the first line of code: one line per event on stdout, with
 * `service` on every line, and `trace_id`/`span_id` on lines logged inside a span. Level from
 * `LONGSHORE_LOG_LEVEL` (default `info`).
 */
export function createLogger(service: string, opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env['LONGSHORE_LOG_LEVEL'] ?? 'info';
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      mixin: traceFields,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Asynchronous writes (coalesced while one is in flight); pino flushes them on exit.
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for unit tests and the CLI's in-process servers when quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
