import type { Logger } from 'pino';

const flushers: (() => Promise<void>)[] = [];

/** Adds something to flush before the process exits (the tracing SDK's pending spans). */
export function onFlush(fn: () => Promise<void>): void {
  flushers.push(fn);
}

/** Runs every {@link onFlush} hook, for at most `ms` (an unreachable collector does not hold the exit). */
export async function flushTelemetry(ms = 3000): Promise<void> {
  if (flushers.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(flushers.map((f) => f().catch(() => undefined))), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Exits once pending spans are flushed (at most 3 s) and the logger's buffered lines are written
 * (logs are asynchronous, at most 1 s more).
 */
export function exitAfterFlush(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  void flushTelemetry().then(() => {
    setTimeout(exit, 1000).unref();
    logger.flush(exit);
  });
}

/** What a service's main gets from {@link handleShutdownSignals}. */
export interface ShutdownHook {
  /** Hands over the running service: the first SIGTERM/SIGINT closes it. */
  attach(close: () => Promise<void>): void;
}

/**
 * Installs SIGTERM/SIGINT handlers before anything starts: without a handler a signal kills the
 * process at once, skipping the graceful close. The first signal closes what was attached (or,
 * if it comes during start-up, closes it as soon as it is attached) and exits 0; a second signal
 * exits at once (1). Every service's main calls this first.
 */
export function handleShutdownSignals(logger: Logger): ShutdownHook {
  let close: (() => Promise<void>) | undefined;
  let requested = false;
  let stopping = false;
  const stop = () => {
    if (!close || stopping) return;
    stopping = true;
    close().then(
      () => {
        logger.info('stopped');
        exitAfterFlush(logger, 0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        exitAfterFlush(logger, 1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      logger.warn({ signal }, 'second signal: exiting now');
      exitAfterFlush(logger, 1);
    }
    requested = true;
    logger.info({ signal }, 'shutting down');
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    attach(fn) {
      close = fn;
      if (requested) stop();
    },
  };
}

/** Logs a start-up failure in one clear line and exits 1. */
export function exitOnStartupError(err: unknown, logger: Logger): void {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
  exitAfterFlush(logger, 1);
}
