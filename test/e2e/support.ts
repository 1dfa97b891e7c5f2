import { LongshoreClient, type Job } from '@longshore/client';
import { startCluster, type Cluster, type ClusterOptions } from '@longshore/testing';
import { afterAll, beforeAll } from 'vitest';

/** A client for the cluster's dispatcher and registry. */
export function connect(cluster: Cluster): LongshoreClient {
  return LongshoreClient.connect({ env: cluster.clientEnv });
}

/** Every log line of a finished (or following) job, as [stream, text]. */
export async function logLines(ls: LongshoreClient, id: string, follow = false): Promise<string[]> {
  const out: string[] = [];
  for await (const l of ls.logs(id, { follow })) out.push(l.text);
  return out;
}

/** Waits for each job to finish and returns them in order. */
export async function finishAll(ls: LongshoreClient, jobs: Job[]): Promise<Job[]> {
  return Promise.all(jobs.map((j) => ls.waitForJob(j.id)));
}

/** Milliseconds from a protobuf Timestamp. */
export function tsMs(t: { seconds: bigint; nanos: number } | undefined): number {
  return t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : NaN;
}

/**
 * Starts a cluster before the enclosing suite and stops it after, with a client connected:
 * `const t = useCluster({ agents: 2 })`, then `t.ls` and `t.cluster` inside the tests.
 */
export function useCluster(opts: ClusterOptions = {}): { readonly cluster: Cluster; readonly ls: LongshoreClient } {
  const ctx: { cluster?: Cluster; ls?: LongshoreClient } = {};
  beforeAll(async () => {
    ctx.cluster = await startCluster(opts);
    ctx.ls = connect(ctx.cluster);
  });
  afterAll(async () => {
    ctx.ls?.close();
    await ctx.cluster?.stop();
  });
  return {
    get cluster() {
      return ctx.cluster!;
    },
    get ls() {
      return ctx.ls!;
    },
  };
}
