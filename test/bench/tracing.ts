/**
 * What tracing costs: the overhead benchmark's Longshore no-op runs (bulk: throughput; paced:
 * submit → start latency) on a cluster without OTEL_* and on one exporting every span (sampler
 * always_on, OTLP/HTTP JSON to a receiver on loopback that counts them), side by side, in
 * alternating rounds; the figure judged is the median of the rounds' ratios. The traced runs
 * export traces only (`OTEL_METRICS_EXPORTER=none`): metrics are their own feature, and one more
 * traced run with metrics over OTLP too (what the endpoint alone turns on) shows their share.
 * Each cluster is its own (the services read OTEL_* at start); the bench process itself
 * registers no SDK, so the dispatcher's SubmitJobs span is each trace's root. The agent's CPU
 * time per job in the bulk runs is measured too (/proc): it depends less on what else loads the
 * machine than throughput.
 *
 * With `LONGSHORE_BENCH_CPU_PROFILE=<dir>` the agents are profiled (`tracing-profile-hook.mjs`)
 * and the first round's profiles are written to `<dir>/agent-off.cpuprofile` / `agent-on.cpuprofile`, with the
 * bulk run's time window beside it (`.window.json`) for `tracing-profile.ts` to break down.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Executor, LongshoreClient } from '@longshore/client';
import { startCluster } from '@longshore/testing';
import { counted, POOL, runLongshore, type OverheadFigures } from './overhead.js';
import type { BenchCluster } from './longshore-jobs.js';
import { cpuDuring, processCpuMs } from './proc-cpu.js';

export interface TracingOptions {
  /** No-op jobs submitted at once (throughput). */
  jobs: number;
  /** No-op jobs submitted one at a time (latency). */
  pacedJobs: number;
  /** Rounds of untraced-then-traced runs; the figure judged is the median of their ratios. */
  rounds: number;
  timeoutMs: number;
  /** Where to write the agents' CPU profiles of the first round (none when unset). */
  profileDir?: string;
}

/** One untraced or traced cluster's runs. */
export interface TracingRun {
  bulk: OverheadFigures;
  paced: OverheadFigures;
  /** The agent's main thread's CPU time per bulk job (its event loop: what limits its throughput). */
  mainThreadUsPerJob: number;
}

export interface TracingResult {
  /** Each round: untraced, then traced (traces only: OTEL_METRICS_EXPORTER=none). */
  rounds: { off: TracingRun; on: TracingRun }[];
  /** One more traced run exporting metrics over OTLP too (the endpoint's default), for comparison; absent under one round. */
  withMetrics?: TracingRun;
  /** Spans the receiver got during the traced runs. */
  spansReceived: number;
  /** Jobs of the traced runs (bulk and paced), to put spans per job. */
  tracedJobs: number;
}

const PACE_MS = 10;
const HOOK = fileURLToPath(new URL('./tracing-profile-hook.mjs', import.meta.url));

async function measure(env: NodeJS.ProcessEnv, what: string, opts: TracingOptions, profileDir: string | undefined): Promise<TracingRun> {
  const cluster = await startCluster({ agents: 0, env: { LONGSHORE_JOB_RETENTION_COUNT: '1000000', LONGSHORE_SUBMIT_RATE: 'off', LONGSHORE_EXECUTORS: 'subprocess,noop', ...env } });
  const ls = LongshoreClient.connect({ env: cluster.clientEnv });
  const bc: BenchCluster = { cluster, ls };
  const profile = profileDir ? join(resolve(profileDir), `agent-${what}.cpuprofile`) : undefined;
  try {
    await ls.registry.createPool({ id: POOL, maxWeightMilli: 1000 });
    const agent = await cluster.startAgent({
      LONGSHORE_POOL: POOL,
      LONGSHORE_AGENT_ID: `${POOL}-1`,
      LONGSHORE_CAPACITY: '1',
      ...(profile ? { NODE_OPTIONS: `--import ${HOOK}`, LONGSHORE_CPU_PROFILE: profile } : {}),
    });
    try {
      const fromMs = Date.now();
      const main0 = processCpuMs(agent.pid, agent.pid);
      const { value, cpuMs } = await cpuDuring([agent.pid], () => counted(bc, () => runLongshore(bc, `tracing ${what}`, opts.jobs, Executor.NOOP, undefined, opts.timeoutMs)));
      if (profile) writeFileSync(`${profile}.window.json`, JSON.stringify({ fromMs, toMs: Date.now(), jobs: value.completed, agentCpuMs: cpuMs }));
      const mainMs = processCpuMs(agent.pid, agent.pid) - main0;
      const perJob = (ms: number) => (value.completed > 0 ? (ms * 1000) / value.completed : NaN);
      const bulk = { ...value, consumerCpuUsPerJob: perJob(cpuMs) };
      const paced = await runLongshore(bc, `tracing ${what} paced`, opts.pacedJobs, Executor.NOOP, PACE_MS, opts.timeoutMs);
      return { bulk, paced, mainThreadUsPerJob: perJob(mainMs) };
    } finally {
      await agent.stop(10_000);
    }
  } finally {
    ls.close();
    await cluster.stop();
  }
}

/** Each span of an OTLP/JSON export has exactly one of these (events have `timeUnixNano`, links none). */
const SPAN_MARK = Buffer.from('"startTimeUnixNano"');

/**
 * The loopback OTLP/HTTP JSON receiver the traced cluster exports to. It counts the spans of
 * each body (one scan for a key every span has) instead of decoding them: what a collector does
 * with spans is not Longshore's cost, and this process' CPU is shared with the cluster on a
 * small machine. (The e2e tests decode everything, with `@longshore/testing`'s receiver.)
 */
async function startCountingReceiver(): Promise<{ url: string; spans(): number; close(): Promise<void> }> {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      const body = Buffer.concat(chunks);
      for (let at = body.indexOf(SPAN_MARK); at >= 0; at = body.indexOf(SPAN_MARK, at + SPAN_MARK.length)) spans++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function runTracing(opts: TracingOptions): Promise<TracingResult> {
  const receiver = await startCountingReceiver();
  const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'always_on' };
  try {
    const rounds: TracingResult['rounds'] = [];
    for (let i = 0; i < opts.rounds; i++) {
      // Alternating, so a change in the machine's load between runs hits both sides alike.
      const profileDir = i === 0 ? opts.profileDir : undefined;
      const off = await measure({}, 'off', opts, profileDir);
      const on = await measure({ ...traced, OTEL_METRICS_EXPORTER: 'none' }, 'on', opts, profileDir);
      rounds.push({ off, on });
    }
    const withMetrics = opts.rounds > 1 ? await measure(traced, 'on-metrics', opts, undefined) : undefined;
    const tracedRuns = rounds.length + (withMetrics ? 1 : 0);
    return { rounds, ...(withMetrics ? { withMetrics } : {}), spansReceived: receiver.spans(), tracedJobs: tracedRuns * (opts.jobs + opts.pacedJobs) };
  } finally {
    await receiver.close();
  }
}
