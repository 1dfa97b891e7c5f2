import { NOTHING_ALLOWED, type DockerAllow } from '@longshore/domain';
import { silentLogger, type Logger } from '@longshore/telemetry';
import type Docker from 'dockerode';
import { containerCreateOptions, DEFAULT_PIDS_LIMIT, DEFAULT_PULL_POLICY, LABELS, ownedRunFromLabels, type ContainerSettings } from './docker-container-config.js';
import { allowedRunOptions } from './docker-allowed.js';
import { readRegistryAuth, type RegistryAuth } from './docker-auth.js';
import { DockerBuilds } from './docker-build.js';
import { BuiltImageCache } from './docker-image-cache.js';
import { DockerRun, engineMessage, statusOf, type DockerRunSettings } from './docker-run.js';
import { HEALTHY, type AttachResult, type Executor, type LineSink, type OutputPosition, type OwnedRun, type ProbeResult, type RunHandle, type RunRef, type RunRequest } from './executor.js';
import { StartCancelledError, StartFailedError, throwIfStartCancelled } from './start-errors.js';

/** What {@link createDockerExecutor} needs. */
export interface DockerExecutorOptions {
  /**
   * The engine's client. Absent = a dockerode client made on first use, which reads `DOCKER_HOST`
   * (`unix:///…`, `tcp://…`, with `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH`) like the docker CLI,
   * else `/var/run/docker.sock`.
   */
  docker?: Docker;
  /** This agent's id: every container it starts is labelled `longshore.agent=<id>` ({@link Executor.listOwned}). */
  agentId: string;
  /** The pool this agent serves, labelled `longshore.pool` on its containers. */
  pool: string;
  /** Where the executor reports background problems (a container it could not remove); default silent. */
  logger?: Logger;
  /** Longer output lines are emitted in pieces of at most this many bytes; default 16 * 1024. */
  maxLineBytes?: number;
  /** Processes (and threads) one container may have; default {@link DEFAULT_PIDS_LIMIT}. */
  pidsLimit?: number;
  /**
   * Runs Docker's init (tini, `docker run --init`) as each container's PID 1, so SIGTERM reaches
   * a job that installs no handler for it and zombies are reaped; default false, as in `docker
   * run`. Off, the job's program is PID 1, which the kernel spares the signals it has no handler
   * for (such a job is killed when its stop grace ends), and a program the image lacks fails the
   * start (`start_failed`); on, init starts and such a job exits 127 instead.
   */
  init?: boolean;
  /**
   * The cap, in bytes of their own, on the images built from jobs' build steps: after each build
   * (and once at start) the least recently used ones not in use are removed until the rest fit.
   * Default {@link DEFAULT_IMAGE_CACHE_BYTES}; null = no cap (built images are never removed).
   */
  imageCacheBytes?: number | null;
  /**
   * What jobs may have beyond the secure defaults (`LONGSHORE_DOCKER_ALLOW`); default nothing. A
   * job asking for more ends `start_failed` naming the option, before anything is created.
   */
  allow?: DockerAllow;
  /**
   * A directory holding a docker CLI `config.json` (the agent's `DOCKER_CONFIG`): pulls send the
   * credentials its `auths` has for the image's registry. Never from the job. Absent: no credentials.
   */
  dockerConfigDir?: string;
}

/** The default cap on built images (`LONGSHORE_DOCKER_IMAGE_CACHE`): 10Gi. */
export const DEFAULT_IMAGE_CACHE_BYTES = 10 * 1024 ** 3;

/**
 * Creates the executor that runs each attempt as a Docker container (dockerode): the job's image
 * (pulled as its pull policy says), its argv as the command, its environment, and secure
 * defaults (no network, Docker's capabilities without NET_RAW, no new privileges, a pids limit,
 * `memoryBytes` as a hard limit without swap, reported as `oom`). Output is streamed line by line
 * while it runs; `stop` is `docker stop` (SIGTERM, then SIGKILL after the grace); the exit code
 * and `OOMKilled` are read from the engine, then the container is removed, whatever the outcome.
 * Containers carry `longshore.*` labels (job, attempt, agent, pool), so an agent restarted with
 * the same id finds and re-attaches to them.
 *
 * @throws RangeError when `maxLineBytes` or `pidsLimit` is not a positive integer.
 */
export function createDockerExecutor(opts: DockerExecutorOptions): Executor {
  const maxLineBytes = positive('maxLineBytes', opts.maxLineBytes ?? 16 * 1024);
  const container: ContainerSettings = {
    agentId: opts.agentId,
    pool: opts.pool,
    pidsLimit: positive('pidsLimit', opts.pidsLimit ?? DEFAULT_PIDS_LIMIT),
    init: opts.init ?? false,
  };
  const run: DockerRunSettings = { maxLineBytes, logger: opts.logger ?? silentLogger() };
  const access: StartAccess = { allow: opts.allow ?? NOTHING_ALLOWED, ...(opts.dockerConfigDir ? { dockerConfigDir: opts.dockerConfigDir } : {}) };
  let client: Promise<Docker> | undefined = opts.docker ? Promise.resolve(opts.docker) : undefined;
  // Loaded on first use: an agent without docker jobs never loads dockerode.
  const docker = () => (client ??= import('dockerode').then(({ default: Dockerode }) => new Dockerode()));
  const cache = new BuiltImageCache(docker, opts.imageCacheBytes === undefined ? DEFAULT_IMAGE_CACHE_BYTES : opts.imageCacheBytes, run.logger);
  const builds = new DockerBuilds(cache, maxLineBytes);
  let collectedAtStart = false;
  return {
    name: 'docker',
    reattachable: true,
    probe: async (signal) => {
      const health = await docker().then((d) => pingEngine(d, signal), (err: unknown): ProbeResult => ({ healthy: false, reason: engineMessage(err) }));
      // The agent probes at start: the first answer is when to trim what earlier lives built.
      if (health.healthy && !collectedAtStart) {
        collectedAtStart = true;
        cache.collect();
      }
      return health;
    },
    start: async (req, signal) => startContainer(await docker(), req, signal, container, run, builds, access),
    attach: async (ref, onLine, after) => attachContainer(await docker(), ref, onLine, run, after),
    listOwned: async (agentId) => listContainers(await docker(), `${LABELS.agent}=${agentId}`),
    listPool: async (pool) => listContainers(await docker(), `${LABELS.pool}=${pool}`),
  };
}

/** How long a probe waits for the engine's answer before calling it unreachable. */
export const DOCKER_PROBE_TIMEOUT_MS = 2000;

/** The engine answers its `/_ping` within {@link DOCKER_PROBE_TIMEOUT_MS} (or before `signal` aborts): healthy; else why not. */
async function pingEngine(docker: Docker, signal: AbortSignal): Promise<ProbeResult> {
  const timeout = AbortSignal.timeout(DOCKER_PROBE_TIMEOUT_MS);
  try {
    // dockerode's ping takes `abortSignal` (as pull does), though its types do not say so.
    await (docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: AbortSignal.any([signal, timeout]) });
    return HEALTHY;
  } catch (err) {
    if (timeout.aborted) return { healthy: false, reason: `the engine did not answer within ${DOCKER_PROBE_TIMEOUT_MS} ms` };
    if (signal.aborted) return { healthy: false, reason: 'the probe was abandoned' };
    return { healthy: false, reason: engineMessage(err) };
  }
}

/** What the agent lets a job's container have, and whose credentials pulls use. */
interface StartAccess {
  allow: DockerAllow;
  dockerConfigDir?: string;
}

async function startContainer(
  docker: Docker,
  requested: RunRequest,
  signal: AbortSignal,
  settings: ContainerSettings,
  run: DockerRunSettings,
  builds: DockerBuilds,
  access: StartAccess,
): Promise<RunHandle> {
  if (requested.command.length === 0 || requested.command[0] === '') {
    throw new StartFailedError('command is empty: a job needs at least the program to run (argv[0])');
  }
  const image = requested.docker?.image;
  if (!image || !requested.docker) throw new StartFailedError('a docker job needs an image (longshore submit --image IMAGE …)');
  // Refused before anything is pulled, built or created; mounts come back with their real host paths.
  const options = await allowedRunOptions(requested.docker, access.allow, settings.agentId);
  const req: RunRequest = { ...requested, docker: options };
  const createOptions = containerCreateOptions(req, settings);
  const { dockerConfigDir } = access;
  const auth = dockerConfigDir ? (ref: string): Promise<RegistryAuth | undefined> => readRegistryAuth(dockerConfigDir, ref) : undefined;
  // The base as its pull policy says, then the image built from the job's build steps, if any.
  const prepared = await builds.prepare(docker, req, image, options.pull ?? DEFAULT_PULL_POLICY, signal, auth);
  const what = `job ${req.jobId} (attempt ${req.attempt})`;
  let container: Docker.Container;
  try {
    throwIfStartCancelled(signal);
    container = await docker.createContainer({ ...createOptions, Image: prepared.image });
  } catch (err) {
    if (err instanceof StartCancelledError) throw err;
    throw new StartFailedError(`could not create a container of image "${image}" for ${what}: ${engineMessage(err)}`);
  } finally {
    prepared.release(); // from here on the container holds its image
  }
  try {
    throwIfStartCancelled(signal);
    // Attached before start, so not even the first line can be missed.
    const output = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    try {
      await container.start();
    } catch (err) {
      (output as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      // The engine refuses what cannot run: a program not in the image, a working dir that is a file.
      throw new StartFailedError(`container of image "${image}" for ${what} did not start: ${engineMessage(err)}`);
    }
    return new DockerRun(docker, container, output, req.onLine, what, run).handle;
  } catch (err) {
    await container.remove({ force: true }).catch((removeErr: unknown) => {
      if (statusOf(removeErr) !== 404) run.logger.error({ err: removeErr, container: container.id }, `could not remove the container of ${what}, which never started`);
    });
    if (err instanceof StartFailedError || err instanceof StartCancelledError) throw err;
    throw new StartFailedError(`could not start the container of image "${image}" for ${what}: ${engineMessage(err)}`);
  }
}

/**
 * Follows a container again: a running one gets a new handle whose output starts after the
 * lines `after` counts (replayed from the engine's log of the container, so lines printed while
 * nobody was attached are delivered), or now without `after`; one that ended, or never started,
 * is removed and reported gone.
 */
async function attachContainer(docker: Docker, ref: RunRef, onLine: LineSink, run: DockerRunSettings, after?: OutputPosition): Promise<AttachResult> {
  if (ref.kind !== 'docker') throw new TypeError(`the docker executor cannot attach to a ${ref.kind} run`);
  const container = docker.getContainer(ref.containerId);
  let info: Docker.ContainerInspectInfo;
  try {
    info = await container.inspect();
  } catch (err) {
    if (statusOf(err) === 404) return { kind: 'gone' };
    throw err;
  }
  const what = `job ${info.Config.Labels[LABELS.job] ?? '?'} (attempt ${info.Config.Labels[LABELS.attempt] ?? '?'})`;
  if (info.State.Running) {
    try {
      const output = after
        ? ((await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream)
        : ((await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream);
      return { kind: 'attached', handle: new DockerRun(docker, container, output, after ? skipLines(after, onLine) : onLine, what, run).handle };
    } catch (err) {
      if (statusOf(err) === 404) return { kind: 'gone' };
      if (statusOf(err) !== 409) throw err; // 409: it stopped meanwhile
    }
  }
  await container.remove({ force: true }).catch((err: unknown) => {
    if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
  });
  return { kind: 'gone' };
}

/** Containers of jobs with the label `label` (`key=value`), running or not. */
async function listContainers(docker: Docker, label: string): Promise<OwnedRun[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [label] } });
  return found.flatMap((c) => ownedRunFromLabels(c.Id, c.Labels) ?? []);
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

/** A sink that drops the first `after` lines of each stream (already delivered) and passes the rest. */
function skipLines(after: OutputPosition, onLine: LineSink): LineSink {
  const left = { ...after };
  return (stream, text) => {
    if (left[stream] > 0) left[stream]--;
    else onLine(stream, text);
  };
}
