import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AgentSchema, PoolRegistryService } from '@longshore/proto';
import type { RpcClient } from '@longshore/rpc';

/** What an agent tells the registry about itself. */
export type AgentReport = MessageInitShape<typeof AgentSchema>;

/** What the registry answers a heartbeat: whether it knew the agent, and whether the agent should drain. */
export interface HeartbeatReply {
  /** False when the registry had no record of the agent: it should register again. */
  known: boolean;
  /** The agent should stop claiming and finish what it runs (`longshore agents drain`). */
  drain: boolean;
}

/**
 * The agent's narrow view of the pool registry: only what registration and heartbeats use.
 * Errors are thrown as the RPC client throws them ({@link LongshoreError} with the server's code).
 */
export interface RegistryClient {
  /** Where the registry is, for messages. */
  readonly address: string;
  register(agent: AgentReport, timeoutMs: number): Promise<{ heartbeatIntervalMs: number }>;
  heartbeat(agent: AgentReport, timeoutMs: number): Promise<HeartbeatReply>;
  deregister(id: string, timeoutMs: number): Promise<void>;
  close(): void;
}

/** The {@link RegistryClient} over the registry's gRPC client. */
export function grpcRegistryClient(client: RpcClient<(typeof PoolRegistryService)['method']>): RegistryClient {
  return {
    address: client.address,
    async register(agent, timeoutMs) {
      const res = await client.rpc.registerAgent({ agent }, { timeoutMs });
      return { heartbeatIntervalMs: res.heartbeatIntervalMs };
    },
    async heartbeat(agent, timeoutMs) {
      const res = await client.rpc.agentHeartbeat({ agent }, { timeoutMs });
      return { known: res.known, drain: res.drain };
    },
    async deregister(id, timeoutMs) {
      await client.rpc.deregisterAgent({ id }, { timeoutMs });
    },
    close: () => client.close(),
  };
}
