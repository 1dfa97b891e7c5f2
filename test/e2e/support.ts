import { LongshoreClient, type Job } from '@longshore/client';
import { startCluster, type Cluster, type ClusterOptions } from '@longshore/testing';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

let gates = 0;

/**
 * A gate jobs can wait at: a job running `gate.command` keeps running until the test calls
 * `open()` (or about 60 s pass). It lets a test hold a job running for exactly as long as its check needs, whatever
 * the machine's load, instead of guessing with a `sleep` long enough.
 */
export function gate(): { readonly command: string[]; open(): void; close(): void } {
  const path = join(tmpdir(), `longshore-gate-${process.pid}-${++gates}`);
  rmSync(path, { force: true });
  return {
    // Bounded (about 60 s) so a gate a failed test never opened cannot hold an agent forever.
    command: ['sh', '-c', `i=0; while [ ! -e '${path}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`],
    open: () => writeFileSync(path, ''),
    close: () => rmSync(path, { force: true }),
  };
}
