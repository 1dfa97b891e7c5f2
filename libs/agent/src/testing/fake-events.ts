import type { AgentEventHandlers, AgentEvents } from '../agent-events.js';

/** In-memory {@link AgentEvents}: the test announces new work or a cancel, delivered at once. */
export class FakeAgentEvents implements AgentEvents {
  private handlers: AgentEventHandlers | undefined;
  closed = false;

  async listen(handlers: AgentEventHandlers): Promise<void> {
    this.handlers = handlers;
  }
  /** The dispatcher announced new work in the pool. */
  announce(): void {
    this.handlers?.added();
  }
  /** A user asked to cancel job `id`. */
  cancel(id: string): void {
    this.handlers?.cancel(id);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
