import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from './errors/index.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Checks a pool id or lane name: a lowercase DNS label. */
export function validateDnsLabel(field: string, value: string): string {
  if (!DNS_LABEL.test(value)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(value.slice(0, 80))} is not a valid name: use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. "ingest-eu")`,
    );
  }
  return value;
}

let lastMs = 0;
let lastRand = 0n;
const RAND_MAX = (1n << 64n) - 1n;

/**
 * A new job id: its pool, a '.', then 9 base-36 characters of milliseconds and 16 hex of
 * randomness, so a pool's ids sort by creation time (ListJobs relies on that) and any id names
 * the pool whose keys hold the job (one Redis Cluster slot per pool). Within one millisecond a
 * process increments the random part, so its ids stay in order (ULID's "monotonic" mode).
 */
export function newJobId(pool: string, now = Date.now()): string {
  if (now <= lastMs && lastRand < RAND_MAX) {
    lastRand += 1n;
    now = lastMs;
  } else {
    lastMs = now;
    lastRand = randomBytes(8).readBigUInt64BE() >> 1n;
  }
  return `${pool}.${now.toString(36).padStart(9, '0')}${lastRand.toString(16).padStart(16, '0')}`;
}

const JOB_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.[0-9a-z]{9}[0-9a-f]{16}$/;

/** Checks a job id's shape before it is used in a Redis key. */
export function validateJobId(value: string): string {
  if (!JOB_ID.test(value)) {
    throw new InvalidArgumentError('id', `${JSON.stringify(value.slice(0, 80))} is not a job id (POOL.ID, as printed by "longshore submit", e.g. default.0mhx3k2ab8f3c0e9d1a2b3c4d)`);
  }
  return value;
}

/** The millisecond a job id was made (its submit), from the id itself; undefined for what is not a job id. */
export function jobCreatedAt(id: string): number | undefined {
  const m = /\.([0-9a-z]{9})[0-9a-f]{16}$/.exec(id);
  return m ? parseInt(m[1]!, 36) : undefined;
}
