import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchNode, redisCli, type RedisNodeHandle } from './redis-node.js';
import { waitFor } from './wait-for.js';

/** A private Redis Cluster on 127.0.0.1, started by {@link startRedisCluster}. */
export interface RedisClusterHandle {
  /** `redis-cluster://:PASSWORD@127.0.0.1:P1,127.0.0.1:P2,…` (every master). */
  readonly url: string;
  /** The generated password every node requires. */
  readonly password: string;
  /** The master nodes, in the order their ports appear in {@link url}. */
  readonly nodes: readonly RedisNodeHandle[];
  /** The temp dir holding every node's config and cluster file; never removed by this harness. */
  readonly dir: string;
  /** Runs `redis-cli -p PORT ARGS` against one node (the first by default), with the password. */
  cli(args: string[], port?: number): Promise<string>;
  /** Stops every node (SIGTERM, then SIGKILL), by pid. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Master nodes (default 3, the fewest `redis-cli --cluster create` accepts). */
  masters?: number;
}

const CLUSTER_READY_MS = 30_000;

/**
 * Starts a Redis Cluster of `masters` nodes (no replicas) on free loopback ports, in one temp
 * dir, with a generated password (`requirepass` and `masterauth`, in 0600 config files), joins
 * them with `redis-cli --cluster create`, and resolves once every node says `cluster_state:ok`.
 * Throws if redis-server or redis-cli is missing (skipping is the test's decision); on a failure
 * it stops what it started.
 */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'longshore-redis-cluster-'));
  const password = randomBytes(24).toString('base64url');
  const nodes: RedisNodeHandle[] = [];
  const handle = new RedisCluster(dir, password, nodes);
  try {
    for (let i = 1; i <= masters; i++) {
      nodes.push(
        await launchNode({
          name: `cluster-${i}`,
          dir,
          password,
          config: (port) =>
            [
              `requirepass ${password}`,
              `masterauth ${password}`,
              'cluster-enabled yes',
              `cluster-config-file nodes-${port}.conf`,
              'cluster-node-timeout 2000',
              `dir ${dir}`,
              'save ""',
              'appendonly no',
              'maxmemory-policy noeviction',
            ].join('\n') + '\n',
        }),
      );
    }
    await redisCli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], password);
    for (const n of nodes) {
      await waitFor(async () => /cluster_state:ok/.test(await handle.cli(['cluster', 'info'], n.port)), {
        timeoutMs: CLUSTER_READY_MS,
        intervalMs: 100,
        what: `cluster_state:ok on node 127.0.0.1:${n.port}`,
      });
    }
    return handle;
  } catch (err) {
    await handle.stop();
    throw err;
  }
}

class RedisCluster implements RedisClusterHandle {
  #stopping?: Promise<void>;
  constructor(
    readonly dir: string,
    readonly password: string,
    readonly nodes: RedisNodeHandle[],
  ) {}

  get url(): string {
    return `redis-cluster://:${this.password}@${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  cli(args: string[], port = this.nodes[0]!.port): Promise<string> {
    return redisCli(['-p', String(port), ...args], this.password);
  }

  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.nodes.map((n) => n.stop())).then(() => undefined);
    return this.#stopping;
  }
}
