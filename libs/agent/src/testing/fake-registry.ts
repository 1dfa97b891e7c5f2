import type { AgentReport, HeartbeatReply, RegistryClient } from '../registry-client.js';

/**
 * An in-memory {@link RegistryClient}: records every registration, heartbeat and
 * deregistration; the test can order a drain, make it forget the agent (it then re-registers),
 * or make it fail (every call rejects until `recover`).
 */
export class FakeRegistry implements RegistryClient {
  readonly address = 'fake-registry:0';
  readonly registrations: AgentReport[] = [];
  readonly heartbeats: AgentReport[] = [];
  readonly deregistrations: string[] = [];
  closed = false;
  private drain = false;
  private known = true;
  private failure: Error | undefined;
  private readonly reports: AgentReport[] = [];

  constructor(private readonly heartbeatIntervalMs = 1000) {}

  /** The latest report the agent sent (registration or heartbeat). */
  get last(): AgentReport | undefined {
    return this.reports.at(-1);
  }

  /** From the next heartbeat on, tell the agent to drain (`longshore agents drain`). */
  orderDrain(): void {
    this.drain = true;
  }
  /** The next heartbeat says the agent is unknown (the registry lost its record). */
  forget(): void {
    this.known = false;
  }
  /** Every call rejects with `error` until {@link recover}. */
  failWith(error: Error = new Error('registry unavailable')): void {
    this.failure = error;
  }
  recover(): void {
    this.failure = undefined;
  }

  async register(agent: AgentReport): Promise<{ heartbeatIntervalMs: number }> {
    this.check();
    this.registrations.push(agent);
    this.reports.push(agent);
    this.known = true;
    return { heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  async heartbeat(agent: AgentReport): Promise<HeartbeatReply> {
    this.check();
    this.heartbeats.push(agent);
    this.reports.push(agent);
    return { known: this.known, drain: this.drain };
  }

  async deregister(id: string): Promise<void> {
    this.check();
    this.deregistrations.push(id);
  }

  close(): void {
    this.closed = true;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
