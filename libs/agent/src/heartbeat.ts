import { Code, LongshoreError } from '@longshore/domain';
import type { Logger } from '@longshore/telemetry';
import { PROBE_TIMEOUT_MS } from './executor-health.js';
import type { AgentReport, RegistryClient } from './registry-client.js';

/** Load changes are reported at most this often between regular heartbeats. */
const COALESCE_MS = 250;

/** Codes that retrying will not fix: the agent's own configuration is wrong. */
const FATAL = new Set([Code.InvalidArgument, Code.NotFound, Code.PermissionDenied, Code.Unauthenticated, Code.FailedPrecondition]);

/**
 * The agent's link to the registry: registers once at start (retrying while the registry is
 * unreachable, up to `registerTimeoutMs`), then heartbeats on the registry's interval. A failed
 * heartbeat is logged and retried next tick: the agent keeps claiming and running jobs through
 * registry outages, and re-registers when the registry has forgotten it.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private stopped = false;
  private soon: NodeJS.Timeout | undefined;
  /** Heartbeats on the wire; awaited before deregistering, so none lands after it. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly registry: RegistryClient,
    private readonly snapshot: () => AgentReport,
    private readonly logger: Logger,
    private readonly onDrain: () => void,
    /**
     * Brings what the snapshot reports up to date before each regular heartbeat (the executors'
     * probes), given how long it may take: half the interval, at most {@link PROBE_TIMEOUT_MS}.
     */
    private readonly refresh: (timeoutMs: number) => Promise<void> = () => Promise.resolve(),
  ) {}

  async register(timeoutMs: number): Promise<{ heartbeatIntervalMs: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 200; ; delay = Math.min(delay * 2, 3000)) {
      try {
        const res = await this.registry.register(this.snapshot(), 5000);
        return { heartbeatIntervalMs: res.heartbeatIntervalMs || 2000 };
      } catch (err) {
        if (err instanceof LongshoreError && FATAL.has(err.code)) throw err;
        if (Date.now() + delay > deadline) {
          throw new Error(`could not register with the pool registry at ${this.registry.address} within ${timeoutMs} ms: ${(err as Error).message} (set LONGSHORE_REGISTRY)`, { cause: err });
        }
        this.logger.warn({ err: (err as Error).message, registry: this.registry.address }, 'registry not reachable yet; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  start(intervalMs: number): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.refresh(Math.min(PROBE_TIMEOUT_MS, Math.max(50, Math.floor(intervalMs / 2))));
        if (this.stopped) return;
        const res = await this.track(this.registry.heartbeat(this.snapshot(), Math.max(1000, intervalMs)));
        if (this.failing) this.logger.info('registry reachable again');
        this.failing = false;
        if (!res.known && !this.stopped) {
          await this.track(this.registry.register(this.snapshot(), 5000));
          this.logger.info('re-registered with the pool registry');
        }
        if (res.drain) this.onDrain();
      } catch (err) {
        if (!this.failing) this.logger.warn({ err: (err as Error).message }, 'heartbeat failed; still running jobs, will retry');
        this.failing = true;
      } finally {
        if (this.timer) this.timer = setTimeout(() => void tick(), intervalMs).unref();
      }
    };
    this.timer = setTimeout(() => void tick(), intervalMs).unref();
  }

  /**
   * Reports a change of load soon: at most one extra heartbeat per {@link COALESCE_MS}, however
   * many jobs start or end meanwhile (one per job cost the registry ~1.5 ms of CPU each).
   */
  beatSoon(): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (this.stopped) return;
      this.track(this.registry.heartbeat(this.snapshot(), 2000)).catch(() => undefined);
    }, COALESCE_MS);
    this.soon.unref();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Stops heartbeating and waits for heartbeats already sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.soon) clearTimeout(this.soon);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inflight]);
  }

  async deregister(id: string): Promise<void> {
    await this.registry.deregister(id, 3000).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'could not deregister (the registry will mark this agent lost)');
    });
  }
}
