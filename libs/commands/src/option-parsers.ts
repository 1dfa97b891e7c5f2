import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors.js';
import { Executor } from '@longshore/client';
import {
  AGENT_EXECUTORS,
  EXECUTORS,
  InvalidArgumentError as DomainInvalidArgumentError,
  normaliseCapability,
  parseBytes,
  parseDurationMs,
  parseMilli,
  parseStandard,
  validateDnsLabel,
  validateSecretPatterns,
  type ExecutorName,
} from '@longshore/domain';

/**
 * Commander argument parsers for the CLI's flags. Each one turns text into the unit the API wants
 * (thousandths, milliseconds, bytes) with the domain's parsers, and on bad input throws commander's
 * `InvalidArgumentError`, so commander reports it naming the flag and `runCli` exits 2.
 */

/**
 * Runs a domain parser, turning its error into commander's: commander already names the flag, so
 * the domain's field prefix is dropped, and an example is added where the message has none.
 */
function viaDomain<T>(example: string, parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof DomainInvalidArgumentError)) throw err;
      const prefix = `${err.field}: `;
      const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
      throw new InvalidArgumentError(message.includes('e.g.') ? message : `${message} (e.g. ${example})`);
    }
  };
}

/** A weight or capacity as a decimal: "0.25" → 250 (thousandths). */
export const milliArg = viaDomain('0.25', (text) => parseMilli('weight', text));

/** A duration: "30s" → 30000 (ms). Zero is refused: leave the flag out for the default. */
export const durationArg = viaDomain('30s', (text) => {
  const value = parseDurationMs('duration', text);
  if (value <= 0) throw new InvalidArgumentError('must be longer than 0 (e.g. 30s, 5m, 2h); leave the flag out for the default');
  return value;
});

/** A size: "512Mi" → 536870912n (bytes, as the API's uint64). */
export const bytesArg = viaDomain('512Mi', (text) => {
  const value = parseBytes('size', text);
  if (value <= 0) throw new InvalidArgumentError('must be more than 0 (e.g. 512Mi, 1Gi); leave the flag out for no limit');
  return BigInt(value);
});

/** A pool's secret allow-list: "ingest_*,DB_PASSWORD" → its entries; "none" (or empty) = any secret. */
export const secretsArg = viaDomain('ingest_*,DB_PASSWORD', (text) =>
  text.trim() === 'none' ? [] : validateSecretPatterns('secrets', text.split(',').map((p) => p.trim()).filter(Boolean)),
);

/** A pool's standard agent: "cpus=2,memory=4Gi" → the API's PoolStandard; "none" clears it. */
export const standardArg = viaDomain('cpus=2,memory=4Gi', (text) => {
  const s = text.trim() === 'none' ? undefined : parseStandard('standard', text);
  if (text.trim() !== 'none' && !s) throw new InvalidArgumentError('give cpus and/or memory (e.g. cpus=2,memory=4Gi), or none to clear it');
  return { cpusMilli: s?.cpusMilli ?? 0, memoryBytes: BigInt(s?.memoryBytes ?? 0) };
});

/** A lowercase DNS label (pool id, lane). */
export const nameArg = viaDomain('ingest-eu', (text) => validateDnsLabel('name', text));

/** An integer between `min` and `max`. */
export function intArg(min: number, max: number, example: string): (text: string) => number {
  return (text) => {
    const value = /^\s*[-+]?\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${JSON.stringify(text)} is not a whole number from ${min} to ${max} (e.g. ${example})`);
    }
    return value;
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[a-z0-9]([-a-z0-9_./]*[a-z0-9])?$/;

function keyValue(flag: string, key: RegExp, keyRule: string, example: string) {
  return (text: string, previous: Record<string, string> | undefined): Record<string, string> => {
    const eq = text.indexOf('=');
    if (eq < 0) throw new InvalidArgumentError(`${JSON.stringify(text)} has no "=": write ${flag} KEY=VALUE (e.g. ${flag} ${example})`);
    const k = text.slice(0, eq);
    if (!key.test(k)) throw new InvalidArgumentError(`${JSON.stringify(k)} is not a valid name: ${keyRule} (e.g. ${flag} ${example})`);
    return { ...previous, [k]: text.slice(eq + 1) };
  };
}

/** `--env K=V`, repeatable; K must be a shell variable name. */
export const envArg = keyValue('--env', ENV_NAME, 'letters, digits and _, not starting with a digit', 'LOG_LEVEL=debug');

/** `--label K=V`, repeatable; K as the API's label keys. */
export const labelArg = keyValue('--label', LABEL_KEY, "lowercase letters, digits, '-', '_', '.', '/'", 'team=data');

/** `--docker-label K=V`, repeatable; K as Docker's label keys (`longshore.*` is refused by the server: reserved). */
export const dockerLabelArg = keyValue('--docker-label', /^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/, "letters, digits, '-', '_', '.', '/'", 'com.example.team=data');

/** `--build-arg K=V`, repeatable; K a shell variable name (the build steps see it as one). */
export const buildArgArg = keyValue('--build-arg', ENV_NAME, 'letters, digits and _, not starting with a digit', 'VERSION=1.2');

/** A repeatable flag's values, in the order given. */
export function repeatable<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
  return (text, previous) => [...(previous ?? []), parse(text)];
}

/** `--cpus 1.5` → 1500 (thousandths of a CPU). */
export function cpusArg(text: string): number {
  const m = /^\s*(\d{1,4})(?:\.(\d{1,3}))?\s*$/.exec(text);
  const value = m ? Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0')) : 0;
  if (!m || value <= 0) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a number of CPUs above 0 with at most 3 decimals (e.g. 0.5, 1.5, 2); leave the flag out for no CPU limit`);
  return value;
}

/** `--cap-add SYS_PTRACE` (or CAP_SYS_PTRACE, any case): the capability's name without CAP_. */
export function capabilityArg(text: string): string {
  const cap = normaliseCapability(text);
  if (!cap) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a capability name: letters and _, with or without CAP_ (e.g. SYS_PTRACE)`);
  return cap;
}

/** `--mount SRC:DST[:ro|rw]`: a host path mounted in the container (read-write unless `:ro`). */
export function mountArg(text: string): { source: string; target: string; readOnly: boolean } {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : undefined;
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not HOST_PATH:CONTAINER_PATH with an optional :ro (e.g. /data/in:/in:ro)`);
  }
  if (!parts[0].startsWith('/') || !parts[1].startsWith('/')) {
    throw new InvalidArgumentError(`${JSON.stringify(text)}: both paths must be absolute (e.g. /data/in:/in:ro)`);
  }
  return { source: parts[0], target: parts[1], readOnly: mode === 'ro' };
}

/** `--device /dev/fuse`: a host device, by its absolute path under /dev. */
export function deviceArg(text: string): string {
  if (!text.startsWith('/dev/')) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a device path under /dev (e.g. /dev/fuse)`);
  return text;
}

/** `--build-step CMD`: one build command, run with `sh -c` on the image; must not be empty. */
export function buildStepArg(text: string): string {
  if (text.trim() === '') throw new InvalidArgumentError('is empty: give a command for sh -c (e.g. --build-step "apk add curl")');
  return text;
}

/** The executors a job may ask for by name (the domain's list). */
export const EXECUTOR_WORDS = EXECUTORS;
/** One of {@link EXECUTOR_WORDS}. */
export type ExecutorWord = ExecutorName;

/** The API value of an executor word: the proto value of the same name (`noop` → EXECUTOR_NOOP). */
export function executorOf(word: ExecutorWord): Executor {
  return Executor[word.toUpperCase() as Uppercase<ExecutorWord>];
}

/** A comma list of executors (not `auto`), in order; `flag` is named in the error's example. */
function executorListArg(flag: string, example: string) {
  return (text: string): Executor[] => {
    const words = text.split(',').map((w) => w.trim()).filter(Boolean);
    const names: readonly string[] = AGENT_EXECUTORS;
    const bad = words.filter((w) => !names.includes(w));
    if (words.length === 0 || bad.length > 0) {
      throw new InvalidArgumentError(`${JSON.stringify(text)} is not a comma list of ${names.join(', ')} (e.g. ${flag} ${example})`);
    }
    return words.map((w) => executorOf(w as ExecutorWord));
  };
}

/** `--allow docker,subprocess`: the chain for `--executor auto`, in order of preference. */
export const allowArg = executorListArg('--allow', 'ecs,docker,subprocess');

/** `pools create|update --executors docker,subprocess`: the executors a pool's jobs may use. */
export const executorsArg = executorListArg('--executors', 'docker,subprocess');

/** Retries per failure class: "exit=2,timeout=1" (classes: exit, timeout, oom, start_failed, lost). */
export function retriesArg(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(exit|timeout|oom|start_failed|lost)=(\d{1,3})$/.exec(part);
    if (!m) throw new InvalidArgumentError(`${JSON.stringify(part)} is not CLASS=N with CLASS one of exit, timeout, oom, start_failed, lost (e.g. exit=2,timeout=1)`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/**
 * `--listen HOST:PORT` (`[V6]:PORT` too; port 0 = a free one), checked.
 * @throws UsageError naming the flag and an example.
 */
export function listenArg(text: string, example: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen "${text}": give HOST:PORT (e.g. --listen ${example}, or port 0 for a free one)`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
