import { createHash } from 'node:crypto';
import { LongshoreClient } from '@longshore/client';

/** Where the console finds the cluster, and the environment its TLS settings come from. */
export interface ClusterAddress {
  dispatcher: string;
  registry: string;
  /** LONGSHORE_TLS_* and LONGSHORE_INSECURE_PLAINTEXT are read from here; never a token. */
  env: NodeJS.ProcessEnv;
}

/** How many users' clients stay open at once; the least recently used is closed past this. */
const MAX_CLIENTS = 64;

/**
 * One SDK client per user token, so every call carries the user's own token: the console has
 * no rights of its own. Clients to the same address share grpc-js's global subchannel pool, so
 * a client per token costs a little memory, not a connection each. The map is keyed by the
 * token's SHA-256, not the token itself.
 */
export class ClientsByToken {
  private readonly clients = new Map<string, LongshoreClient>();
  constructor(private readonly cluster: ClusterAddress) {}

  /** The client for `token` ('' when the user sent none: calls then go out without a token). */
  for(token: string): LongshoreClient {
    const key = createHash('sha256').update(token).digest('hex');
    const found = this.clients.get(key);
    if (found) {
      this.clients.delete(key);
      this.clients.set(key, found); // most recently used last
      return found;
    }
    // An explicit token ('' included) wins over LONGSHORE_TOKEN and the credentials file, which
    // the console must never fall back to; the env is stripped of them besides.
    const env = { ...this.cluster.env, LONGSHORE_TOKEN: undefined, LONGSHORE_HOME: '/nonexistent' };
    const client = LongshoreClient.connect({ dispatcher: this.cluster.dispatcher, registry: this.cluster.registry, token, env });
    this.clients.set(key, client);
    if (this.clients.size > MAX_CLIENTS) {
      const [oldestKey, oldest] = this.clients.entries().next().value as [string, LongshoreClient];
      this.clients.delete(oldestKey);
      // Calls still in flight on it finish first: grpc-js closes a channel once its calls end.
      oldest.close();
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
