import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs from the first line of code: one line per event on stdout, with
 * `service` on every line. Level from `LONGSHORE_LOG_LEVEL` (default `info`).
 */
export function createLogger(service: string, opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env['LONGSHORE_LOG_LEVEL'] ?? 'info';
  return pino(
    {
      level,
      base: { service, pid: process.pid },
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
