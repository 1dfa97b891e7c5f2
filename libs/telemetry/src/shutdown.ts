import type { Logger } from 'pino';

/**
 * Closes `close` on the first SIGTERM or SIGINT and exits 0 when it finishes; a second signal
 * exits at once (1). Every service's main installs this and nothing else of its own.
 */
export function closeOnSignals(close: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
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
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Logs a start-up failure in one clear line and exits 1. */
export function exitOnStartupError(err: unknown, logger: Logger): never {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'failed to start');
  process.exit(1);
}
