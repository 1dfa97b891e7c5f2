import { Executor, FailureClass, JobState, type Job } from '@longshore/client';
import { formatMilli } from '@longshore/domain';
import { age, enumWord, isoTime, shellQuote, truncate, when } from './format.js';
import { renderFields, renderTable } from './table.js';

const COMMAND_WIDTH = 48;

/** What the EXIT column shows: the exit code, else the failure class, else "-". */
function exitText(job: Pick<Job, 'exitCode' | 'failureClass'>): string {
  return job.exitCode !== undefined ? String(job.exitCode) : enumWord(FailureClass, job.failureClass);
}

/** The `longshore jobs ls` table. */
export function renderJobTable(jobs: readonly Job[], now: number): string {
  const rows = jobs.map((job) => [
    job.id,
    enumWord(JobState, job.state),
    job.spec?.pool || '-',
    formatMilli(job.weightMilli),
    age(job.createdAt, now),
    exitText(job),
    truncate(shellQuote(job.spec?.command ?? []), COMMAND_WIDTH),
  ]);
  return renderTable(['ID', 'STATE', 'POOL', 'WEIGHT', 'AGE', 'EXIT', 'COMMAND'], rows);
}

function renderAttempts(job: Job): string {
  if (job.attempts.length === 0) return 'attempts: none yet\n';
  const rows = job.attempts.map((a) => [
    String(a.number),
    a.agentId || '-',
    enumWord(Executor, a.executor),
    isoTime(a.startedAt),
    isoTime(a.finishedAt),
    a.exitCode === undefined ? '-' : String(a.exitCode),
    a.handedBack ? 'handed back' : enumWord(FailureClass, a.failureClass),
    a.message || '-',
  ]);
  return `attempts:\n${renderTable(['#', 'AGENT', 'EXECUTOR', 'STARTED', 'FINISHED', 'EXIT', 'CLASS', 'WHY'], rows)}${renderSecretUses(job)}`;
}

/** Which secrets each attempt used, from which provider, at which version (never a value). */
function renderSecretUses(job: Job): string {
  const rows = job.attempts.flatMap((a) => a.secrets.map((u) => [String(a.number), u.name, u.provider, u.version]));
  return rows.length === 0 ? '' : `secrets used:\n${renderTable(['#', 'SECRET', 'PROVIDER', 'VERSION'], rows)}`;
}

/**
 * The job's trace id, as a link when `traceUrl` (`LONGSHORE_TRACE_URL`) is a template naming
 * `{trace_id}`, e.g. `http://jaeger:16686/trace/{trace_id}`.
 */
export function traceText(traceId: string, traceUrl?: string): string {
  if (!traceId) return '-';
  return traceUrl?.includes('{trace_id}') ? `${traceId} (${traceUrl.replaceAll('{trace_id}', traceId)})` : traceId;
}

/** The `longshore jobs get` view: key/value lines, then the attempts table. */
export function renderJob(job: Job, now: number, traceUrl?: string): string {
  const failure = job.failureClass === FailureClass.UNSPECIFIED ? '' : enumWord(FailureClass, job.failureClass);
  const fields: [string, string][] = [
    ['id', job.id],
    ['state', enumWord(JobState, job.state)],
    ['pool', job.spec?.pool || '-'],
    ['weight', formatMilli(job.weightMilli)],
    ['command', shellQuote(job.spec?.command ?? [])],
    ['exit code', job.exitCode === undefined ? '-' : String(job.exitCode)],
    ['failure', [failure, job.message].filter(Boolean).join(': ') || '-'],
    ['agent', job.agentId || '-'],
    ['created', when(job.createdAt, now)],
    ['finished', when(job.finishedAt, now)],
    ['trace', traceText(job.traceId, traceUrl)],
  ];
  // What the executor chose beyond the spec (an ECS task's Fargate size), for the latest attempt.
  const runDetail = job.attempts.at(-1)?.runDetail;
  if (runDetail) fields.push(['run', runDetail]);
  if (job.logTruncated) fields.push(['log', 'truncated (the job wrote more than the per-job cap)']);
  return `${renderFields(fields)}${renderAttempts(job)}`;
}
