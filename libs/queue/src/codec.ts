import { EXECUTORS, LIMITS, type JobSpec } from '@longshore/domain';
import type { TraceCarrier } from '@longshore/telemetry';
import { z } from 'zod';

/**
 * Version of the job data in the queue. Agents accept every version up to theirs, so agents of
 * two versions can run side by side in a rolling upgrade; a newer version is handed back.
 */
export const QUEUE_DATA_VERSION = 1;

/** What travels through BullMQ for one job: enough to run it, never a secret's value. */
export interface QueueJobData {
  v: number;
  id: string;
  pool: string;
  weightMilli: number;
  lane?: string;
  priority: number;
  spec: JobSpec;
  /** W3C trace context of the submit, so the agent's spans join the job's trace. */
  trace: TraceCarrier;
  submittedAt: number;
}

const executor = z.enum(EXECUTORS);
const specSchema = z.object({
  pool: z.string(),
  executor: executor.optional(),
  allowedExecutors: z.array(executor),
  command: z.array(z.string()).min(1).max(LIMITS.commandArgs),
  env: z.record(z.string(), z.string()),
  workingDir: z.string().optional(),
  weightMilli: z.number().int(),
  lane: z.string().optional(),
  memoryBytes: z.number().int().optional(),
  timeoutMs: z.number().int().min(0),
  maxAttempts: z.number().int().min(0),
  priority: z.number().int(),
  labels: z.record(z.string(), z.string()),
  idempotencyKey: z.string().optional(),
  image: z.string().optional(),
  retry: z
    .object({
      budgets: z.object({ exit: z.number().int(), timeout: z.number().int(), oom: z.number().int(), start_failed: z.number().int(), lost: z.number().int() }),
      backoffMs: z.number().int().min(0),
      maxBackoffMs: z.number().int().min(0),
    })
    .optional(),
});
const dataSchema = z.object({
  v: z.number().int().min(1),
  id: z.string().min(1),
  pool: z.string().min(1),
  weightMilli: z.number().int().min(1),
  lane: z.string().optional(),
  priority: z.number().int(),
  spec: specSchema,
  trace: z.record(z.string(), z.string()),
  submittedAt: z.number(),
});

/** Why queue data could not be used. `newer` means another agent version may run it. */
export type DecodeResult = { ok: true; data: QueueJobData } | { ok: false; newer: boolean; reason: string };

/** Validates job data popped from the queue. */
export function decodeQueueData(raw: unknown): DecodeResult {
  const v = (raw as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v > QUEUE_DATA_VERSION) {
    return { ok: false, newer: true, reason: `job data version ${v} is newer than this agent understands (${QUEUE_DATA_VERSION}); upgrade the agent` };
  }
  const parsed = dataSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, newer: false, reason: `malformed job data: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, data: parsed.data as QueueJobData };
}
