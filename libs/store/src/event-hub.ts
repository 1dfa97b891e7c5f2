import type { Redis } from './redis.js';

type Listener = (message: string) => void;

/**
 * Fans Redis pub/sub messages out to in-process listeners over one subscriber connection,
 * subscribing to a channel while it has listeners. Pub/sub drops messages across reconnects,
 * so readers also poll now and then (see the dispatcher's watch and follow loops).
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private closing?: Promise<void>;

  constructor(private readonly sub: Redis) {
    sub.on('message', (channel: string, message: string) => {
      for (const l of this.listeners.get(channel) ?? []) l(message);
    });
  }

  /** Calls `fn` for every message on `channel` until the returned function is called. */
  async listen(channel: string, fn: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.sub.subscribe(channel);
    }
    set.add(fn);
    return () => {
      const s = this.listeners.get(channel);
      if (!s) return;
      s.delete(fn);
      if (s.size === 0) {
        this.listeners.delete(channel);
        this.sub.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  close(): Promise<void> {
    this.closing ??= this.sub.quit().then(
      () => undefined,
      () => this.sub.disconnect(),
    );
    return this.closing;
  }
}

/**
 * Resolves when `fn` is called via the returned `wake`, or after `ms`, or when `signal` aborts:
 * the shape of every "wait for news, but poll anyway" loop.
 */
export function wakeable(): { wait(ms: number, signal?: AbortSignal): Promise<void>; wake(): void } {
  let resolveCurrent: (() => void) | undefined;
  let pending = false;
  return {
    wake() {
      if (resolveCurrent) resolveCurrent();
      else pending = true;
    },
    wait(ms, signal) {
      if (pending || signal?.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolveCurrent = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        resolveCurrent = done;
      });
    },
  };
}
