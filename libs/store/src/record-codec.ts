import type { AttemptRecord, FailureClassName, JobRecord, JobSpec, JobStateName } from '@longshore/domain';

/** A job record as a flat Redis hash. */
export type JobHash = Record<string, string>;

/**
 * The fields of a job record (one Redis hash per job, `<prefix>:{<pool>}:rec:<id>`). The README's
 * "Data in Redis" table lists the same.
 */
export const RECORD_FIELDS = {
  id: 'job id',
  spec: 'the resolved JobSpec, JSON (its pool and weight are the job\'s)',
  state: 'queued | claimed | running | retrying | orphaned | succeeded | failed | cancelled',
  cls: 'weight class it is indexed under while claimable (`<weight>` or `<weight>:<lane>`)',
  order: 'queue order: (1001 - priority) * 2^42 + ms it was queued at',
  lostBudget: 'how often it may be lost before it fails',
  maxAttempts: 'attempt cap, 0 = only the budgets',
  trace: 'W3C trace context of its submit, JSON',
  traceId: 'trace id of its submit',
  createdAt: 'epoch ms',
  updatedAt: 'epoch ms of the last transition (absent once final: then finishedAt)',
  finishedAt: 'epoch ms it reached a final state',
  attempts: 'number of attempts so far',
  'a:<n>': 'attempt n, JSON (agent, executor, times, exit code, failure class, message, the secrets it used: name, provider, version — never a value)',
  token: 'fencing token of the attempt that holds it (absent when none does)',
  agent: 'agent of the latest attempt',
  exitCode: 'exit code of the latest attempt',
  failureClass: 'failure class of the latest attempt',
  message: 'what happened, for people',
  'rc:<class>': 'retries spent on a failure class',
  retryAt: 'epoch ms its retry is due (while retrying)',
  handedBack: 'attempts handed back (they do not count)',
  cancel: '1 once a cancel was requested',
  logBytes: 'bytes of output stored (absent while it printed nothing)',
  logTruncated: '1 once its log reached the cap',
  logLines: "while an attempt runs: `attempt:stdout:stderr`, the lines of its output stored (an agent adopting the run re-attaches after them)",
  run: "the running attempt's run as its executor refers to it (container id, pid + start time), JSON",
  reattach: '1 when that run outlives its agent (a container, an ECS task): it may be orphaned, then adopted',
  orphanedAt: 'epoch ms its claim lapsed while its run may still be alive (state orphaned)',
} as const;

/** What a new record holds besides its id and spec (see {@link newJobFields}). */
export interface NewJobShape {
  /** Weight class it is indexed under. */
  cls: string;
  /** Queue order, as a decimal string (exact: it exceeds 2^32). */
  order: string;
  lostBudget: number;
  maxAttempts: number;
  createdAt: number;
  /** W3C trace context of its submit, JSON, if any. */
  trace?: string;
  traceId?: string;
}

/**
 * Fields written when a job is accepted, but `id` and `spec` (the submit script writes those
 * itself): field/value pairs, flat, as HSET takes them. Jobs of one batch mostly share them (one
 * class, order, trace and millisecond), so a batch sends each distinct list once.
 */
export function newJobFields(f: NewJobShape): string[] {
  const created = String(f.createdAt);
  const h = [
    'state', 'queued',
    'cls', f.cls,
    'order', f.order,
    'lostBudget', String(f.lostBudget),
    'maxAttempts', String(f.maxAttempts),
    'createdAt', created,
    'updatedAt', created,
    'attempts', '0',
  ];
  if (f.trace) h.push('trace', f.trace);
  if (f.traceId) h.push('traceId', f.traceId);
  return h;
}

/** Attempt fields as stored in `a:<n>` (the number is the field's suffix). */
export type StoredAttempt = Omit<AttemptRecord, 'number'>;

function num(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

/** Reads a hash back; undefined when the job does not exist (or has expired). */
export function decodeJob(h: JobHash): JobRecord | undefined {
  if (!h['id'] || !h['spec']) return undefined;
  const count = Number(h['attempts'] ?? '0');
  const attempts: AttemptRecord[] = [];
  for (let n = 1; n <= count; n++) {
    const raw = h[`a:${n}`];
    if (raw) attempts.push({ number: n, ...(JSON.parse(raw) as StoredAttempt) });
  }
  const spec = JSON.parse(h['spec']) as JobSpec;
  const rec: JobRecord = {
    id: h['id'],
    spec,
    state: h['state'] as JobStateName,
    weightMilli: spec.weightMilli,
    attempts,
    createdAt: Number(h['createdAt']),
    updatedAt: Number(h['updatedAt'] ?? h['finishedAt']),
    logTruncated: h['logTruncated'] === '1',
  };
  const finishedAt = num(h['finishedAt']);
  if (finishedAt !== undefined) rec.finishedAt = finishedAt;
  const exitCode = num(h['exitCode']);
  if (exitCode !== undefined) rec.exitCode = exitCode;
  if (h['failureClass']) rec.failureClass = h['failureClass'] as FailureClassName;
  if (h['message']) rec.message = h['message'];
  if (h['agent']) rec.agentId = h['agent'];
  if (h['traceId']) rec.traceId = h['traceId'];
  return rec;
}
