import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchNode, redisCli, type RedisNodeHandle } from './redis-node.js';
import { waitFor } from './wait-for.js';

/** A private Sentinel set-up on 127.0.0.1, started by {@link startRedisSentinel}. */
export interface RedisSentinelHandle {
  /** `redis-sentinel://:PASSWORD@127.0.0.1:S1,…/MASTER_NAME`. */
  readonly url: string;
  readonly password: string;
  /** The master's name the Sentinels monitor. */
  readonly masterName: string;
  /** The data nodes as started: `[master, replica, …]` (roles change after a failover). */
  readonly servers: readonly RedisNodeHandle[];
  readonly sentinels: readonly RedisNodeHandle[];
  /** The temp dir holding every config (Sentinels rewrite theirs); never removed by this harness. */
  readonly dir: string;
  /** The port the Sentinels now name as the master (asks the first Sentinel still running). */
  masterPort(): Promise<number>;
  /** Waits until every replica's link to the first master is up and the master counts them all. */
  waitForReplica(timeoutMs?: number): Promise<void>;
  /**
   * Waits until the Sentinels name a master other than `oldPort` and that node says
   * `role:master`: the replica was promoted. Returns the new master's port.
   */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Runs `redis-cli -p PORT ARGS` against a data node, with the password. */
  cli(port: number, args: string[]): Promise<string>;
  /** Stops every process (SIGTERM, then SIGKILL), by pid. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** How many Sentinels (default 1; quorum is a majority of them). */
  sentinels?: number;
  /** How many replicas of the master (default 1). */
  replicas?: number;
  /** Sentinels call the master down after this long without a reply (default 1000 ms). */
  downAfterMs?: number;
}

/**
 * Starts a master, `replicas` replicas of it (default 1), and `sentinels` Sentinels (`redis-server --sentinel`, so
 * no separate redis-sentinel binary is needed) monitoring it as `longshore`, on free loopback
 * ports in one temp dir; data nodes require a generated password (kept in 0600 config files).
 * Resolves once the replicas are in sync and every Sentinel knows them. Throws if redis-server or redis-cli is missing;
 * on a failure it stops what it started.
 */
export async function startRedisSentinel(opts: RedisSentinelOptions = {}): Promise<RedisSentinelHandle> {
  const count = opts.sentinels ?? 1;
  const replicas = opts.replicas ?? 1;
  const downAfter = opts.downAfterMs ?? 1000;
  const dir = await mkdtemp(join(tmpdir(), 'longshore-redis-sentinel-'));
  const password = randomBytes(24).toString('base64url');
  const masterName = 'longshore';
  const servers: RedisNodeHandle[] = [];
  const sentinels: RedisNodeHandle[] = [];
  const handle = new RedisSentinel(dir, password, masterName, servers, sentinels);
  const data = (extra: string[]) => () => [`requirepass ${password}`, `masterauth ${password}`, `dir ${dir}`, 'save ""', 'appendonly no', 'maxmemory-policy noeviction', ...extra].join('\n') + '\n';
  try {
    const master = await launchNode({ name: 'sentinel-master', dir, password, config: data([]) });
    servers.push(master);
    for (let i = 1; i <= replicas; i++) servers.push(await launchNode({ name: `sentinel-replica-${i}`, dir, password, config: data([`replicaof 127.0.0.1 ${master.port}`]) }));
    await handle.waitForReplica();
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 1; i <= count; i++) {
      sentinels.push(
        await launchNode({
          name: `sentinel-${i}`,
          dir,
          sentinel: true,
          config: () =>
            [
              `dir ${dir}`,
              `sentinel monitor ${masterName} 127.0.0.1 ${master.port} ${quorum}`,
              `sentinel auth-pass ${masterName} ${password}`,
              `sentinel down-after-milliseconds ${masterName} ${downAfter}`,
              // Short, so a failed election is retried soon (after twice this) on a slow machine.
              `sentinel failover-timeout ${masterName} 3000`,
              `sentinel parallel-syncs ${masterName} 1`,
            ].join('\n') + '\n',
        }),
      );
    }
    // Each Sentinel must have found the replicas (through the master's INFO) to promote one later.
    for (const s of sentinels) {
      await waitFor(async () => Number(await sentinelField(s.port, masterName, 'num-slaves')) === replicas, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `Sentinel :${s.port} to discover the ${replicas} replica(s)`,
      });
      // …and the other Sentinels (through the master's hello channel): a failover needs their votes.
      await waitFor(async () => Number(await sentinelField(s.port, masterName, 'num-other-sentinels')) === count - 1, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `Sentinel :${s.port} to discover the other ${count - 1} Sentinel(s)`,
      });
    }
    return handle;
  } catch (err) {
    await handle.stop();
    throw err;
  }
}

/** One field of `SENTINEL MASTER name`, as redis-cli prints it. */
async function sentinelField(port: number, name: string, field: string): Promise<string> {
  const lines = (await redisCli(['-p', String(port), 'sentinel', 'master', name])).split('\n').map((l) => l.trim());
  const at = lines.indexOf(field);
  return at >= 0 ? (lines[at + 1] ?? '') : '';
}

class RedisSentinel implements RedisSentinelHandle {
  #stopping?: Promise<void>;
  constructor(
    readonly dir: string,
    readonly password: string,
    readonly masterName: string,
    readonly servers: RedisNodeHandle[],
    readonly sentinels: RedisNodeHandle[],
  ) {}

  get url(): string {
    return `redis-sentinel://:${this.password}@${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${this.masterName}`;
  }

  cli(port: number, args: string[]): Promise<string> {
    return redisCli(['-p', String(port), ...args], this.password);
  }

  async masterPort(): Promise<number> {
    const s = this.sentinels.find((x) => !x.exited);
    if (!s) throw new Error('no Sentinel is running');
    const out = (await redisCli(['-p', String(s.port), 'sentinel', 'get-master-addr-by-name', this.masterName])).trim().split('\n');
    return Number(out[1]);
  }

  async waitForReplica(timeoutMs = 30_000): Promise<void> {
    const [master, ...replicas] = this.servers;
    const linked = async (port: number) => /master_link_status:up/.test(await this.cli(port, ['info', 'replication']));
    await waitFor(
      async () => new RegExp(`connected_slaves:${replicas.length}\\b`).test(await this.cli(master!.port, ['info', 'replication'])) && (await Promise.all(replicas.map((r) => linked(r.port)))).every(Boolean),
      { timeoutMs, intervalMs: 100, what: 'the replicas to sync with the master' },
    );
  }

  async waitForFailover(oldPort: number, timeoutMs = 60_000): Promise<number> {
    return waitFor(
      async () => {
        const port = await this.masterPort();
        return port !== oldPort && /role:master/.test(await this.cli(port, ['info', 'replication'])) ? port : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `the Sentinels to promote a replica in place of :${oldPort}` },
    );
  }

  stop(): Promise<void> {
    this.#stopping ??= Promise.all([...this.sentinels, ...this.servers].map((n) => n.stop())).then(() => undefined);
    return this.#stopping;
  }
}
