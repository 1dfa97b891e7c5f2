import { LIMITS, parseDurationMs } from '@longshore/domain';
import { z } from 'zod';

/** A token-bucket rate: `jobs` per `periodMs` on average, at most `burst` at once. */
export interface SubmitRate {
  readonly jobs: number;
  readonly periodMs: number;
  readonly burst: number;
}

/** Seconds of the rate a bucket holds when no burst is given (but always one full batch). */
const DEFAULT_BURST_MS = 10_000;

/**
 * Parses `LONGSHORE_SUBMIT_RATE`: `off`, or `JOBS/PERIOD` (`200/s`, `6000/m`, `500/10s`) with an
 * optional `,burst=N`. Without a burst the bucket holds ten seconds' worth, and at least one
 * full batch (so a `SubmitJobs` of the largest size can always pass on its own).
 */
export function parseSubmitRate(text: string): SubmitRate | null {
  const t = text.trim().toLowerCase();
  if (t === 'off') return null;
  const m = /^(\d+)\s*\/\s*([0-9.]*[a-z]+)\s*(?:,\s*burst\s*=\s*(\d+))?$/.exec(t);
  if (!m) throw new Error('must be "off" or JOBS/PERIOD with an optional ",burst=N" (e.g. 200/s, 6000/m, 500/10s,burst=2000)');
  const jobs = Number(m[1]);
  const period = /^[a-z]+$/.test(m[2]!) ? `1${m[2]}` : m[2]!;
  const periodMs = parseDurationMs('', period);
  if (jobs < 1 || periodMs < 1) throw new Error('needs at least 1 job per period, and a period of at least 1ms');
  const burst = m[3] ? Number(m[3]) : Math.max(Math.ceil((jobs * DEFAULT_BURST_MS) / periodMs), LIMITS.batchSize);
  if (burst < 1) throw new Error('burst must be at least 1');
  return Object.freeze({ jobs, periodMs, burst });
}

/** The zod field for `LONGSHORE_SUBMIT_RATE`, reporting parse errors against the variable. */
export function submitRateField() {
  return z.string().transform((text, ctx) => {
    try {
      return parseSubmitRate(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err instanceof Error ? err.message : String(err)).replace(/^: /, '') });
      return z.NEVER;
    }
  });
}
