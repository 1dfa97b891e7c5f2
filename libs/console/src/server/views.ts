import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { isFinished, type Agent, type Attempt, type Job, type LogLine, type Pool } from '@longshore/client';
import { formatBytes, formatElapsed, formatMilli, formatStandard } from '@longshore/domain';
import { agentStateEnum, executorEnum, failureClassEnum, jobStateEnum, logStreamEnum, poolHealthEnum } from '@longshore/rpc';
import type { AgentJobView, AgentView, AttemptView, JobDetailView, JobSummaryView, LogLineView, PoolView } from '../api-types.js';

/**
 * Proto messages as the console's JSON views. Every number people read is formatted here, once,
 * with the domain's formatters, so the UI carries no second copy of them.
 */

const ms = (ts: Timestamp | undefined): number | undefined => (ts ? timestampMs(ts) : undefined);

/** A timestamp as UTC time to the second ("2026-12-02 17:20:05Z"); "-" when unset. */
export function isoTime(ts: Timestamp | undefined): string {
  const t = ms(ts);
  return t === undefined ? '-' : new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** How long ago `ts` was, as people read it ("3.2s ago", "5m ago"); "-" when unset. */
export function ago(ts: Timestamp | undefined, now: number): string {
  const t = ms(ts);
  return t === undefined ? '-' : `${formatElapsed(Math.max(0, now - t))} ago`;
}

/** From `from` to `to` (or to `now` while still going); "-" when it has not started. */
export function span(from: Timestamp | undefined, to: Timestamp | undefined, now: number): string {
  const a = ms(from);
  if (a === undefined) return '-';
  return formatElapsed(Math.max(0, (ms(to) ?? now) - a));
}

const pairs = (m: Record<string, string>): [string, string][] => Object.entries(m).sort(([a], [b]) => a.localeCompare(b));

/** A trace link from `LONGSHORE_TRACE_URL`'s template, or undefined when either is missing. */
export function traceLink(traceId: string, template: string | undefined): string | undefined {
  // Trace ids are 32 hex digits; anything else is not put into a URL.
  if (!template || !/^[0-9a-f]{32}$/i.test(traceId)) return undefined;
  return template.replaceAll('{trace_id}', traceId);
}

export function poolView(p: Pool, now: number): PoolView {
  const s = p.status;
  const r = s?.reservation;
  return {
    id: p.id,
    description: p.description,
    isDefault: p.isDefault,
    defaultWeight: formatMilli(p.defaultWeightMilli),
    maxWeight: formatMilli(p.maxWeightMilli),
    executors: p.executors.map((e) => executorEnum.fromProto(e) ?? 'unknown'),
    standard: p.standard ? formatStandard({ cpusMilli: p.standard.cpusMilli, memoryBytes: Number(p.standard.memoryBytes) }) : '',
    secrets: [...p.secrets],
    health: (s && poolHealthEnum.fromProto(s.health)) ?? 'unknown',
    liveAgents: s?.liveAgents ?? 0,
    lostAgents: s?.lostAgents ?? 0,
    drainingAgents: s?.drainingAgents ?? 0,
    capacityMilli: s?.capacityMilli ?? 0,
    weightInUseMilli: s?.weightInUseMilli ?? 0,
    capacity: formatMilli(s?.capacityMilli ?? 0),
    weightInUse: formatMilli(s?.weightInUseMilli ?? 0),
    jobsQueued: Number(s?.jobsQueued ?? 0n),
    jobsRunning: Number(s?.jobsRunning ?? 0n),
    ...(r?.jobId ? { reservation: { jobId: r.jobId, agentId: r.agentId, weight: formatMilli(r.weightMilli), sinceMs: ms(r.since) ?? 0, since: ago(r.since, now), sinceTime: isoTime(r.since) } } : {}),
  };
}

/**
 * An agent, with the jobs filling it: `jobWeights` holds the weights (thousandths) of the running
 * jobs that were looked up; the rest of its weight in use is reported as `otherWeightMilli`.
 */
export function agentView(a: Agent, now: number, jobWeights: ReadonlyMap<string, number> = new Map()): AgentView {
  const lanes = new Set([...Object.keys(a.laneUsage), ...Object.keys(a.laneLimits)]);
  const heartbeat = ms(a.lastHeartbeat);
  const jobs: AgentJobView[] = a.runningJobIds.flatMap((id) => {
    const w = jobWeights.get(id);
    return w === undefined ? [] : [{ id, weightMilli: w, weight: formatMilli(w) }];
  });
  const other = Math.max(0, a.weightInUseMilli - jobs.reduce((sum, j) => sum + j.weightMilli, 0));
  return {
    id: a.id,
    pool: a.pool,
    host: a.host,
    version: a.version,
    state: agentStateEnum.fromProto(a.state) ?? 'unknown',
    capacityMilli: a.capacityMilli,
    weightInUseMilli: a.weightInUseMilli,
    capacity: formatMilli(a.capacityMilli),
    weightInUse: formatMilli(a.weightInUseMilli),
    runningJobIds: [...a.runningJobIds],
    jobs,
    otherWeightMilli: other,
    otherWeight: formatMilli(other),
    lanes: [...lanes].sort().map((lane) => ({ lane, used: a.laneUsage[lane] ?? 0, ...(a.laneLimits[lane] !== undefined ? { limit: a.laneLimits[lane] } : {}) })),
    executors: a.executorHealth.map((h) => ({ name: executorEnum.fromProto(h.executor) ?? 'unknown', healthy: h.healthy, reason: h.reason })),
    labels: pairs(a.labels),
    ...(heartbeat !== undefined ? { lastHeartbeatMs: heartbeat } : {}),
    lastHeartbeat: ago(a.lastHeartbeat, now),
  };
}

function attemptView(a: Attempt, now: number): AttemptView {
  return {
    number: a.number,
    agentId: a.agentId,
    executor: executorEnum.fromProto(a.executor) ?? '-',
    executorReason: a.executorReason,
    started: isoTime(a.startedAt),
    finished: isoTime(a.finishedAt),
    duration: span(a.startedAt, a.finishedAt, now),
    ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
    failureClass: failureClassEnum.fromProto(a.failureClass) ?? '',
    handedBack: a.handedBack,
    message: a.message,
  };
}

export function jobSummaryView(j: Job, now: number): JobSummaryView {
  const first = j.attempts[0]?.startedAt;
  const created = ms(j.createdAt);
  return {
    id: j.id,
    state: jobStateEnum.fromProto(j.state) ?? 'unknown',
    pool: j.spec?.pool ?? '',
    weight: formatMilli(j.weightMilli),
    command: [...(j.spec?.command ?? [])],
    labels: pairs(j.spec?.labels ?? {}),
    created: isoTime(j.createdAt),
    ...(created !== undefined ? { createdMs: created } : {}),
    ...(j.exitCode !== undefined ? { exitCode: j.exitCode } : {}),
    failureClass: failureClassEnum.fromProto(j.failureClass) ?? '',
    duration: span(first, isFinished(j) ? (j.finishedAt ?? j.updatedAt) : undefined, now),
  };
}

export function jobDetailView(j: Job, now: number, traceUrl: string | undefined): JobDetailView {
  const spec = j.spec;
  const link = traceLink(j.traceId, traceUrl);
  return {
    ...jobSummaryView(j, now),
    executor: spec?.executor ? (executorEnum.fromProto(spec.executor) ?? '-') : 'agent default',
    lane: spec?.lane ?? '',
    priority: spec?.priority ?? 0,
    maxAttempts: spec?.maxAttempts ?? 0,
    timeout: spec?.timeoutMs ? formatElapsed(Number(spec.timeoutMs)) : 'agent default',
    memory: spec?.memoryBytes ? formatBytes(Number(spec.memoryBytes)) : 'no limit',
    image: spec?.image ?? '',
    // Names only: values may hold secrets' references or worse, and the console never shows them.
    envNames: Object.keys(spec?.env ?? {}).sort(),
    message: j.message,
    agentId: j.agentId,
    traceId: j.traceId,
    ...(link ? { traceLink: link } : {}),
    finished: isFinished(j),
    logTruncated: j.logTruncated,
    attempts: j.attempts.map((a) => attemptView(a, now)),
  };
}

export function logLineView(l: LogLine): LogLineView {
  const t = ms(l.time);
  return { cursor: l.cursor, stream: logStreamEnum.fromProto(l.stream) ?? 'stdout', text: l.text, ...(t !== undefined ? { timeMs: t } : {}) };
}
