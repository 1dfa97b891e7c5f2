import type { Logger } from 'pino';

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
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
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
export function exitOnStartupError(err: unknown, logger: Logger): never {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
  process.exit(1);
}
