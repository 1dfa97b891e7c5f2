import { DOCKER_PULL_POLICIES, EXECUTORS, LIMITS, type JobSpec } from '@longshore/domain';
import { z } from 'zod';

const executor = z.enum(EXECUTORS);
const stringMap = z.record(z.string(), z.string());
const dockerSchema = z.object({
  pull: z.enum(DOCKER_PULL_POLICIES).optional(),
  buildSteps: z.array(z.string()).optional(),
  buildArgs: stringMap.optional(),
  user: z.string().optional(),
  network: z.string().optional(),
  labels: stringMap.optional(),
  readOnlyRoot: z.boolean().optional(),
  capAdd: z.array(z.string()).optional(),
  mounts: z.array(z.object({ source: z.string(), target: z.string(), readOnly: z.boolean() })).optional(),
  devices: z.array(z.string()).optional(),
  privileged: z.boolean().optional(),
  hostPid: z.boolean().optional(),
  hostIpc: z.boolean().optional(),
});
const ecsSchema = z.object({
  taskDefinition: z.string().optional(),
  container: z.string().optional(),
  runTaskOverrides: z.string().optional(),
});
// Every field of JobSpec: an object schema drops the keys it does not name.
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
  cpusMilli: z.number().int().min(1).optional(),
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
  docker: dockerSchema.optional(),
  ecs: ecsSchema.optional(),
});
/** A stored spec the agent can run, or why it cannot. */
export type SpecDecodeResult = { ok: true; spec: JobSpec } | { ok: false; reason: string };

/**
 * Validates the spec a claim returned. The key schema's version guards the record's shape
 * (services refuse data of another version); this guards against a record that is corrupt.
 */
export function decodeSpec(json: string): SpecDecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'its stored spec is not JSON' };
  }
  const parsed = specSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `its stored spec is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, spec: parsed.data as JobSpec };
}
