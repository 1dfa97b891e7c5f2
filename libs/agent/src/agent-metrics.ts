import type { Meter, ObservableCallback } from '@opentelemetry/api';
import { jobCreatedAt, STANDARD_CAPACITY_MILLI } from '@longshore/domain';
import type { AttemptOutcome } from '@longshore/queue';

/** Bucket bounds (seconds) for job wait and run times: sub-second to a day. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];

/** What an agent records about the jobs it runs (counters and histograms) and its own room (gauges). */
export interface AgentMetrics {
  /** An attempt started here (not an adopted run: that attempt started in an earlier life). */
  started(job: { id: string; attempt: number }, executor: string, startedAt: number): void;
  /** An attempt's end was recorded (not fenced). */
  finished(outcome: AttemptOutcome): void;
  /** This agent lost its claim on a job: its run was stopped, or its result discarded. */
  lostClaim(): void;
  /** Unregisters the gauges. */
  close(): void;
}

/**
 * The agent's instruments on `meter`. Wait time is measured from the job's submit to its first
 * attempt's start: a job id encodes its creation millisecond (see newJobId), so the agent knows
 * it without reading the record; a re-run (attempt > 1) is counted by `reruns` and adds no wait
 * sample (its time in the queue since the retry is not known here).
 */
export function createAgentMetrics(meter: Meter, who: { pool: string; agent: string }, room: () => { capacityMilli: number; weightInUseMilli: number }): AgentMetrics {
  const { pool } = who;
  const started = meter.createCounter('longshore.jobs.started', { description: 'Attempts started, by pool and executor', unit: '{attempt}' });
  const finished = meter.createCounter('longshore.jobs.finished', { description: 'Attempts ended and recorded, by pool, executor and failure class (none = succeeded)', unit: '{attempt}' });
  const reruns = meter.createCounter('longshore.jobs.reruns', { description: 'Attempts started that were not the job\'s first (retries and re-runs after a lost claim)', unit: '{attempt}' });
  const lostClaims = meter.createCounter('longshore.jobs.lost_claims', { description: 'Claims this agent lost: the job became someone else\'s, its run was stopped or its result discarded', unit: '{claim}' });
  const wait = meter.createHistogram('longshore.job.wait_seconds', { description: "Time from a job's submit to its first attempt's start", unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
  const run = meter.createHistogram('longshore.job.run_seconds', { description: "An attempt's run time, by pool, executor and failure class", unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
  const capacity = meter.createObservableGauge('longshore.agent.capacity', { description: "The agent's capacity, in standard agents", unit: '{standard_agent}' });
  const inUse = meter.createObservableGauge('longshore.agent.weight.in_use', { description: 'Weight of the jobs the agent runs now, in standard agents', unit: '{standard_agent}' });
  const observe: ObservableCallback = (r) => r.observe(room().capacityMilli / STANDARD_CAPACITY_MILLI, who);
  const observeInUse: ObservableCallback = (r) => r.observe(room().weightInUseMilli / STANDARD_CAPACITY_MILLI, who);
  capacity.addCallback(observe);
  inUse.addCallback(observeInUse);
  return {
    started(job, executor, startedAt) {
      started.add(1, { pool, executor });
      if (job.attempt > 1) {
        reruns.add(1, { pool, executor });
        return;
      }
      const createdAt = jobCreatedAt(job.id);
      if (createdAt !== undefined) wait.record(Math.max(0, startedAt - createdAt) / 1000, { pool, executor });
    },
    finished(outcome) {
      const attrs = { pool, executor: outcome.attempt.executor, failure_class: outcome.failureClass ?? 'none' };
      finished.add(1, attrs);
      const end = outcome.attempt.finishedAt;
      if (end !== undefined) run.record(Math.max(0, end - outcome.attempt.startedAt) / 1000, attrs);
    },
    lostClaim() {
      lostClaims.add(1, { pool });
    },
    close() {
      capacity.removeCallback(observe);
      inUse.removeCallback(observeInUse);
    },
  };
}
