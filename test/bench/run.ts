/**
 * `npm run bench` runs every benchmark and prints a report; `npm run bench:smoke` runs each
 * one tiny so CI keeps them working. The figures also go to test/bench/results/latest.json.
 * Exits 0 when the benchmarks ran (missed goals are reported, not failures), non-zero when
 * something broke, or, under --smoke, when a run did not complete all its jobs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LongshoreClient } from '@longshore/client';
import { startCluster } from '@longshore/testing';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runClaimCost, type ClaimCostResult } from './claim-cost.js';
import { cliStartupSummary, formatCliStartup, runCliStartup, type CliStartupResult } from './cli-startup.js';
import { consoleBenchSummary, formatConsoleBench, runConsoleBench, type ConsoleBenchResult } from './console.js';
import { runSubmit, type SubmitResult } from './submit.js';
import { runWaitReplicas, type WaitReplicasResult } from './wait-replicas.js';
import { failoverSummary, formatFailover, runFailover, type FailoverResult } from './failover.js';
import type { BenchCluster } from './longshore-jobs.js';
import { runOverhead, type OverheadResult } from './overhead.js';
import { runDockerRun, type DockerRunResult } from './docker-run.js';
import { runEcsBench, type EcsBenchResult } from './ecs.js';
import { runPacking, type PackingResult } from './packing.js';
import { runTracing, type TracingResult } from './tracing.js';
import { dockerRunSummary, ecsSummary, formatDockerRun, formatEcs, claimSummary, formatClaimCost, formatSubmit, formatWaitReplicas, submitSummary, waitReplicasSummary, formatOverhead, formatPacking, formatSummary, formatTracing, overheadSummary, packingSummary, tracingSummary, type SummaryRow } from './report.js';

const BENCHMARKS = ['packing', 'overhead', 'submit', 'claim', 'wait-replicas', 'failover', 'docker', 'ecs', 'tracing', 'cli', 'console'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

interface CliOptions {
  smoke?: boolean;
  only?: Benchmark;
  seed: number;
  jobs?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command('bench')
  .description('Longshore benchmarks: weighted packing, control-plane overhead, submit throughput, claim cost against queue depth, failover after an agent dies (against plain BullMQ), a trivial container against docker run --rm, an ECS task against direct SDK calls, what tracing costs, how fast the CLI starts, and the web console pages with 10,000 jobs and a 100,000-line log')
  .option('--smoke', 'run each benchmark tiny (a few seconds), to check they still work')
  .addOption(new Option('--only <benchmark>', 'run one benchmark').choices(BENCHMARKS))
  .option('--seed <n>', 'seed of the packing workload', positiveInt, 42)
  .option('--jobs <n>', 'no-op jobs in the overhead and tracing benchmarks (default 5000, smoke 200 and 100)', positiveInt)
  .parse();
const opts = program.opts<CliOptions>();
const smoke = opts.smoke === true;

// Children are killed by pid on exit (the harness' exit guard); make Ctrl-C an exit.
process.once('SIGINT', () => process.exit(130));

const results: {
  startedAt: string;
  smoke: boolean;
  machine: { cpus: number; node: string };
  packing?: PackingResult;
  overhead?: OverheadResult;
  claim?: ClaimCostResult;
  submit?: SubmitResult;
  waitReplicas?: WaitReplicasResult;
  failover?: FailoverResult;
  docker?: DockerRunResult;
  ecs?: EcsBenchResult;
  tracing?: TracingResult;
  cli?: CliStartupResult;
  console?: ConsoleBenchResult;
  summary: SummaryRow[];
  errors: string[];
} = { startedAt: new Date().toISOString(), smoke, machine: { cpus: availableParallelism(), node: process.version }, summary: [], errors: [] };
let incomplete = false;

async function runOne(bc: BenchCluster, name: Benchmark): Promise<void> {
  const t0 = Date.now();
  if (name === 'packing') {
    const jobs = smoke ? 12 : 120;
    console.error(`running packing (seed ${opts.seed}, ${jobs} jobs)…`);
    const r = await runPacking(bc, { seed: opts.seed, jobs, timeoutMs: smoke ? 30_000 : 120_000 });
    results.packing = r;
    results.summary.push(...packingSummary(r));
    incomplete ||= [r.longshore, r.baseline, r.safeBaseline].some((f) => f.completed < f.jobs);
    console.log(`\n${formatPacking(r)}`);
  } else if (name === 'submit') {
    const jobs = smoke ? 200 : 5_000;
    const rounds = smoke ? 1 : 3;
    console.error(`running submit (${jobs} jobs per run, batches of 100 and 1000, ${rounds} rounds)…`);
    const r = await runSubmit(bc, { jobs, rounds, batches: [100, 1000] });
    results.submit = r;
    results.summary.push(...submitSummary(r));
    console.log(`\n${formatSubmit(r)}`);
  } else if (name === 'wait-replicas') {
    const jobs = smoke ? 50 : 1_000;
    const rounds = smoke ? 1 : 3;
    console.error(`running wait-replicas (${jobs} jobs one at a time, ${rounds} rounds, against a master and a replica)…`);
    const r = await runWaitReplicas({ jobs, rounds });
    results.waitReplicas = r;
    results.summary.push(...waitReplicasSummary(r));
    console.log(`\n${formatWaitReplicas(r)}`);
  } else if (name === 'claim') {
    const depth = smoke ? 2_000 : 50_000;
    const claims = smoke ? 50 : 1_000;
    console.error(`running claim cost (${depth} queued jobs that do not fit, ${claims} claims per pool)…`);
    const r = await runClaimCost(bc.cluster.redis.url, { depth, claims });
    results.claim = r;
    results.summary.push(...claimSummary(r));
    if (smoke && !r.fitFoundBehindDepth) incomplete = true;
    console.log(`\n${formatClaimCost(r)}`);
  } else if (name === 'docker') {
    const runs = smoke ? 2 : 20;
    console.error(`running docker (a trivial container, ${runs} runs through longshore and through docker run --rm, on a private engine)…`);
    const r = await runDockerRun(bc, { runs });
    results.docker = r;
    results.summary.push(...dockerRunSummary(r));
    console.log(`\n${formatDockerRun(r)}`);
  } else if (name === 'ecs') {
    const runs = smoke ? 2 : 20;
    const concurrent = smoke ? 5 : 50;
    const seconds = smoke ? 1 : 10;
    console.error(`running ecs (a trivial task, ${runs} runs through longshore and through direct SDK calls; ${concurrent} tasks at once; on the local ECS endpoint and a private engine)…`);
    const r = await runEcsBench(bc, { runs, concurrent, concurrentSeconds: seconds });
    results.ecs = r;
    results.summary.push(...ecsSummary(r));
    console.log(`\n${formatEcs(r)}`);
  } else if (name === 'failover') {
    // BullMQ's defaults need 30–60 s per trial: 2 trials in a full run, none under --smoke.
    const longshoreTrials = smoke ? 2 : 10;
    const bullmqTrials = smoke ? 0 : 2;
    console.error(`running failover (${longshoreTrials} longshore trials, ${bullmqTrials} bullmq trials)…`);
    const r = await runFailover(bc, { longshoreTrials, bullmqTrials, bullmqNote: smoke ? 'skipped under --smoke (30–60 s per trial)' : 'only 2 trials (30–60 s each with its defaults)' });
    results.failover = r;
    results.summary.push(...failoverSummary(r));
    incomplete ||= [r.longshore, r.bullmq].some((f) => f.failoverMs.length < f.planned);
    console.log(`\n${formatFailover(r)}`);
  } else if (name === 'cli') {
    const rounds = smoke ? 3 : 15;
    console.error(`running cli (wall time of longshore --help, jobs ls, submit --wait -- true and node -e 0, ${rounds} rounds)…`);
    const r = await runCliStartup(bc, { rounds });
    results.cli = r;
    results.summary.push(...cliStartupSummary(r));
    console.log(`\n${formatCliStartup(r)}`);
  } else if (name === 'console') {
    const jobs = smoke ? 200 : 10_000;
    const logLines = smoke ? 2_000 : 100_000;
    const rounds = smoke ? 1 : 5;
    console.error(`running console (jobs page with ${jobs} jobs, a ${logLines}-line log, in headless chromium, ${rounds} rounds)…`);
    const r = await runConsoleBench(bc, { jobs, logLines, rounds });
    results.console = r;
    results.summary.push(...consoleBenchSummary(r));
    console.log(`\n${formatConsoleBench(r)}`);
  } else if (name === 'tracing') {
    // Clusters of its own (the services read OTEL_* at start): untraced, then traced, in rounds.
    const jobs = opts.jobs ?? (smoke ? 100 : 5000);
    const pacedJobs = smoke ? 20 : 300;
    const rounds = smoke ? 1 : 3;
    console.error(`running tracing (${rounds} rounds of ${jobs} no-op jobs at once and ${pacedJobs} paced, without and with tracing)…`);
    const profileDir = process.env['LONGSHORE_BENCH_CPU_PROFILE'] || undefined;
    const r = await runTracing({ jobs, pacedJobs, rounds, timeoutMs: smoke ? 30_000 : 120_000, ...(profileDir ? { profileDir } : {}) });
    results.tracing = r;
    results.summary.push(...tracingSummary(r));
    const runs = [...r.rounds.flatMap((x) => [x.off, x.on]), ...(r.withMetrics ? [r.withMetrics] : [])];
    incomplete ||= runs.some((t) => t.bulk.completed < t.bulk.jobs || t.paced.completed < t.paced.jobs) || r.spansReceived === 0;
    console.log(`\n${formatTracing(r)}`);
  } else {
    const jobs = opts.jobs ?? (smoke ? 200 : 5000);
    const subprocessJobs = smoke ? 20 : 500;
    const pacedJobs = smoke ? 20 : 300;
    console.error(`running overhead (${jobs} no-op jobs at once, ${subprocessJobs} \`true\` jobs, ${pacedJobs} paced)…`);
    const r = await runOverhead(bc, { jobs, subprocessJobs, pacedJobs, timeoutMs: smoke ? 30_000 : 120_000 });
    results.overhead = r;
    results.summary.push(...overheadSummary(r));
    incomplete ||= [r.raw, r.noop, r.subprocess, r.pacedRaw, r.pacedNoop].some((f) => f.completed < f.jobs);
    console.log(`\n${formatOverhead(r)}`);
  }
  console.error(`${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function broke(what: string, err: unknown): void {
  results.errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  console.error(`${what} broke:`, err);
}

// One cluster for every benchmark (starting one takes seconds); each brings its own pool and
// agents. Records are kept however many jobs run, and submits are not rate-limited (the
// overhead benchmark measures throughput, which LONGSHORE_SUBMIT_RATE would cap).
try {
  const cluster = await startCluster({ agents: 0, env: { LONGSHORE_JOB_RETENTION_COUNT: '1000000', LONGSHORE_SUBMIT_RATE: 'off', LONGSHORE_EXECUTORS: 'subprocess,noop' } });
  const ls = LongshoreClient.connect({ env: cluster.clientEnv });
  try {
    for (const name of opts.only ? [opts.only] : BENCHMARKS) await runOne({ cluster, ls }, name).catch((err: unknown) => broke(name, err));
  } finally {
    ls.close();
    await cluster.stop();
  }
} catch (err) {
  broke('cluster', err);
}

console.log(`\n${formatSummary(results.summary)}`);
await mkdir(dirname(RESULTS), { recursive: true });
await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nfigures written to ${RESULTS}`);
if (incomplete) console.error(`some runs did not complete all their jobs${smoke ? ' (a failure under --smoke)' : ''}`);
process.exit(results.errors.length > 0 || (smoke && incomplete) ? 1 : 0);
