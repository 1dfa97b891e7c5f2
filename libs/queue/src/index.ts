/**
 * The job lifecycle: every transition of a job, each one atomic script over its record and
 * BullMQ's queue (submit, claim, finish with the next claim, hand back, cancel, reopen, the
 * stalled sweep, fenced logs), and the agent's seam to it (JobSource).
 */
export { JobLifecycle, bullKeys, bullPriority, jobName, queueOrder, weightClass } from './lifecycle.js';
export { classWeight, queuedAtOf } from './backlog.js';
export type { QueueBacklog } from './backlog.js';
export type {
  AttemptEnd,
  AttemptOutcome,
  CancelResult,
  Claim,
  ClaimRequest,
  ClaimResult,
  ClaimSettings,
  ClaimTail,
  FinishResult,
  HeldRun,
  LoggedLines,
  NewJob,
  QueueCounts,
  Retention,
  RetryChoice,
} from './lifecycle.js';
export { createJobSource } from './job-source.js';
export type { ClaimedJob, ClaimOutcome, HeldJob, JobSource, LogLine, RedisJobSourceOptions, RunRecord } from './job-source.js';
export { decodeSpec } from './codec.js';
export type { SpecDecodeResult } from './codec.js';
export { parseReservation } from './reservation.js';
export type { Reservation } from './reservation.js';
export { checkScripts } from './scripts.js';
export type { ReplicationSettings } from './replicated.js';
export { RedisBudget, redisUsedBytes } from './budget.js';
export type { BudgetState } from './budget.js';
