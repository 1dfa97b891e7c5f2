/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message (default `"condition"`). */
  what?: string;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `fn` until it returns (or resolves to) a truthy value and resolves with that value.
 * A throw or rejection from `fn` counts as "not yet" (a server that refuses connections while
 * starting is the usual case); the last one is kept as the timeout error's `cause`.
 * Each attempt is itself bounded by the remaining time, so a hung `fn` cannot outlive the
 * deadline. Rejects with `timed out after <timeoutMs>ms waiting for <what>`.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const value = await withDeadline(Promise.resolve().then(fn), remaining);
      if (value !== TIMED_OUT && value) return value as T;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  const detail = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${detail}`, {
    cause: lastError,
  });
}

/** What {@link withDeadline} returns when time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Races `promise` against a timer; the timer never holds the process open. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
