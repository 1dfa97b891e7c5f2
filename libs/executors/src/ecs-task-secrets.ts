import { createHash } from 'node:crypto';
import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, TaskDefinition } from '@aws-sdk/client-ecs';
import type { EcsSecret } from '@longshore/domain';
import type { EcsApi } from './ecs-api.js';
import { taskDefinitionCallFailed } from './ecs-task-definitions.js';
import { StartFailedError } from './start-errors.js';

/** The RegisterTaskDefinition fields a described task definition gives back as they were registered. */
const REGISTERED_FIELDS = [
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const;

/**
 * The family of the revision that gives `container` of `base` the secrets `secrets`: the base's
 * family, `-secrets-` and 12 hex of a hash of what the revision holds (the base revision, the
 * container, the secrets with their pinned versions), so the same set finds the same family again.
 */
export function secretsFamily(base: TaskDefinition, container: string, secrets: readonly EcsSecret[]): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ base: base.taskDefinitionArn, container, secrets: [...secrets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) }))
    .digest('hex')
    .slice(0, 12);
  // Families are at most 255 letters, digits, - and _.
  return `${(base.family ?? 'longshore').slice(0, 255 - 21)}-secrets-${hash}`;
}

/**
 * Gives an ECS job its secrets through the task definition, never through RunTask's overrides
 * (which DescribeTasks shows): a revision derived from the job's task definition whose container
 * has `secrets` entries (`valueFrom`: the Secrets Manager ARN pinned to a version), which ECS
 * resolves with the task's execution role when it starts the task. The revision's family is
 * derived from the base and a hash of the secret set ({@link secretsFamily}), so a set already
 * registered (by this agent or another, before a restart) is reused, not registered again; a
 * rotation is a new set, so a new family.
 */
export class EcsSecretTaskDefinitions {
  private readonly byFamily = new Map<string, Promise<TaskDefinition>>();

  constructor(private readonly api: EcsApi) {}

  /** `base` itself when there are no secrets (or it has no such container: the caller says so), else the derived revision. */
  async withSecrets(base: TaskDefinition, container: string, secrets: readonly EcsSecret[] | undefined): Promise<TaskDefinition> {
    if (!secrets?.length || !base.containerDefinitions?.some((c) => c.name === container)) return base;
    if (!base.executionRoleArn) {
      throw new StartFailedError(
        `task definition ${base.taskDefinitionArn} has no executionRoleArn: ECS fetches an ECS job's secrets from Secrets Manager with the task's execution role (it needs secretsmanager:GetSecretValue on them); give the task definition one`,
      );
    }
    const family = secretsFamily(base, container, secrets);
    let found = this.byFamily.get(family);
    if (!found) {
      found = this.findOrRegister(family, base, container, secrets);
      this.byFamily.set(family, found);
      found.catch(() => this.byFamily.delete(family));
    }
    return found;
  }

  private async findOrRegister(family: string, base: TaskDefinition, container: string, secrets: readonly EcsSecret[]): Promise<TaskDefinition> {
    try {
      const out = await this.api.describeTaskDefinition({ taskDefinition: family });
      if (out.taskDefinition?.status === 'ACTIVE' && sameSecrets(out.taskDefinition, container, secrets)) return out.taskDefinition;
    } catch (err) {
      // ClientException: no such family yet; anything else (throttling, access) fails this try of the start.
      if ((err as Error).name !== 'ClientException') throw taskDefinitionCallFailed(`could not look up ECS task definition family ${family} for the job's secrets`, err);
    }
    const names = new Set(secrets.map((s) => s.name));
    const containers = base.containerDefinitions!.map((c): ContainerDefinition => {
      if (c.name !== container) return c;
      // A variable of the job's is its secret alone: the definition's own entries of that name go.
      return {
        ...c,
        environment: (c.environment ?? []).filter((e) => !names.has(e.name ?? '')),
        secrets: [...(c.secrets ?? []).filter((s) => !names.has(s.name ?? '')), ...secrets.map((s) => ({ name: s.name, valueFrom: s.valueFrom }))],
      };
    });
    // No tags: tagging on registration would need ecs:TagResource as well.
    const input: RegisterTaskDefinitionCommandInput = { family, containerDefinitions: containers };
    for (const key of REGISTERED_FIELDS) if (base[key] !== undefined) (input as unknown as Record<string, unknown>)[key] = base[key];
    const out = await this.api.registerTaskDefinition(input).catch((err: unknown) => {
      throw taskDefinitionCallFailed(`could not register ECS task definition ${family} (${base.taskDefinitionArn} with the job's secrets; the agent needs ecs:RegisterTaskDefinition and iam:PassRole on its roles)`, err);
    });
    if (!out.taskDefinition?.taskDefinitionArn) throw new StartFailedError(`ECS registered no task definition ${family} for the job's secrets`);
    return out.taskDefinition;
  }
}

/** Whether container `container` of `def` has exactly the entries of `secrets` among its secrets. */
function sameSecrets(def: TaskDefinition, container: string, secrets: readonly EcsSecret[]): boolean {
  const has = def.containerDefinitions?.find((c) => c.name === container)?.secrets ?? [];
  return secrets.every((s) => has.some((h) => h.name === s.name && h.valueFrom === s.valueFrom));
}
