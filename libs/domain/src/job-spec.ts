import { InvalidArgumentError } from './errors/index.js';
import { validateEcs } from './ecs.js';
import { absolutePathProblem, DOCKER_NETWORK_NAME, normaliseCapability, normalisePath } from './docker-allow.js';
import { validateDnsLabel } from './ids.js';
import { LIMITS } from './limits.js';
import { parseSecretTemplate, refuseSecretRefs } from './secret-ref.js';
import { validatePlainText } from './text.js';
import type { AgentExecutorName, DockerJobOptions, ExecutorName, JobSpec } from './model.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[a-z0-9]([-a-z0-9_./]*[a-z0-9])?$/;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function validateCommand(command: string[]): void {
  if (command.length === 0) {
    throw new InvalidArgumentError('command', 'is empty: give the program and its arguments (e.g. -- sh -c "echo hi")');
  }
  if (command.length > LIMITS.commandArgs) {
    throw new InvalidArgumentError('command', `has ${command.length} arguments; at most ${LIMITS.commandArgs} are allowed`);
  }
  if (command[0] === '') throw new InvalidArgumentError('command[0]', 'the program name is empty');
  let total = 0;
  command.forEach((arg, i) => {
    const n = byteLength(arg);
    total += n;
    if (n > LIMITS.argBytes) throw new InvalidArgumentError(`command[${i}]`, `is ${n} bytes; at most ${LIMITS.argBytes} are allowed per argument`);
    if (arg.includes('\0')) throw new InvalidArgumentError(`command[${i}]`, 'contains a NUL byte');
  });
  if (total > LIMITS.commandBytes) throw new InvalidArgumentError('command', `is ${total} bytes in all; at most ${LIMITS.commandBytes} are allowed`);
}

function validateEnv(env: Record<string, string>): void {
  const entries = Object.entries(env);
  if (entries.length > LIMITS.envVars) throw new InvalidArgumentError('env', `has ${entries.length} variables; at most ${LIMITS.envVars} are allowed`);
  let total = 0;
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name) || name.length > LIMITS.envNameLength) {
      throw new InvalidArgumentError(`env.${name.slice(0, 80)}`, 'is not a valid variable name: use letters, digits and _, not starting with a digit');
    }
    const n = byteLength(value);
    if (n > LIMITS.envValueBytes) throw new InvalidArgumentError(`env.${name}`, `value is ${n} bytes; at most ${LIMITS.envValueBytes} are allowed`);
    if (value.includes('\0')) throw new InvalidArgumentError(`env.${name}`, 'value contains a NUL byte');
    // Env values are where secret references live (`${NAME}`): a bad one is refused here, at submit.
    parseSecretTemplate(`env.${name}`, value);
    total += n + name.length;
  }
  if (total > LIMITS.envBytes) throw new InvalidArgumentError('env', `is ${total} bytes in all; at most ${LIMITS.envBytes} are allowed`);
}

function validateLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > LIMITS.labels) throw new InvalidArgumentError('labels', `has ${entries.length} labels; at most ${LIMITS.labels} are allowed`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key) || key.length > LIMITS.labelKeyLength) {
      throw new InvalidArgumentError(`labels.${key.slice(0, 80)}`, `is not a valid label key: 1-${LIMITS.labelKeyLength} lowercase letters, digits, '-', '_', '.', '/'`);
    }
    if (value.length > LIMITS.labelValueLength) throw new InvalidArgumentError(`labels.${key}`, `value is longer than ${LIMITS.labelValueLength} characters`);
    validatePlainText(`labels.${key}`, value, LIMITS.labelValueLength);
  }
}

// The hints of validateNumbers, built once: a batch validates up to 1,000 specs.
const HINT = {
  weight: `give a weight between 0.001 and ${LIMITS.maxMilli / 1000} (0 = the pool's default)`,
  maxAttempts: `use 1 to ${LIMITS.maxAttempts} (0 = the default)`,
  priority: `use -${LIMITS.priority} to ${LIMITS.priority}`,
  retries: `use 0 to ${LIMITS.maxAttempts} retries`,
};

function check(field: string, v: number, min: number, max: number, hint: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(field, `${v} is out of range: ${hint}`);
}

function validateNumbers(spec: JobSpec): void {
  check('weight', spec.weightMilli, 0, LIMITS.maxMilli, HINT.weight);
  check('timeout', spec.timeoutMs, 0, LIMITS.maxTimeoutMs, 'use 0 (the agent default) up to 7 days');
  check('max_attempts', spec.maxAttempts, 0, LIMITS.maxAttempts, HINT.maxAttempts);
  check('priority', spec.priority, -LIMITS.priority, LIMITS.priority, HINT.priority);
  if (spec.memoryBytes !== undefined) check('memory', spec.memoryBytes, 0, Number.MAX_SAFE_INTEGER, 'give a size in bytes');
  if (spec.cpusMilli !== undefined) check('cpus_milli', spec.cpusMilli, 1, LIMITS.maxMilli, 'give CPUs in thousandths (1500 = 1.5 CPUs)');
  if (spec.retry) {
    for (const [cls, n] of Object.entries(spec.retry.budgets)) check(`retry.${cls}`, n, 0, LIMITS.maxAttempts, HINT.retries);
    check('retry.backoff_ms', spec.retry.backoffMs, 0, 3_600_000, 'use 0 to 1 hour');
    check('retry.max_backoff_ms', spec.retry.maxBackoffMs, 0, 24 * 3_600_000, 'use 0 to 24 hours');
  }
}

function validateStrings(spec: JobSpec): void {
  if (spec.workingDir !== undefined) {
    if (!spec.workingDir.startsWith('/') || spec.workingDir.length > LIMITS.workingDirLength) {
      throw new InvalidArgumentError('working_dir', `must be an absolute path of at most ${LIMITS.workingDirLength} characters`);
    }
    validatePlainText('working_dir', spec.workingDir, LIMITS.workingDirLength);
  }
  if (spec.image !== undefined) {
    if (spec.image.length > LIMITS.imageLength || /\s/.test(spec.image)) {
      throw new InvalidArgumentError('image', `must be an image reference without spaces, at most ${LIMITS.imageLength} characters`);
    }
    validatePlainText('image', spec.image, LIMITS.imageLength);
  }
  if (spec.idempotencyKey !== undefined) validatePlainText('idempotency_key', spec.idempotencyKey, LIMITS.idempotencyKeyLength);
  if (spec.lane !== undefined) validateDnsLabel('lane', spec.lane);
  if (spec.pool !== '') validateDnsLabel('pool', spec.pool);
}

function validateExecutors(spec: JobSpec): void {
  if (spec.executor === 'auto' && spec.allowedExecutors.length === 0) {
    throw new InvalidArgumentError('allowed_executors', 'executor "auto" needs the allowed chain, e.g. ecs,docker,subprocess');
  }
  if (new Set(spec.allowedExecutors).size !== spec.allowedExecutors.length) {
    throw new InvalidArgumentError('allowed_executors', 'names an executor twice: list each at most once, in the order to try them');
  }
  const bad = spec.allowedExecutors.find((e: ExecutorName) => e === 'auto');
  if (bad) throw new InvalidArgumentError('allowed_executors', '"auto" cannot be part of its own chain');
  // An ECS task's image is its task definition's: a job naming one needs no image.
  if ((spec.executor === 'docker' || (spec.executor === 'ecs' && !spec.ecs?.taskDefinition)) && !spec.image) {
    throw new InvalidArgumentError('image', spec.executor === 'ecs' ? 'executor "ecs" needs an image (or a task definition: --ecs-task-definition)' : `executor "${spec.executor}" needs an image`);
  }
}

const DOCKER_LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/;
const DOCKER_USER_PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Checks a host or container path of a mount or device; returns it normalised. */
function dockerPath(field: string, path: string, what: string): string {
  const problem = absolutePathProblem(path);
  if (problem) throw new InvalidArgumentError(field, `${problem}: give the ${what} as an absolute path, e.g. ${what === 'device' ? '/dev/fuse' : '/data/in'}`);
  validatePlainText(field, path, LIMITS.workingDirLength);
  return normalisePath(path);
}

function validateDockerLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > LIMITS.dockerLabels) throw new InvalidArgumentError('docker.labels', `has ${entries.length} labels; at most ${LIMITS.dockerLabels} are allowed`);
  for (const [key, value] of entries) {
    const field = `docker.labels.${key.slice(0, 80)}`;
    if (!DOCKER_LABEL_KEY.test(key) || key.length > LIMITS.dockerLabelKeyLength) {
      throw new InvalidArgumentError(field, `is not a valid container label key: 1-${LIMITS.dockerLabelKeyLength} letters, digits, '-', '_', '.', '/', e.g. com.example.team`);
    }
    if (key.toLowerCase().startsWith('longshore.')) {
      throw new InvalidArgumentError(field, "uses the reserved prefix 'longshore.' (Longshore labels its containers with it): pick another key, e.g. com.example.team");
    }
    validatePlainText(field, value, LIMITS.labelValueLength);
  }
}

/**
 * Checks a job's docker options and returns them normalised (capabilities without `CAP_`, paths
 * without `.` or trailing slashes). Whether an agent allows them is checked at submit (against
 * the pool's live agents) and again by the agent that runs the job.
 */
function validateDocker(spec: JobSpec): DockerJobOptions | undefined {
  const d = spec.docker;
  if (!d) return undefined;
  if (!spec.image) throw new InvalidArgumentError('docker', 'docker run options need an image: give the image the job runs in (--image IMAGE)');
  const out: DockerJobOptions = { ...d };
  if (d.user !== undefined) {
    const parts = d.user.split(':');
    if (d.user.length > LIMITS.dockerNameLength || parts.length > 2 || !parts.every((p) => DOCKER_USER_PART.test(p))) {
      throw new InvalidArgumentError('docker.user', `"${d.user.slice(0, 80)}" is not a user: give a name, a uid or uid:gid (e.g. 1000:1000), at most ${LIMITS.dockerNameLength} characters`);
    }
  }
  if (d.network !== undefined && (!DOCKER_NETWORK_NAME.test(d.network) || d.network.length > LIMITS.dockerNameLength)) {
    throw new InvalidArgumentError('docker.network', `"${d.network.slice(0, 80)}" is not a network name: use none (the default), bridge, host or a network's name (letters, digits, _ . -)`);
  }
  if (d.labels) validateDockerLabels(d.labels);
  if (d.buildSteps) {
    if (d.buildSteps.length > LIMITS.dockerBuildSteps) throw new InvalidArgumentError('docker.build_steps', `has ${d.buildSteps.length} steps; at most ${LIMITS.dockerBuildSteps} are allowed`);
    d.buildSteps.forEach((step, i) => {
      if (step.trim() === '') throw new InvalidArgumentError(`docker.build_steps[${i}]`, 'is empty: give a command for sh -c, e.g. apk add curl');
      if (byteLength(step) > LIMITS.argBytes) throw new InvalidArgumentError(`docker.build_steps[${i}]`, `is ${byteLength(step)} bytes; at most ${LIMITS.argBytes} are allowed per step`);
      if (step.includes('\0')) throw new InvalidArgumentError(`docker.build_steps[${i}]`, 'contains a NUL byte');
    });
  }
  if (d.buildArgs) {
    const entries = Object.entries(d.buildArgs);
    if (entries.length > LIMITS.envVars) throw new InvalidArgumentError('docker.build_args', `has ${entries.length} args; at most ${LIMITS.envVars} are allowed`);
    for (const [name, value] of entries) {
      if (!ENV_NAME.test(name) || name.length > LIMITS.envNameLength) {
        throw new InvalidArgumentError(`docker.build_args.${name.slice(0, 80)}`, 'is not a valid build arg name: use letters, digits and _, not starting with a digit');
      }
      if (byteLength(value) > LIMITS.envValueBytes) throw new InvalidArgumentError(`docker.build_args.${name}`, `value is ${byteLength(value)} bytes; at most ${LIMITS.envValueBytes} are allowed`);
      if (value.includes('\0')) throw new InvalidArgumentError(`docker.build_args.${name}`, 'value contains a NUL byte');
      refuseSecretRefs(
        `docker.build_args.${name}`,
        value,
        "a build arg's value would be baked into a cached image layer: pass the secret at run time through the job's env (--env NAME='${SECRET}'), or write $${ for a literal ${",
      );
    }
  }
  if (d.capAdd) {
    if (d.capAdd.length > LIMITS.dockerCapabilities) throw new InvalidArgumentError('docker.cap_add', `has ${d.capAdd.length} capabilities; at most ${LIMITS.dockerCapabilities} are allowed`);
    out.capAdd = d.capAdd.map((name, i) => {
      const cap = normaliseCapability(name);
      if (!cap) throw new InvalidArgumentError(`docker.cap_add[${i}]`, `"${name.slice(0, 80)}" is not a capability name: use upper-case letters and _, with or without CAP_ (e.g. SYS_PTRACE)`);
      return cap;
    });
  }
  if (d.mounts) {
    if (d.mounts.length > LIMITS.dockerMounts) throw new InvalidArgumentError('docker.mounts', `has ${d.mounts.length} mounts; at most ${LIMITS.dockerMounts} are allowed`);
    out.mounts = d.mounts.map((m, i) => {
      const source = dockerPath(`docker.mounts[${i}].source`, m.source, 'host path');
      const target = dockerPath(`docker.mounts[${i}].target`, m.target, 'container path');
      if (target === '/') throw new InvalidArgumentError(`docker.mounts[${i}].target`, 'is the container\'s root: mount the host path on a directory in it, e.g. /data');
      return { source, target, readOnly: m.readOnly };
    });
  }
  if (d.devices) {
    if (d.devices.length > LIMITS.dockerDevices) throw new InvalidArgumentError('docker.devices', `has ${d.devices.length} devices; at most ${LIMITS.dockerDevices} are allowed`);
    out.devices = d.devices.map((path, i) => {
      const device = dockerPath(`docker.devices[${i}]`, path, 'device');
      if (!device.startsWith('/dev/')) throw new InvalidArgumentError(`docker.devices[${i}]`, `"${device.slice(0, 80)}" is not under /dev: give a host device, e.g. /dev/fuse`);
      return device;
    });
  }
  return out;
}

/**
 * The executors that can run a job: the one it names, or its `auto` chain; undefined when it
 * names none (any agent runs it, with its own default executor).
 */
export function executorsOf(spec: Pick<JobSpec, 'executor' | 'allowedExecutors'>): AgentExecutorName[] | undefined {
  if (spec.executor === undefined) return undefined;
  return spec.executor === 'auto' ? spec.allowedExecutors.filter((e): e is AgentExecutorName => e !== 'auto') : [spec.executor];
}

/**
 * Validates a job spec against Longshore's limits and returns it, its docker options normalised;
 * throws {@link InvalidArgumentError} naming the first field at fault. Pool-dependent checks (weight vs the pool's maximum) happen at submit.
 */
export function validateJobSpec(spec: JobSpec): JobSpec {
  validateCommand(spec.command);
  validateEnv(spec.env);
  validateLabels(spec.labels);
  validateNumbers(spec);
  validateStrings(spec);
  validateExecutors(spec);
  validateEcs(spec);
  const docker = validateDocker(spec);
  return docker ? { ...spec, docker } : spec;
}
