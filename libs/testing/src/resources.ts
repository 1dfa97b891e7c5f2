/** Anything {@link Resources} can stop. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Collects what a test started so one hook can stop it all:
 * `const res = new Resources(); afterAll(() => res.stopAll());`.
 */
export class Resources {
  readonly #items: Stoppable[] = [];

  /** Registers `r` to be stopped by {@link Resources.stopAll}; returns `r` for chaining. */
  add<T extends Stoppable>(r: T): T {
    this.#items.push(r);
    return r;
  }

  /**
   * Stops everything added, last added first (services before the Redis they use). Keeps going
   * when one fails; afterwards throws the single error, or an `AggregateError` of all of them.
   * Each item is stopped at most once, so a second call only stops items added since.
   */
  async stopAll(): Promise<void> {
    const errors: unknown[] = [];
    for (let item = this.#items.pop(); item !== undefined; item = this.#items.pop()) {
      try {
        await item.stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} resources failed to stop`);
  }
}
