import { InvalidArgumentError } from './errors/index.js';
import { LIMITS } from './limits.js';
import { formatSecretRef, parseSecretTemplate, type SecretRef } from './secret-ref.js';
import { validatePlainText } from './text.js';
import type { JobSpec } from './model.js';

/** ECS's limit on a RunTask's `overrides`, JSON formatting included: 8 KiB. */
export const ECS_OVERRIDES_MAX_BYTES = 8192;

/** The size ECS counts for RunTask `overrides`: their JSON, in bytes. */
export function ecsOverridesBytes(overrides: unknown): number {
  return Buffer.byteLength(JSON.stringify(overrides), 'utf8');
}

/**
 * Checks a job's ECS options at submit: a task definition reference without spaces, overrides
 * that are a JSON object, and, for a job that may run on ECS, a command and environment that fit
 * ECS's 8 KiB overrides (the agent adds a few variables and the container's size, so this is the
 * least they take): such a job is refused here rather than failing on every agent, or being cut.
 */
export function validateEcs(spec: JobSpec): void {
  const ecs = spec.ecs;
  if (ecs?.taskDefinition !== undefined) {
    if (ecs.taskDefinition === '' || /\s/.test(ecs.taskDefinition)) throw new InvalidArgumentError('ecs.task_definition', 'must be a family, family:revision or task definition ARN, without spaces');
    validatePlainText('ecs.task_definition', ecs.taskDefinition, LIMITS.imageLength);
  }
  if (ecs?.container !== undefined && !/^[A-Za-z0-9_-]{1,255}$/.test(ecs.container)) {
    throw new InvalidArgumentError('ecs.container', 'must be a container name of the task definition: 1-255 letters, digits, - or _');
  }
  if (ecs?.runTaskOverrides !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ecs.runTaskOverrides);
    } catch (err) {
      throw new InvalidArgumentError('ecs.run_task_overrides', `is not valid JSON (${(err as Error).message}): give a JSON object of RunTask arguments, e.g. {"overrides":{"ephemeralStorage":{"sizeInGiB":40}}}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidArgumentError('ecs.run_task_overrides', 'must be a JSON object of RunTask arguments, e.g. {"overrides":{"ephemeralStorage":{"sizeInGiB":40}}}');
    }
  }
  const mayRunOnEcs = spec.executor === 'ecs' || (spec.executor === 'auto' && spec.allowedExecutors.includes('ecs'));
  if (!mayRunOnEcs) return;
  for (const [name, value] of Object.entries(spec.env)) {
    const problem = ecsSecretEnvProblem(`env.${name}`, value);
    if (problem) throw new InvalidArgumentError(`env.${name}`, problem);
  }
  const least = ecsOverridesBytes({
    containerOverrides: [{ name: ecs?.container ?? '', command: spec.command, environment: Object.entries(spec.env).map(([name, value]) => ({ name, value })) }],
  });
  if (least > ECS_OVERRIDES_MAX_BYTES) {
    throw new InvalidArgumentError('env', `with the command, takes ${least} bytes of ECS's ${ECS_OVERRIDES_MAX_BYTES}-byte task overrides: an ECS job's environment and command must fit (put large values in a file or a secret instead)`);
  }
}

/** One entry of an ECS container definition's `secrets`: variable `name` gets the secret `valueFrom` names. */
export interface EcsSecret {
  name: string;
  valueFrom: string;
}

/**
 * Why an env value cannot be given to an ECS job as a secret, or undefined when it can (no
 * reference, or exactly one reference and nothing else). ECS injects a secret into a variable
 * whole, from the task definition's `secrets`; a reference inside a longer value (`x${A}y`) would
 * need the value itself in RunTask's overrides, which DescribeTasks shows.
 */
export function ecsSecretEnvProblem(field: string, value: string): string | undefined {
  const parts = parseSecretTemplate(field, value);
  const refs = parts.flatMap((p) => ('ref' in p ? [p.ref] : []));
  if (refs.length === 0 || parts.length === 1) return undefined;
  return `references secret \${${formatSecretRef(refs[0]!)}} inside a longer value: an ECS job gets a secret through its task definition's secrets, which set a variable to the whole secret (or one JSON field) only; give the secret a variable of its own (--env NAME='\${${formatSecretRef(refs[0]!)}}') and build the longer value from it in the job's command`;
}

/**
 * The `valueFrom` of an ECS container secret for Secrets Manager secret `arn` pinned to version
 * `versionId`, and for a JSON field when the reference picks one: `<arn>:<json-key>::<version-id>`
 * (ECS's form `arn:…:secret:name-AbCdEf:json-key:version-stage:version-id`, the stage left empty).
 */
export function secretsManagerValueFrom(arn: string, ref: SecretRef, versionId: string): string {
  return `${arn}:${ref.key ?? ''}::${versionId}`;
}
