import type { SignalSource } from './context.js';

/**
 * Resolves at the first Ctrl-C (SIGINT from `signals`) or SIGTERM, for commands that run in the
 * foreground until stopped (`up`, `console`). Create it early, so a stop meanwhile is not missed.
 */
export function untilStopped(signals: SignalSource): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      signals.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    signals.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
