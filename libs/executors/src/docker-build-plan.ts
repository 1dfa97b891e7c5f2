import { createHash } from 'node:crypto';

/** The labels of an image the docker executor built from a job's build steps. */
export const BUILD_LABELS = {
  /** The build's key ({@link buildKey}): what the image was built from. */
  build: 'longshore.build',
  /** The base image as the job named it. */
  base: 'longshore.base',
  /** The base image's id the build started from (its layers are not the build's own size). */
  baseId: 'longshore.base-id',
} as const;

/** What a build is made of: the resolved base image, the job's steps in order, and its build args. */
export interface BuildInput {
  /** The base image's id (`sha256:…`) after the pull policy was applied: a re-pulled base rebuilds. */
  baseId: string;
  steps: readonly string[];
  args: Readonly<Record<string, string>>;
}

/** A build arg's name, as a Dockerfile `ARG` (and the shell that reads it) takes it. */
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The content hash (sha256, hex) that names a build: over the base image's id, the steps in
 * order and the build args sorted by name, in one canonical JSON encoding (a version tag first,
 * so a change of what the Dockerfile says can change every key).
 */
export function buildKey(input: BuildInput): string {
  const args = Object.entries(input.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify(['longshore-build/1', input.baseId, input.steps, args]))
    .digest('hex');
}

/** The tag of the image built for `key`; its `longshore.build` label holds the whole key. */
export function buildTag(key: string): string {
  return `longshore-build/${key.slice(0, 16)}:latest`;
}

/**
 * The names of `args` that a Dockerfile `ARG` cannot take, for the message that names them
 * (the submit validates them first; this keeps anything else out of the generated Dockerfile).
 */
export function badArgNames(args: Readonly<Record<string, string>>): string[] {
  return Object.keys(args).filter((name) => !ARG_NAME.test(name));
}

/**
 * The Dockerfile of a build: `FROM` the base's id (the very image the key was computed from,
 * even if its tag moves meanwhile), an `ARG` per build arg (set while the steps run, as
 * environment variables, and not kept in the image), then one exec-form
 * `RUN ["sh","-c",<step>]` per step. The exec form keeps a step's text exact: JSON quotes its
 * newlines, backslashes and quotes, and the builder substitutes no variables in a `RUN`, so `sh`
 * gets the step byte for byte (the shell form would join lines ending in `\`). `labels`, last,
 * are plain values (image ids, references, hex): no `$`, which a `LABEL` would substitute.
 */
export function buildDockerfile(input: BuildInput, labels: Readonly<Record<string, string>> = {}): string {
  const lines = [`FROM ${input.baseId}`];
  for (const name of Object.keys(input.args).sort()) lines.push(`ARG ${name}`);
  for (const step of input.steps) lines.push(`RUN ${JSON.stringify(['sh', '-c', step])}`);
  // One LABEL for all (the build API's `labels` adds one step, and one container, per label).
  const pairs = Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  if (pairs.length > 0) lines.push(`LABEL ${pairs.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Which build step (1-based) the Dockerfile instruction numbered `instruction` (the builder's
 * "Step N/M", 1-based) runs, or undefined for `FROM`, an `ARG`, or the `LABEL` after the steps.
 */
export function stepOfInstruction(instruction: number, input: BuildInput): number | undefined {
  const step = instruction - 1 - Object.keys(input.args).length;
  return step >= 1 && step <= input.steps.length ? step : undefined;
}

/**
 * An in-memory tar (POSIX ustar) holding one regular file, the build context the engine's
 * `/build` takes. Hand-written: one file is a 512-byte header, the data padded to 512 bytes and
 * two zero blocks, and no tar library is among this workspace's dependencies (dockerode's own
 * packs a directory from disk).
 */
export function singleFileTar(name: string, data: Buffer): Buffer {
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry name "${name}" is longer than 100 bytes`);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108); // uid
  header.write(octal(0, 8), 116); // gid
  header.write(octal(data.length, 12), 124);
  header.write(octal(0, 12), 136); // mtime: fixed, so the same Dockerfile is the same context
  header.write(' '.repeat(8), 148); // the checksum counts its own field as spaces
  header.write('0', 156); // regular file
  header.write('ustar\u000000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

/** A numeric tar header field: octal digits, zero-padded, NUL-terminated, `width` bytes in all. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}
