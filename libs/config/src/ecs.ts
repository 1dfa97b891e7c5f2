import type { AgentExecutorName } from '@longshore/domain';
import { z } from 'zod';
import { ConfigError, env, parseEnv } from './parse-env.js';

/** One entry of `LONGSHORE_ECS_CAPACITY_PROVIDERS`. */
export interface EcsCapacityProviderSetting {
  capacityProvider: string;
  weight?: number;
  base?: number;
}

/** The ecs executor's settings (`AWS_REGION`, `LONGSHORE_ECS_*`), read only when `ecs` is in `LONGSHORE_EXECUTORS`. */
export interface EcsConfig {
  region: string;
  cluster: string;
  /** The task definition of jobs that name none: family (its latest ACTIVE revision), `family:revision` or ARN. */
  taskDefinition?: string;
  container: string;
  launchType?: 'FARGATE' | 'EC2';
  capacityProviders: EcsCapacityProviderSetting[];
  platformVersion?: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  /** Base RunTask arguments (a JSON object) every task gets. */
  runTaskKwargs: Record<string, unknown>;
  /** Top-level RunTask keys a job's own arguments may set. */
  overridableKeys: string[];
  maxRunTaskAttempts: number;
  /** Families searched for a job's image start with this; absent = no image lookup. */
  imageLookupPrefix?: string;
  /** RegisterTaskDefinition arguments for an image without a task definition; absent = never register. */
  registerTaskDefinition?: Record<string, unknown>;
  /** Whether the agent stops at start when DescribeClusters does not find the cluster ACTIVE. */
  checkCluster: boolean;
  pollIntervalMs: number;
}

export const ECS_DEFAULTS = {
  LONGSHORE_ECS_ASSIGN_PUBLIC_IP: 'false',
  LONGSHORE_ECS_RUN_TASK_KWARGS: '{}',
  LONGSHORE_ECS_OVERRIDABLE_KEYS: '',
  LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: '3',
  LONGSHORE_ECS_CHECK_CLUSTER: 'true',
  LONGSHORE_ECS_POLL_INTERVAL: '2s',
} as const;

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** A comma list of at most `max` ids, each matching `pattern` (`what`: e.g. subnet-0abc). */
function idList(max: number, pattern: RegExp, example: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => {
      const ids = (text ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.length > max) ctx.addIssue({ code: 'custom', message: `lists ${ids.length}; ECS allows at most ${max}` });
      const bad = ids.find((id) => !pattern.test(id));
      if (bad) ctx.addIssue({ code: 'custom', message: `"${bad}" is not an id like ${example}` });
      return ids;
    });
}

function jsonObject(example: string) {
  return z
    .string()
    .optional()
    .transform((text, ctx): Record<string, unknown> | undefined => {
      if (!text) return undefined;
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `is not valid JSON (${(err as Error).message}): give an object, e.g. ${example}` });
        return z.NEVER;
      }
      ctx.addIssue({ code: 'custom', message: `must be a JSON object, e.g. ${example}` });
      return z.NEVER;
    });
}

const capacityProviders = z
  .string()
  .optional()
  .transform((text, ctx): EcsCapacityProviderSetting[] => {
    const out: EcsCapacityProviderSetting[] = [];
    for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9_-]{1,255})(?::(\d{1,4}))?(?::(\d{1,6}))?$/.exec(entry);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not NAME[:WEIGHT[:BASE]] (e.g. FARGATE_SPOT:3,FARGATE:1:2)` });
        return z.NEVER;
      }
      out.push({ capacityProvider: m[1]!, ...(m[2] ? { weight: Number(m[2]) } : {}), ...(m[3] ? { base: Number(m[3]) } : {}) });
    }
    return out;
  });

/**
 * Reads the ecs executor's settings when `executors` lists `ecs` (else undefined, and none of them
 * is read). @throws ConfigError naming each bad variable, or the two that contradict each other.
 */
export function loadEcsConfig(source: NodeJS.ProcessEnv, executors: readonly AgentExecutorName[]): EcsConfig | undefined {
  if (!executors.includes('ecs')) return undefined;
  const e = parseEnv(
    {
      AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region, e.g. eu-west-1 (the ecs executor is listed in LONGSHORE_EXECUTORS)'),
      LONGSHORE_ECS_CLUSTER: z.string().regex(/^[A-Za-z0-9:/_-]{1,255}$|^arn:aws[a-z-]*:ecs:.+$/, 'must name the ECS cluster (its name or ARN; the ecs executor is listed in LONGSHORE_EXECUTORS)'),
      LONGSHORE_ECS_TASK_DEFINITION: z.string().regex(/^\S{1,512}$/, 'must be a family, family:revision or ARN').optional(),
      LONGSHORE_ECS_CONTAINER: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, "must be the name of the task definition's container that runs jobs (letters, digits, - and _)"),
      LONGSHORE_ECS_LAUNCH_TYPE: z.enum(['FARGATE', 'EC2']).optional(),
      LONGSHORE_ECS_CAPACITY_PROVIDERS: capacityProviders,
      LONGSHORE_ECS_PLATFORM_VERSION: z.string().regex(/^(LATEST|\d+\.\d+\.\d+)$/, 'must be LATEST or a version like 1.4.0').optional(),
      LONGSHORE_ECS_SUBNETS: idList(16, /^subnet-[0-9a-zA-Z]+$/, 'subnet-0abc12'),
      LONGSHORE_ECS_SECURITY_GROUPS: idList(5, /^sg-[0-9a-zA-Z]+$/, 'sg-0abc12'),
      LONGSHORE_ECS_ASSIGN_PUBLIC_IP: flag,
      LONGSHORE_ECS_RUN_TASK_KWARGS: jsonObject('{"propagateTags":"TASK_DEFINITION"}'),
      LONGSHORE_ECS_OVERRIDABLE_KEYS: idList(64, /^[a-zA-Z]+$/, 'overrides (a RunTask argument)'),
      LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS: env.int(1, 20),
      LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the start of task definition family names (letters, digits, - and _)').optional(),
      LONGSHORE_ECS_REGISTER_TASK_DEFINITION: jsonObject('{"cpu":"256","memory":"512","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc"}'),
      LONGSHORE_ECS_CHECK_CLUSTER: flag,
      LONGSHORE_ECS_POLL_INTERVAL: env.duration().pipe(z.number().min(200, 'must be at least 200ms (ECS rate-limits DescribeTasks)')),
    },
    ECS_DEFAULTS,
    source,
  );
  const problems: string[] = [];
  if (e.LONGSHORE_ECS_LAUNCH_TYPE && e.LONGSHORE_ECS_CAPACITY_PROVIDERS.length) {
    problems.push(`LONGSHORE_ECS_LAUNCH_TYPE="${e.LONGSHORE_ECS_LAUNCH_TYPE}" and LONGSHORE_ECS_CAPACITY_PROVIDERS are both set: RunTask takes one or the other`);
  }
  if (e.LONGSHORE_ECS_REGISTER_TASK_DEFINITION && !e.LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX) {
    problems.push('LONGSHORE_ECS_REGISTER_TASK_DEFINITION is set without LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX: registered task definitions are named after that prefix');
  }
  const kwargs = e.LONGSHORE_ECS_RUN_TASK_KWARGS ?? {};
  if (e.LONGSHORE_ECS_LAUNCH_TYPE === 'FARGATE' && e.LONGSHORE_ECS_SUBNETS.length === 0 && !kwargs['networkConfiguration']) {
    problems.push('LONGSHORE_ECS_SUBNETS is empty: Fargate tasks (LONGSHORE_ECS_LAUNCH_TYPE=FARGATE) need subnets (or a networkConfiguration in LONGSHORE_ECS_RUN_TASK_KWARGS)');
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return {
    region: e.AWS_REGION,
    cluster: e.LONGSHORE_ECS_CLUSTER,
    ...(e.LONGSHORE_ECS_TASK_DEFINITION ? { taskDefinition: e.LONGSHORE_ECS_TASK_DEFINITION } : {}),
    container: e.LONGSHORE_ECS_CONTAINER,
    ...(e.LONGSHORE_ECS_LAUNCH_TYPE ? { launchType: e.LONGSHORE_ECS_LAUNCH_TYPE } : {}),
    capacityProviders: e.LONGSHORE_ECS_CAPACITY_PROVIDERS,
    ...(e.LONGSHORE_ECS_PLATFORM_VERSION ? { platformVersion: e.LONGSHORE_ECS_PLATFORM_VERSION } : {}),
    subnets: e.LONGSHORE_ECS_SUBNETS,
    securityGroups: e.LONGSHORE_ECS_SECURITY_GROUPS,
    assignPublicIp: e.LONGSHORE_ECS_ASSIGN_PUBLIC_IP,
    runTaskKwargs: kwargs,
    overridableKeys: e.LONGSHORE_ECS_OVERRIDABLE_KEYS,
    maxRunTaskAttempts: e.LONGSHORE_ECS_MAX_RUN_TASK_ATTEMPTS,
    ...(e.LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX ? { imageLookupPrefix: e.LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX } : {}),
    ...(e.LONGSHORE_ECS_REGISTER_TASK_DEFINITION ? { registerTaskDefinition: e.LONGSHORE_ECS_REGISTER_TASK_DEFINITION } : {}),
    checkCluster: e.LONGSHORE_ECS_CHECK_CLUSTER,
    pollIntervalMs: e.LONGSHORE_ECS_POLL_INTERVAL,
  };
}
