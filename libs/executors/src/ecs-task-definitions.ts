import { createHash } from 'node:crypto';
import type { RegisterTaskDefinitionCommandInput, TaskDefinition } from '@aws-sdk/client-ecs';
import { awsMessage, isServerFault, isThrottling, type EcsApi } from './ecs-api.js';
import { StartFailedError } from './start-errors.js';

/** How the executor finds a task definition for a job's image (Digdag's `docker.image` mode). */
export interface EcsImageLookup {
  /**
   * Task definition families searched for the image start with this (`LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX`);
   * registered ones are named `<prefix>-<12 hex of the image's sha256>`.
   */
  familyPrefix: string;
  /**
   * RegisterTaskDefinition arguments for an image no task definition has yet
   * (`LONGSHORE_ECS_REGISTER_TASK_DEFINITION`); absent = never register (the start fails).
   */
  register?: Omit<RegisterTaskDefinitionCommandInput, 'family'>;
}

/** Where a task's container sends its output: the awslogs log group and stream. */
export interface LogStreamOf {
  group: string;
  stream: string;
}

/** Task definition revisions listed per image lookup, at most (newest first). */
const MAX_LISTED = 1000;

/**
 * How long the answer for a bare family (its latest ACTIVE revision) is reused: jobs starting
 * together share one DescribeTaskDefinition, and a revision registered since is used within this.
 */
export const FAMILY_CACHE_MS = 10_000;

/**
 * A task definition could not be read for a reason that may pass (ECS throttled the call, or
 * failed on its side): the start tries again, as it does a RunTask refused for the same reasons.
 */
export class TaskDefinitionUnavailableError extends Error {
  override name = 'TaskDefinitionUnavailableError';
}

/**
 * The error for a failed ECS call about a job's task definition: {@link TaskDefinitionUnavailableError}
 * when another try may pass (throttled, a fault on ECS's side), else StartFailedError.
 */
export function taskDefinitionCallFailed(message: string, err: unknown): Error {
  const full = `${message}: ${awsMessage(err)}`;
  return isThrottling(err) || isServerFault(err) ? new TaskDefinitionUnavailableError(full) : new StartFailedError(full);
}

/**
 * Finds task definitions: by reference (family = its latest ACTIVE revision, `family:revision`,
 * ARN), or for an image, once per image (the answer is cached; a lookup lists task definitions at
 * most once per image and executor, not on every run as Digdag did), registering one when allowed.
 */
export class EcsTaskDefinitions {
  private readonly byImage = new Map<string, Promise<string>>();
  private readonly byArn = new Map<string, Promise<TaskDefinition>>();
  /** Bare families' latest revisions, each kept {@link FAMILY_CACHE_MS} from when it was asked. */
  private readonly byFamily = new Map<string, { at: number; found: Promise<TaskDefinition> }>();

  constructor(
    private readonly api: EcsApi,
    private readonly lookup?: EcsImageLookup,
    /** The job container's `stopTimeout` in what it registers (the agent's kill grace); absent = the template's. */
    private readonly stopTimeoutSeconds?: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The task definition a job runs: its own reference, else one for its image when lookup is on,
   * else the agent's `fallback`. @throws StartFailedError when there is none, or ECS does not know it.
   */
  async forJob(job: { taskDefinition?: string; image?: string }, container: string, fallback: string | undefined): Promise<TaskDefinition> {
    if (job.taskDefinition) return this.describe(job.taskDefinition);
    if (job.image && this.lookup) return this.describe(await this.forImage(job.image, container, this.lookup));
    if (!fallback) {
      throw new StartFailedError('no ECS task definition for the job: give it one (--ecs-task-definition), or set the agent\'s LONGSHORE_ECS_TASK_DEFINITION or LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX');
    }
    const def = await this.describe(fallback);
    const image = def.containerDefinitions?.find((c) => c.name === container)?.image;
    // The image of an ECS task is its task definition's: a job asking for another is refused, not run in the wrong one.
    if (job.image && image !== job.image) {
      throw new StartFailedError(
        `the job's image "${job.image}" is not the image of container "${container}" of task definition ${def.taskDefinitionArn} ("${image ?? 'none'}"): give the job a task definition (--ecs-task-definition) or turn on image lookup (LONGSHORE_ECS_IMAGE_LOOKUP_PREFIX)`,
      );
    }
    return def;
  }

  /**
   * DescribeTaskDefinition: cached for references naming one revision; for a bare family (its
   * latest ACTIVE revision may change) for {@link FAMILY_CACHE_MS}. A failed call is not cached.
   * @throws TaskDefinitionUnavailableError when ECS throttled the call or failed on its side,
   * StartFailedError when it refused (unknown task definition, no permission).
   */
  async describe(ref: string): Promise<TaskDefinition> {
    const fixed = /:\d+$/.test(ref);
    if (fixed) {
      const cached = this.byArn.get(ref);
      if (cached) return cached;
    } else {
      const cached = this.byFamily.get(ref);
      if (cached && this.now() - cached.at < FAMILY_CACHE_MS) return cached.found;
    }
    const found = this.api.describeTaskDefinition({ taskDefinition: ref }).then(
      (out) => {
        if (!out.taskDefinition?.taskDefinitionArn) throw new StartFailedError(`ECS returned no task definition for "${ref}"`);
        return out.taskDefinition;
      },
      (err: unknown) => {
        throw taskDefinitionCallFailed(`ECS task definition "${ref}" could not be read`, err);
      },
    );
    if (fixed) {
      this.byArn.set(ref, found);
      found.catch(() => this.byArn.delete(ref));
    } else {
      const entry = { at: this.now(), found };
      this.byFamily.set(ref, entry);
      found.catch(() => {
        if (this.byFamily.get(ref) === entry) this.byFamily.delete(ref);
      });
    }
    return found;
  }

  private forImage(image: string, container: string, lookup: EcsImageLookup): Promise<string> {
    const key = `${container}\n${image}`;
    let found = this.byImage.get(key);
    if (!found) {
      found = this.findOrRegister(image, container, lookup);
      this.byImage.set(key, found);
      found.catch(() => this.byImage.delete(key));
    }
    return found;
  }

  private async findOrRegister(image: string, container: string, lookup: EcsImageLookup): Promise<string> {
    const hasImage = (def: TaskDefinition) => def.containerDefinitions?.some((c) => c.name === container && c.image === image) ?? false;
    let listed = 0;
    let nextToken: string | undefined;
    do {
      const page = await this.api.listTaskDefinitions({ status: 'ACTIVE', sort: 'DESC', ...(nextToken ? { nextToken } : {}) }).catch((err: unknown) => {
        throw taskDefinitionCallFailed(`could not list ECS task definitions to find one for image "${image}"`, err);
      });
      for (const arn of page.taskDefinitionArns ?? []) {
        listed++;
        const family = arn.slice(arn.lastIndexOf('/') + 1).replace(/:\d+$/, '');
        if (!family.startsWith(lookup.familyPrefix)) continue;
        const def = await this.describe(arn);
        if (hasImage(def)) return def.taskDefinitionArn!;
      }
      nextToken = page.nextToken;
    } while (nextToken && listed < MAX_LISTED);
    if (!lookup.register) {
      throw new StartFailedError(
        `no ACTIVE ECS task definition of a family starting "${lookup.familyPrefix}" runs image "${image}" in container "${container}": register one, or let the agent do it (LONGSHORE_ECS_REGISTER_TASK_DEFINITION)`,
      );
    }
    return this.register(image, container, lookup);
  }

  private async register(image: string, container: string, lookup: EcsImageLookup): Promise<string> {
    const family = `${lookup.familyPrefix}-${createHash('sha256').update(image).digest('hex').slice(0, 12)}`;
    const template = lookup.register!;
    const containers = template.containerDefinitions?.length ? template.containerDefinitions : [{ name: container, essential: true }];
    if (!containers.some((c) => c.name === container)) {
      throw new StartFailedError(`LONGSHORE_ECS_REGISTER_TASK_DEFINITION has no container named "${container}" to run image "${image}" in`);
    }
    const input: RegisterTaskDefinitionCommandInput = {
      ...template,
      family,
      containerDefinitions: containers.map((c) => (c.name === container ? { ...c, image, ...(this.stopTimeoutSeconds !== undefined ? { stopTimeout: this.stopTimeoutSeconds } : {}) } : c)),
    };
    const out = await this.api.registerTaskDefinition(input).catch((err: unknown) => {
      throw taskDefinitionCallFailed(`could not register an ECS task definition (family ${family}) for image "${image}"`, err);
    });
    const arn = out.taskDefinition?.taskDefinitionArn;
    if (!arn) throw new StartFailedError(`ECS registered no task definition (family ${family}) for image "${image}"`);
    this.byArn.set(arn, Promise.resolve(out.taskDefinition!));
    return arn;
  }
}

/**
 * Where container `container` of a task sends its output, from its task definition's awslogs
 * log configuration (stream `<prefix>/<container>/<task id>`); undefined when it has none.
 */
export function logStreamOf(def: TaskDefinition, container: string, taskArn: string): LogStreamOf | undefined {
  const log = def.containerDefinitions?.find((c) => c.name === container)?.logConfiguration;
  const group = log?.options?.['awslogs-group'];
  const prefix = log?.options?.['awslogs-stream-prefix'];
  if (log?.logDriver !== 'awslogs' || !group || !prefix) return undefined;
  return { group, stream: `${prefix}/${container}/${taskArn.slice(taskArn.lastIndexOf('/') + 1)}` };
}
