import type Docker from 'dockerode';
import { engineMessage, statusOf } from './docker-run.js';
import type { RegistryAuth } from './docker-auth.js';
import type { DockerPullPolicy, LineSink } from './executor.js';
import { StartCancelledError, StartFailedError, throwIfStartCancelled } from './start-errors.js';
import { tracer } from './tracer.js';
import { withSpan } from '@longshore/telemetry';

/** One JSON event of a pull stream. */
interface PullEvent {
  id?: string;
  status?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

// Per-chunk progress ticks: thousands of them for a big layer, none worth a log line.
const TICKS = new Set(['Downloading', 'Extracting', 'Waiting', 'Verifying Checksum']);

/**
 * Makes sure the engine has `image` as `policy` says, pulling it when needed; pull progress
 * (one line per layer step, without the byte ticks) goes to `onLine` as stderr lines starting
 * with `pull: `. `auth` gives the credentials for the image's registry (the agent's DOCKER_CONFIG),
 * if any; without, pulls are anonymous.
 *
 * @throws StartFailedError naming the image when it is missing under `never`, or the pull fails.
 * @throws StartCancelledError when `signal` is aborted before or during the pull.
 */
export async function ensureImage(
  docker: Docker,
  image: string,
  policy: DockerPullPolicy,
  onLine: LineSink,
  signal: AbortSignal,
  auth?: (image: string) => Promise<RegistryAuth | undefined>,
): Promise<void> {
  throwIfStartCancelled(signal);
  if (policy !== 'always' && (await imagePresent(docker, image))) return;
  if (policy === 'never') {
    throw new StartFailedError(`image "${image}" is not on this agent's Docker engine and the job's pull policy is "never" (load or pull it there first, or use pull policy "if_not_present")`);
  }
  throwIfStartCancelled(signal);
  await withSpan(tracer(), 'executor.pull', { 'container.image.name': image, 'longshore.pull_policy': policy }, () => pull(docker, image, onLine, signal, auth));
}

/** Pulls `image`, its progress to `onLine`; see {@link ensureImage}. */
async function pull(docker: Docker, image: string, onLine: LineSink, signal: AbortSignal, auth?: (image: string) => Promise<RegistryAuth | undefined>): Promise<void> {
  onLine('stderr', `pull: ${image}`);
  try {
    const authconfig = await auth?.(image);
    const stream = (await docker.pull(image, { abortSignal: signal, ...(authconfig ? { authconfig } : {}) })) as NodeJS.ReadableStream;
    await followPull(docker, stream, signal, (event) => {
      const line = progressLine(event);
      if (line !== undefined) onLine('stderr', `pull: ${line}`);
    });
  } catch (err) {
    throwIfStartCancelled(signal);
    if (err instanceof StartCancelledError) throw err;
    throw new StartFailedError(`could not pull image "${image}": ${engineMessage(err)}`);
  }
}

/** Whether the engine has `image`; errors other than "no such image" are the engine's and thrown. */
async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw new StartFailedError(`could not look up image "${image}" on this agent's Docker engine: ${engineMessage(err)}`);
  }
}

/**
 * Reads a pull stream to its end. The engine reports a failed pull (unknown repository or tag,
 * refused access) as an `error` event with status 200, which `followProgress` passes on as data.
 */
async function followPull(docker: Docker, stream: NodeJS.ReadableStream, signal: AbortSignal, onEvent: (event: PullEvent) => void): Promise<void> {
  let failed: string | undefined;
  await followEngineStream<PullEvent>(docker, stream, signal, (event) => {
    if (event.error !== undefined) failed ??= event.errorDetail?.message ?? event.error;
    else onEvent(event);
  });
  if (failed !== undefined) throw new Error(failed);
}

/**
 * Reads an engine's JSON progress stream (a pull, a build) to its end, passing each event on;
 * a cancel rejects at once with {@link StartCancelledError} (the request is aborted too).
 */
export function followEngineStream<E>(docker: Docker, stream: NodeJS.ReadableStream, signal: AbortSignal, onEvent: (event: E) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(new StartCancelledError(signal.reason));
    signal.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        signal.removeEventListener('abort', abort);
        if (err) reject(err);
        else resolve();
      },
      onEvent,
    );
  });
}

/** The log line of one pull event, or undefined for byte-progress ticks. */
function progressLine(event: PullEvent): string | undefined {
  const status = event.status;
  if (status === undefined || TICKS.has(status)) return undefined;
  return event.id === undefined ? status : `${event.id}: ${status}`;
}
