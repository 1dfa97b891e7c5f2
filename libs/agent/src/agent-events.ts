import { type EventHub, Keys } from '@longshore/store';

/** What the agent is told between claims: which of its jobs to cancel, and that new work arrived. */
export interface AgentEventHandlers {
  /** A user asked to cancel job `id` (it may not run here: ignore unknown ids). */
  cancel(id: string): void;
  /** The dispatcher announced new work in the pool: claim again now rather than at the next poll. */
  added(): void;
}

/**
 * The agent's wake-ups. Delivery is best effort (pub/sub drops messages across reconnects), so
 * the agent also polls: these only make it react sooner.
 */
export interface AgentEvents {
  listen(handlers: AgentEventHandlers): Promise<void>;
  close(): Promise<void>;
}

/** The {@link AgentEvents} of one pool, over Redis pub/sub. */
export function redisAgentEvents(hub: EventHub, redisPrefix: string, pool: string): AgentEvents {
  const keys = new Keys(redisPrefix).pool(pool);
  return {
    async listen(h) {
      await hub.listen(keys.cancel, (id) => h.cancel(id));
      await hub.listen(keys.added, () => h.added());
    },
    close: () => hub.close(),
  };
}
