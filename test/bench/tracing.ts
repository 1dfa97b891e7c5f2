/**
 * What tracing costs: the overhead benchmark's Longshore no-op runs (bulk: throughput; paced:
 * submit → start latency) on a cluster without OTEL_* and on one exporting every span (sampler
 * always_on, OTLP/HTTP JSON to a receiver on loopback), side by side. Each cluster is its own
 * (the services read OTEL_* at start); the bench process itself registers no SDK, so the
 * dispatcher's SubmitJobs span is each trace's root.
 */
import { Executor, LongshoreClient } from '@longshore/client';
import { startCluster, startOtlpReceiver } from '@longshore/testing';
import { POOL, runLongshore, type OverheadFigures } from './overhead.js';
import { startPool, type BenchCluster } from './longshore-jobs.js';

export interface TracingOptions {
  /** No-op jobs submitted at once (throughput). */
  jobs: number;
  /** No-op jobs submitted one at a time (latency). */
  pacedJobs: number;
  timeoutMs: number;
}

export interface TracingResult {
  off: OverheadFigures;
  on: OverheadFigures;
  pacedOff: OverheadFigures;
  pacedOn: OverheadFigures;
  /** Spans the receiver got during the traced runs. */
  spansReceived: number;
}

const PACE_MS = 10;

async function measure(env: NodeJS.ProcessEnv, what: string, opts: TracingOptions): Promise<{ bulk: OverheadFigures; paced: OverheadFigures }> {
  const cluster = await startCluster({ agents: 0, env: { LONGSHORE_JOB_RETENTION_COUNT: '1000000', LONGSHORE_SUBMIT_RATE: 'off', LONGSHORE_EXECUTORS: 'subprocess,noop', ...env } });
  const ls = LongshoreClient.connect({ env: cluster.clientEnv });
  const bc: BenchCluster = { cluster, ls };
  try {
    const agent = await startPool(bc, POOL, 1, '1');
    try {
      const bulk = await runLongshore(bc, `tracing ${what}`, opts.jobs, Executor.NOOP, undefined, opts.timeoutMs);
      const paced = await runLongshore(bc, `tracing ${what} paced`, opts.pacedJobs, Executor.NOOP, PACE_MS, opts.timeoutMs);
      return { bulk, paced };
    } finally {
      await agent.stop();
    }
  } finally {
    ls.close();
    await cluster.stop();
  }
}

export async function runTracing(opts: TracingOptions): Promise<TracingResult> {
  const receiver = await startOtlpReceiver();
  try {
    const off = await measure({}, 'off', opts);
    const on = await measure(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on' },
      'on',
      opts,
    );
    return { off: off.bulk, on: on.bulk, pacedOff: off.paced, pacedOn: on.paced, spansReceived: receiver.spans.length };
  } finally {
    await receiver.close();
  }
}
