import type { AgentExecutorName, ExecutorHealthInfo } from '@longshore/domain';
import type { Executor, ProbeResult } from '@longshore/executors';
import type { Logger } from '@longshore/telemetry';
import type { ExecutorSet } from './executors.js';

/** The longest a round of probes may hold up a heartbeat (shorter when heartbeats are more frequent). */
export const PROBE_TIMEOUT_MS = 2000;

/**
 * The state of each of an agent's executors, from their probes: probed at start and before every
 * heartbeat, advertised with it, and asked by every claim (only healthy executors claim jobs).
 * A round of probes waits at most its timeout: a probe that has not answered by then makes its
 * executor unhealthy, is asked to give up, and is not started again while it is still out (a
 * wedged engine client costs one request, not one per heartbeat). A change of state is logged
 * once (ok → unreachable, and back), and reported to `onChange`.
 */
export class ExecutorHealth {
  private readonly state = new Map<AgentExecutorName, ProbeResult>();
  private readonly inflight = new Map<AgentExecutorName, { done: Promise<void>; controller: AbortController }>();

  constructor(
    private readonly executors: ExecutorSet,
    private readonly logger: Logger,
    private readonly onChange: () => void = () => undefined,
  ) {}

  /**
   * Probes every executor whose previous probe has answered, and resolves once every probe out
   * has answered or `timeoutMs` has passed, whichever comes first. Never rejects.
   */
  async refresh(timeoutMs: number): Promise<void> {
    for (const [name, executor] of this.entries()) if (!this.inflight.has(name)) this.start(name, executor);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()));
    await Promise.race([Promise.all([...this.inflight.values()].map((p) => p.done)), timedOut]);
    clearTimeout(timer);
    for (const [name, probe] of this.inflight) {
      probe.controller.abort();
      this.record(name, { healthy: false, reason: `its probe did not answer within ${timeoutMs} ms` });
    }
  }

  /** The executors that are healthy now, in configuration order (never probed counts as healthy). */
  healthy(): AgentExecutorName[] {
    return this.entries()
      .filter(([name]) => this.state.get(name)?.healthy !== false)
      .map(([name]) => name);
  }

  /** Why each executor that is unhealthy now is, by name. */
  unhealthy(): Partial<Record<AgentExecutorName, string>> {
    return Object.fromEntries(this.report().flatMap((h) => (h.healthy ? [] : [[h.executor, h.reason]])));
  }

  /** Every executor's state, as advertised. */
  report(): ExecutorHealthInfo[] {
    return this.entries().map(([name]) => {
      const s = this.state.get(name);
      return { executor: name, healthy: s?.healthy !== false, reason: s && !s.healthy ? s.reason : '' };
    });
  }

  private entries(): [AgentExecutorName, Executor][] {
    return Object.entries(this.executors).filter((e): e is [AgentExecutorName, Executor] => e[1] !== undefined && e[0] !== 'auto');
  }

  private start(name: AgentExecutorName, executor: Executor): void {
    const controller = new AbortController();
    const done = Promise.resolve()
      .then(() => executor.probe(controller.signal))
      .catch((err: unknown): ProbeResult => ({ healthy: false, reason: `its probe failed: ${(err as Error).message}` }))
      .then((result) => {
        this.inflight.delete(name);
        // An answer to a probe given up on counts only if it is good news; the timeout is the better reason.
        if (!controller.signal.aborted || result.healthy) this.record(name, result);
      });
    this.inflight.set(name, { done, controller });
  }

  private record(name: AgentExecutorName, result: ProbeResult): void {
    const before = this.state.get(name);
    this.state.set(name, result);
    if (!before || before.healthy === result.healthy) return;
    if (result.healthy) this.logger.info({ executor: name }, `executor ${name} is healthy again: claiming its jobs again`);
    else this.logger.warn({ executor: name, reason: result.reason }, `executor ${name} is unreachable (${result.reason}): claiming none of its jobs until it is healthy again`);
    this.onChange();
  }
}
