import { InvalidArgumentError, LIMITS, validateDnsLabel, validatePlainText, type JobRecord, type JobStateName } from '@longshore/domain';
import type { ListJobsRequest } from '@longshore/proto';
import { jobStateEnum } from '@longshore/rpc';

/** A validated ListJobs query. */
export interface JobQuery {
  pool?: string;
  state?: JobStateName;
  labels: Record<string, string>;
  pageSize: number;
  after?: string;
}

const TOKEN = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)?[0-9a-z]{9}[0-9a-f]{16}$/;
const LABEL_KEY = /^[a-z0-9]([-a-z0-9_./]*[a-z0-9])?$/;

/** Label filters: few, and each one a label a job could carry (anything else matches nothing anyway). */
function parseLabelFilters(labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > LIMITS.labelFilters) {
    throw new InvalidArgumentError('labels', `has ${entries.length} label filters; at most ${LIMITS.labelFilters} are allowed per listing`);
  }
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key) || key.length > LIMITS.labelKeyLength) {
      throw new InvalidArgumentError(`labels.${key.slice(0, 80)}`, `is not a valid label key: 1-${LIMITS.labelKeyLength} lowercase letters, digits, '-', '_', '.', '/'`);
    }
    validatePlainText(`labels.${key}`, value, LIMITS.labelValueLength);
  }
  return { ...labels };
}

export function parseJobQuery(req: ListJobsRequest): JobQuery {
  if (req.pageSize > LIMITS.pageSize) throw new InvalidArgumentError('page_size', `${req.pageSize} is too large: use 1 to ${LIMITS.pageSize} (0 = ${LIMITS.defaultPageSize})`);
  if (req.pageToken && !TOKEN.test(req.pageToken)) throw new InvalidArgumentError('page_token', 'is not a token this server gave out');
  const q: JobQuery = { labels: parseLabelFilters(req.labels), pageSize: req.pageSize || LIMITS.defaultPageSize };
  if (req.pool) q.pool = validateDnsLabel('pool', req.pool);
  if (req.state) {
    const s = jobStateEnum.fromProto(req.state);
    if (!s) throw new InvalidArgumentError('state', `unknown state ${req.state}`);
    q.state = s;
  }
  if (req.pageToken) q.after = req.pageToken;
  return q;
}

export function matchesQuery(r: JobRecord, q: JobQuery): boolean {
  if (q.pool && r.spec.pool !== q.pool) return false;
  if (q.state && r.state !== q.state) return false;
  return Object.entries(q.labels).every(([k, v]) => r.spec.labels[k] === v);
}

/** Rough encoded size of a job on the wire (JSON is larger than protobuf, so this errs on the safe side). */
export function approxJobBytes(r: JobRecord): number {
  return Buffer.byteLength(JSON.stringify(r), 'utf8');
}
