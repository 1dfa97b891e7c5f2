/** Turns benchmark results into the printed report and the summary kept as JSON. */
import Table from 'cli-table3';
import { dockerRunRatio, type DockerRunResult } from './docker-run.js';
import { describeTasksPerJob, ecsOverheadRatio, type EcsBenchResult } from './ecs.js';
import type { ClaimCostResult } from './claim-cost.js';
import { submitRatio, type SubmitResult } from './submit.js';
import { waitRatio, type WaitReplicasResult } from './wait-replicas.js';
import { systemCpuUsPerJob, type OverheadFigures, type OverheadResult } from './overhead.js';
import type { PackingFigures, PackingResult } from './packing.js';
import type { TracingResult } from './tracing.js';
import { median } from './stats.js';

/** One line of the final summary: a figure, its goal (if any) and whether it met it. */
export interface SummaryRow {
  benchmark: string;
  metric: string;
  value: string;
  goal: string;
  met: boolean | null;
}

/** A borderless table: the plain `kubectl get` look, which survives copy-paste and grep. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({
    head: [...head],
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of rows) t.push([...r]);
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const secs = (ms: number): string => `${num(ms / 1000, 2)} s`;
const weight = (milli: number): string => num(milli / 1000, 3);
const peak = (f: PackingFigures): number => Math.max(0, ...Object.values(f.peakWeightMilli));

export function formatPacking(r: PackingResult): string {
  const counts = new Map<number, number>();
  for (const w of r.workload) counts.set(w.weightMilli, (counts.get(w.weightMilli) ?? 0) + 1);
  const mix = [...counts].sort(([a], [b]) => a - b).map(([w, c]) => `${weight(w)}×${c}`).join(' ');
  const items = r.workload.map((w) => `${w.weightMilli / 1000}/${w.durationMs}`);
  const lines = [];
  for (let i = 0; i < items.length; i += 12) lines.push(`    ${items.slice(i, i + 12).join(' ')}`);
  const rows = [r.longshore, r.baseline, r.safeBaseline].map((f) => [
    f.system,
    `${f.completed}/${f.jobs}`,
    secs(f.makespanMs),
    num(f.utilization, 3),
    Object.entries(f.peakWeightMilli).map(([w, m]) => `${w} ${weight(m)}`).join(', '),
  ]);
  return [
    `Packing: seed ${r.seed}, ${r.jobs} sleep jobs on ${r.agents} workers of capacity ${weight(r.capacityMilliEach)}`,
    `  weights ${mix}; lower bound on makespan (Σ weight×duration / Σ capacity) ${secs(r.lowerBoundMakespanMs)}`,
    '  workload (weight/duration ms):',
    ...lines,
    '',
    indent(table(['system', 'done', 'makespan', 'utilization', 'peak weight running at once'], rows)),
    `  longshore recorded ${r.longshore.extraAttempts ?? 0} attempt(s) beyond one per job`,
  ].join('\n');
}

export function formatOverhead(r: OverheadResult): string {
  const rows = [r.raw, r.noop, r.subprocess, r.pacedRaw, r.pacedNoop].map((f: OverheadFigures) => [
    f.system,
    `${f.completed}/${f.jobs}`,
    secs(f.elapsedMs),
    num(f.jobsPerSec, 0),
    `${num(f.p50Ms, 1)} ms`,
    `${num(f.p99Ms, 1)} ms`,
    Number.isFinite(f.redisCommandsPerJob) ? num(f.redisCommandsPerJob, 1) : '',
    Number.isFinite(f.redisCpuUsPerJob) ? num(f.redisCpuUsPerJob, 0) : '',
    Number.isFinite(f.redisBytesPerJob) ? num(f.redisBytesPerJob, 0) : '',
    Number.isFinite(f.consumerCpuUsPerJob) ? num(f.consumerCpuUsPerJob, 0) : '',
    Number.isFinite(f.controlPlaneCpuUsPerJob) ? num(f.controlPlaneCpuUsPerJob, 0) : '',
    Number.isFinite(systemCpuUsPerJob(f)) ? num(systemCpuUsPerJob(f), 0) : '',
  ]);
  const ratio = (a: OverheadFigures, b: OverheadFigures): string =>
    `throughput ${num(a.jobsPerSec / b.jobsPerSec, 2)}×, start p50 ${num(a.p50Ms / b.p50Ms, 1)}×, p99 ${num(a.p99Ms / b.p99Ms, 1)}×`;
  return [
    'Control-plane overhead: no-op jobs, raw BullMQ (1 worker, concurrency 8) vs Longshore (1 agent, capacity 1.0, weight 0.125)',
    indent(table(['system', 'done', 'elapsed', 'jobs/s', 'start p50', 'start p99', 'redis cmds/job', 'redis cpu µs/job', 'redis bytes/job', 'consumer cpu µs/job', 'control plane cpu µs/job', 'system cpu µs/job'], rows)),
    `  bulk,  longshore noop / raw: ${ratio(r.noop, r.raw)}`,
    `  paced, longshore noop / raw: start p50 ${num(r.pacedNoop.p50Ms / r.pacedRaw.p50Ms, 1)}×, p99 ${num(r.pacedNoop.p99Ms / r.pacedRaw.p99Ms, 1)}×`,
  ].join('\n');
}

/** The median of the rounds' traced/untraced throughput ratios: the figure the goal judges. */
export function tracingRatio(r: TracingResult): number {
  return median(r.rounds.map((x) => x.on.bulk.jobsPerSec / x.off.bulk.jobsPerSec));
}

export function formatTracing(r: TracingResult): string {
  const runs = r.rounds.flatMap((x, i) => [x.off, x.on].map((t) => ({ ...t, name: r.rounds.length > 1 ? `${t.bulk.system} (${i + 1})` : t.bulk.system })));
  if (r.withMetrics) runs.push({ ...r.withMetrics, name: `${r.withMetrics.bulk.system}, metrics too` });
  const rows = runs.flatMap((t) => [t.bulk, t.paced].map((f, j) => [j === 0 ? t.name : `${t.name} paced`, `${f.completed}/${f.jobs}`, secs(f.elapsedMs), num(f.jobsPerSec, 0), `${num(f.p50Ms, 1)} ms`, `${num(f.p99Ms, 1)} ms`]));
  const ratios = r.rounds.map((x) => x.on.bulk.jobsPerSec / x.off.bulk.jobsPerSec);
  const lines = [
    'Tracing cost: Longshore no-op jobs (1 agent, capacity 1.0, weight 0.125), no OTEL_* vs every span exported (always_on, OTLP/HTTP JSON to a loopback receiver that counts them; OTEL_METRICS_EXPORTER=none), alternating rounds',
    indent(table(['run', 'done', 'elapsed', 'jobs/s', 'start p50', 'start p99'], rows)),
    `  bulk throughput, on / off per round: ${ratios.map((x) => `${num(x, 2)}×`).join(', ')}; median ${num(median(ratios), 2)}×`,
  ];
  for (const [i, x] of r.rounds.entries()) {
    const { off, on } = x;
    const tag = r.rounds.length > 1 ? ` (${i + 1})` : '';
    lines.push(
      `  round${tag}: start p50 ${num(on.bulk.p50Ms / off.bulk.p50Ms, 2)}×, p99 ${num(on.bulk.p99Ms / off.bulk.p99Ms, 2)}×; paced start p50 ${num(on.paced.p50Ms / off.paced.p50Ms, 2)}×, p99 ${num(on.paced.p99Ms / off.paced.p99Ms, 2)}×`,
      `    redis per bulk job: ${num(on.bulk.redisCommandsPerJob, 1)} vs ${num(off.bulk.redisCommandsPerJob, 1)} commands, ${num(on.bulk.redisBytesPerJob, 0)} vs ${num(off.bulk.redisBytesPerJob, 0)} bytes`,
      `    agent CPU per bulk job, on vs off: process ${num(on.bulk.consumerCpuUsPerJob, 0)} vs ${num(off.bulk.consumerCpuUsPerJob, 0)} µs (+${num(on.bulk.consumerCpuUsPerJob - off.bulk.consumerCpuUsPerJob, 0)}), main thread ${num(on.mainThreadUsPerJob, 0)} vs ${num(off.mainThreadUsPerJob, 0)} µs (+${num(on.mainThreadUsPerJob - off.mainThreadUsPerJob, 0)}, ${num(on.mainThreadUsPerJob / off.mainThreadUsPerJob, 2)}×)`,
    );
  }
  if (r.withMetrics) {
    const offTput = median(r.rounds.map((x) => x.off.bulk.jobsPerSec));
    const offMain = median(r.rounds.map((x) => x.off.mainThreadUsPerJob));
    lines.push(
      `  traces and metrics over OTLP (OTEL_METRICS_EXPORTER unset), against the median untraced run: throughput ${num(r.withMetrics.bulk.jobsPerSec / offTput, 2)}×, agent main thread ${num(r.withMetrics.mainThreadUsPerJob, 0)} vs ${num(offMain, 0)} µs per job`,
    );
  }
  lines.push(`  spans received: ${r.spansReceived} (${num(r.spansReceived / r.tracedJobs, 1)} per job)`);
  return lines.join('\n');
}

export function tracingSummary(r: TracingResult): SummaryRow[] {
  const ratio = tracingRatio(r);
  const mid = (pick: (x: TracingResult['rounds'][number]) => number) => median(r.rounds.map(pick));
  return [
    {
      benchmark: 'tracing',
      metric: `noop throughput traced / untraced (median of ${r.rounds.length} round${r.rounds.length === 1 ? '' : 's'})`,
      value: `${num(ratio, 2)}× (${num(mid((x) => x.on.bulk.jobsPerSec), 0)} vs ${num(mid((x) => x.off.bulk.jobsPerSec), 0)} jobs/s)`,
      goal: '≥ 0.9×',
      met: ratio >= 0.9,
    },
    {
      benchmark: 'tracing',
      metric: 'agent main-thread CPU per job traced vs untraced (medians)',
      value: `${num(mid((x) => x.on.mainThreadUsPerJob), 0)} vs ${num(mid((x) => x.off.mainThreadUsPerJob), 0)} µs (process ${num(mid((x) => x.on.bulk.consumerCpuUsPerJob), 0)} vs ${num(mid((x) => x.off.bulk.consumerCpuUsPerJob), 0)})`,
      goal: '',
      met: null,
    },
    { benchmark: 'tracing', metric: 'paced start p50 traced vs untraced (medians)', value: `${num(mid((x) => x.on.paced.p50Ms), 1)} vs ${num(mid((x) => x.off.paced.p50Ms), 1)} ms`, goal: '', met: null },
  ];
}

export function packingSummary(r: PackingResult): SummaryRow[] {
  const b = 'packing';
  const maxAgent = peak(r.longshore);
  return [
    { benchmark: b, metric: 'longshore utilization', value: num(r.longshore.utilization, 3), goal: '≥ 0.9', met: r.longshore.utilization >= 0.9 },
    {
      benchmark: b,
      metric: 'longshore makespan vs bullmq c=4',
      value: `${secs(r.longshore.makespanMs)} vs ${secs(r.baseline.makespanMs)}`,
      goal: '≤ baseline',
      met: r.longshore.makespanMs <= r.baseline.makespanMs,
    },
    { benchmark: b, metric: 'longshore max weight on an agent', value: weight(maxAgent), goal: '≤ 1.000', met: maxAgent <= r.capacityMilliEach },
    { benchmark: b, metric: 'bullmq c=4 peak oversubscription', value: `${num(peak(r.baseline) / r.capacityMilliEach, 3)}×`, goal: '', met: null },
    { benchmark: b, metric: 'bullmq c=1 makespan (capacity-safe)', value: secs(r.safeBaseline.makespanMs), goal: '', met: null },
  ];
}

export function overheadSummary(r: OverheadResult): SummaryRow[] {
  const b = 'overhead';
  const tput = r.noop.jobsPerSec / r.raw.jobsPerSec;
  const latency = (metric: string, a: number, base: number, goal: boolean): SummaryRow => ({
    benchmark: b,
    metric,
    value: `${num(a / base, 1)}× (${num(a, 1)} vs ${num(base, 1)} ms)`,
    goal: goal ? '≤ 2×' : '',
    met: goal ? a / base <= 2 : null,
  });
  return [
    { benchmark: b, metric: 'noop throughput / raw', value: `${num(tput, 2)}× (${num(r.noop.jobsPerSec, 0)} vs ${num(r.raw.jobsPerSec, 0)} jobs/s)`, goal: '≥ 0.8×', met: tput >= 0.8 },
    {
      benchmark: b,
      metric: 'agent CPU per noop job / BullMQ Worker',
      value: `${num(r.noop.consumerCpuUsPerJob / r.raw.consumerCpuUsPerJob, 2)}× (${num(r.noop.consumerCpuUsPerJob, 0)} vs ${num(r.raw.consumerCpuUsPerJob, 0)} µs)`,
      goal: '≤ 2×',
      met: r.noop.consumerCpuUsPerJob / r.raw.consumerCpuUsPerJob <= 2,
    },
    {
      benchmark: b,
      metric: 'system CPU per noop job / raw BullMQ',
      value: `${num(systemCpuUsPerJob(r.noop) / systemCpuUsPerJob(r.raw), 2)}× (${num(systemCpuUsPerJob(r.noop), 0)} vs ${num(systemCpuUsPerJob(r.raw), 0)} µs)`,
      goal: '',
      met: null,
    },
    { benchmark: b, metric: 'redis bytes per finished noop job', value: num(r.noop.redisBytesPerJob, 0), goal: '≤ 2048', met: r.noop.redisBytesPerJob <= 2048 },
    latency('noop start p50 / raw, bulk', r.noop.p50Ms, r.raw.p50Ms, true),
    latency('noop start p99 / raw, bulk', r.noop.p99Ms, r.raw.p99Ms, false),
    latency('noop start p50 / raw, paced', r.pacedNoop.p50Ms, r.pacedRaw.p50Ms, true),
    latency('noop start p99 / raw, paced', r.pacedNoop.p99Ms, r.pacedRaw.p99Ms, false),
    { benchmark: b, metric: '`true` subprocess, bulk', value: `${num(r.subprocess.jobsPerSec, 0)} jobs/s, start p50 ${num(r.subprocess.p50Ms, 1)} ms`, goal: '', met: null },
  ];
}

export function formatSummary(rows: readonly SummaryRow[]): string {
  const verdict = (m: boolean | null): string => (m === null ? '' : m ? 'met' : 'MISSED');
  return ['Summary', indent(table(['benchmark', 'metric', 'value', 'goal', ''], rows.map((r) => [r.benchmark, r.metric, r.value, r.goal, verdict(r.met)])))].join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function formatClaimCost(r: ClaimCostResult): string {
  const rows = [r.empty, r.deep].map((f) => [f.pool, String(f.queued), `${num(f.redisUsPerClaim, 1)} µs`, `${num(f.wallUsP50, 0)} µs`]);
  return [
    'Claim cost: a claim with 0.5 free that finds nothing, on an empty pool and behind queued jobs of weight 1.0',
    indent(table(['pool', 'queued', 'redis time/claim', 'round trip p50'], rows)),
    `  deep / empty: redis ${num(r.deep.redisUsPerClaim / r.empty.redisUsPerClaim, 2)}×, round trip ${num(r.deep.wallUsP50 / r.empty.wallUsP50, 2)}×`,
    `  a weight-0.25 job queued behind all ${r.deep.queued}: ${r.fitFoundBehindDepth ? 'found by the next claim' : 'NOT FOUND'}`,
  ].join('\n');
}

export function claimSummary(r: ClaimCostResult): SummaryRow[] {
  const ratio = r.deep.redisUsPerClaim / r.empty.redisUsPerClaim;
  return [
    { benchmark: 'claim', metric: `claim cost at ${r.deep.queued} queued / empty`, value: `${num(ratio, 2)}× (${num(r.deep.redisUsPerClaim, 1)} vs ${num(r.empty.redisUsPerClaim, 1)} µs)`, goal: '≤ 2×', met: ratio <= 2 },
    { benchmark: 'claim', metric: `fitting job found behind ${r.deep.queued}`, value: r.fitFoundBehindDepth ? 'yes' : 'no', goal: 'yes', met: r.fitFoundBehindDepth },
  ];
}

export function formatSubmit(r: SubmitResult): string {
  const runs = (xs: number[]) => xs.map((x) => num(x, 0)).join(', ');
  const rows = r.map((f) => [String(f.batch), `${num(median(f.rawJobsPerSec), 0)} [${runs(f.rawJobsPerSec)}]`, `${num(median(f.longshoreJobsPerSec), 0)} [${runs(f.longshoreJobsPerSec)}]`, `${num(submitRatio(f), 2)}×`]);
  return [
    'Submit throughput: SubmitJobs over gRPC (basic view) vs BullMQ addBulk, jobs/s, median [runs]',
    indent(table(['batch', 'addBulk', 'SubmitJobs', 'ratio'], rows)),
  ].join('\n');
}

export function submitSummary(r: SubmitResult): SummaryRow[] {
  return r.map((f) => ({ benchmark: 'submit', metric: `SubmitJobs / addBulk, batches of ${f.batch}`, value: `${num(submitRatio(f), 2)}×`, goal: '≥ 0.5×', met: submitRatio(f) >= 0.5 }));
}

export function formatWaitReplicas(r: WaitReplicasResult): string {
  const runs = (xs: number[]) => xs.map((x) => num(x, 0)).join(', ');
  return [
    `LONGSHORE_REDIS_WAIT_REPLICAS: ${r.jobs} jobs one at a time (submit, claim, finish), master + 1 replica on this host, jobs/s median [runs]`,
    indent(table(['wait', 'jobs/s'], [['0', `${num(median(r.noWait), 0)} [${runs(r.noWait)}]`], ['1', `${num(median(r.waitOne), 0)} [${runs(r.waitOne)}]`]])),
    `  with the wait / without: ${num(waitRatio(r), 2)}×`,
  ].join('\n');
}

export function waitReplicasSummary(r: WaitReplicasResult): SummaryRow[] {
  return [{ benchmark: 'wait-replicas', metric: 'jobs/s with WAIT 1 / without', value: `${num(waitRatio(r), 2)}× (${num(median(r.waitOne), 0)} vs ${num(median(r.noWait), 0)})`, goal: '', met: null }];
}

export function formatDockerRun(r: DockerRunResult): string {
  const runs = (xs: number[]) => xs.map((x) => num(x, 0)).join(', ');
  return [
    `A trivial container (true), one at a time, ${r.runs} runs each, wall ms: median [runs]`,
    indent(
      table(
        ['how', 'ms'],
        [
          ['docker run --rm', `${num(median(r.dockerRunMs), 0)} [${runs(r.dockerRunMs)}]`],
          ['longshore (submit → finished)', `${num(median(r.longshoreMs), 0)} [${runs(r.longshoreMs)}]`],
        ],
      ),
    ),
    `  longshore / docker run --rm: ${num(dockerRunRatio(r), 2)}×`,
  ].join('\n');
}

export function dockerRunSummary(r: DockerRunResult): SummaryRow[] {
  const ratio = dockerRunRatio(r);
  return [{ benchmark: 'docker', metric: 'trivial container: longshore / docker run --rm (median)', value: `${num(ratio, 2)}× (${num(median(r.longshoreMs), 0)} vs ${num(median(r.dockerRunMs), 0)} ms)`, goal: '≤ 1.1×', met: ratio <= 1.1 }];
}

export function formatEcs(r: EcsBenchResult): string {
  const runs = (xs: number[]) => xs.map((x) => num(x, 0)).join(', ');
  const c = r.concurrent;
  const perJob = (n: number) => num(n / c.jobs, 2);
  return [
    `A trivial ECS task (sh -c 'echo hi') on the local ECS endpoint, one at a time, ${r.runs} runs each, both polling DescribeTasks every ${r.pollMs} ms, wall ms: median [runs]`,
    indent(
      table(
        ['how', 'ms'],
        [
          ['direct SDK (RunTask → STOPPED seen → GetLogEvents)', `${num(median(r.directMs), 0)} [${runs(r.directMs)}]`],
          ['longshore (submit → finished)', `${num(median(r.longshoreMs), 0)} [${runs(r.longshoreMs)}]`],
        ],
      ),
    ),
    `  longshore / direct SDK: ${num(ecsOverheadRatio(r), 2)}× (+${num(median(r.longshoreMs) - median(r.directMs), 0)} ms per job)`,
    '',
    `${c.jobs} ECS jobs at once (sleep ${c.seconds}), one agent, poll every ${c.pollMs} ms: ${num(c.wallMs / 1000, 1)} s, at most ${c.peakAtOnce} tasks alive at once; API calls of the agent`,
    indent(
      table(
        ['action', 'calls', 'per job'],
        Object.entries(c.calls)
          .filter(([action]) => action !== 'DescribeClusters')
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([action, n]) => [action, String(n), perJob(n)]),
      ),
    ),
    `  besides: DescribeClusters ${c.calls['DescribeClusters'] ?? 0}, the agent's health probe (one per heartbeat, not per job)`,
    `  DescribeTasks: ${c.calls['DescribeTasks'] ?? 0} calls (${perJob(c.calls['DescribeTasks'] ?? 0)} per job); one per task and poll would be ${c.unbatchedDescribeTasks} (${perJob(c.unbatchedDescribeTasks)} per job)`,
  ].join('\n');
}

export function ecsSummary(r: EcsBenchResult): SummaryRow[] {
  const ratio = ecsOverheadRatio(r);
  const perJob = describeTasksPerJob(r);
  const unbatched = r.concurrent.unbatchedDescribeTasks / r.concurrent.jobs;
  return [
    { benchmark: 'ecs', metric: 'trivial ECS task: longshore / direct SDK calls (median)', value: `${num(ratio, 2)}× (${num(median(r.longshoreMs), 0)} vs ${num(median(r.directMs), 0)} ms)`, goal: '', met: null },
    {
      benchmark: 'ecs',
      metric: `DescribeTasks per job, ${r.concurrent.jobs} tasks at once`,
      value: `${num(perJob, 2)} (one per task and poll: ${num(unbatched, 2)})`,
      goal: 'batched: fewer than one per task and poll',
      met: perJob < unbatched,
    },
  ];
}
