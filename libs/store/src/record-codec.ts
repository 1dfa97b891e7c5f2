import type { AttemptRecord, FailureClassName, JobRecord, JobSpec, JobStateName } from '@longshore/domain';

/** A job record as a flat Redis hash. */
export type JobHash = Record<string, string>;

/** Fields written when a job is accepted. */
export function encodeNewJob(r: Pick<JobRecord, 'id' | 'spec' | 'weightMilli' | 'createdAt' | 'traceId'>): JobHash {
  const h: JobHash = {
    id: r.id,
    spec: JSON.stringify(r.spec),
    pool: r.spec.pool,
    state: 'queued',
    weight: String(r.weightMilli),
    createdAt: String(r.createdAt),
    updatedAt: String(r.createdAt),
    attempts: '0',
    logBytes: '0',
  };
  if (r.traceId) h['traceId'] = r.traceId;
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
  const rec: JobRecord = {
    id: h['id'],
    spec: JSON.parse(h['spec']) as JobSpec,
    state: h['state'] as JobStateName,
    weightMilli: Number(h['weight']),
    attempts,
    createdAt: Number(h['createdAt']),
    updatedAt: Number(h['updatedAt']),
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
