import { InvalidArgumentError, validateDnsLabel, type JobRecord, type JobStateName } from '@longshore/domain';
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

const TOKEN = /^[0-9a-z]{9}[0-9a-f]{16}$/;

export function parseJobQuery(req: ListJobsRequest): JobQuery {
  if (req.pageSize > 500) throw new InvalidArgumentError('page_size', `${req.pageSize} is too large: use 1 to 500`);
  if (req.pageToken && !TOKEN.test(req.pageToken)) throw new InvalidArgumentError('page_token', 'is not a token this server gave out');
  const q: JobQuery = { labels: { ...req.labels }, pageSize: req.pageSize || 50 };
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
