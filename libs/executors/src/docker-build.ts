import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BUILD_LABELS, badArgNames, buildDockerfile, buildKey, buildTag, singleFileTar, stepOfInstruction, type BuildInput } from './docker-build-plan.js';
import type { BuiltImageCache } from './docker-image-cache.js';
import type { RegistryAuth } from './docker-auth.js';
import { ensureImage, followEngineStream } from './docker-image.js';
import { tracer } from './tracer.js';
import { withSpan } from '@longshore/telemetry';
import { engineMessage, statusOf } from './docker-run.js';
import type { DockerPullPolicy, LineSink, RunRequest } from './executor.js';
import { LineSplitter } from './line-splitter.js';
import { StartCancelledError, StartFailedError, throwIfStartCancelled } from './start-errors.js';

/** The image a run's container is created from, held until {@link PreparedImage.release}. */
export interface PreparedImage {
  /** The image reference or id to create the container from. */
  image: string;
  /** Lets the image cache remove the image again; call once the container exists (or failed). */
  release(): void;
}

/** One build, with its key, as the executor carries it through. */
interface Build extends BuildInput {
  key: string;
  tag: string;
  /** The base image as the job named it. */
  base: string;
  memoryBytes: number | undefined;
}

/** One build shared by every run that needs it at once; see {@link DockerBuilds}. */
interface SharedBuild {
  result: Promise<string>;
  controller: AbortController;
  /** The logs of the runs waiting for it: the build's lines go to all of them. */
  sinks: Set<LineSink>;
  /** How many runs wait for it; when the last one is aborted, the build is stopped. */
  waiters: number;
  building: boolean;
}

/**
 * Prepares a run's image: the base as its pull policy says, then, when the job has build steps,
 * the image built from them (once per content key, {@link buildKey}; reused while it exists).
 * Two runs needing the same build at once share one: it goes on while one of them still waits
 * for it, and stops when all of them were aborted. The build's output goes to every waiting run's
 * log as stderr lines starting with `build: `.
 */
export class DockerBuilds {
  private readonly inflight = new Map<string, SharedBuild>();

  constructor(
    private readonly cache: BuiltImageCache,
    private readonly maxLineBytes: number,
  ) {}

  /**
   * `auth` gives the registry credentials for pulling the base (the agent's DOCKER_CONFIG).
   *
   * @throws StartFailedError naming the base image, the failed build step and its exit code.
   * @throws StartCancelledError when `signal` is aborted first.
   */
  async prepare(
    docker: Docker,
    req: RunRequest,
    base: string,
    policy: DockerPullPolicy,
    signal: AbortSignal,
    auth?: (image: string) => Promise<RegistryAuth | undefined>,
  ): Promise<PreparedImage> {
    const steps = req.docker?.buildSteps ?? [];
    const args = req.docker?.buildArgs ?? {};
    const bad = steps.length === 0 ? [] : badArgNames(args);
    if (bad.length > 0) throw new StartFailedError(`build arg names ${bad.map((n) => JSON.stringify(n)).join(', ')} are not valid: a build arg's name is letters, digits and _, not starting with a digit`);
    await ensureImage(docker, base, policy, req.onLine, signal, auth);
    if (steps.length === 0) return { image: base, release: () => undefined };
    const baseId = await imageId(docker, base);
    const input: BuildInput = { baseId, steps, args };
    const key = buildKey(input);
    const build: Build = { ...input, key, tag: buildTag(key), base, memoryBytes: req.memoryBytes };
    const release = this.cache.pin(key);
    try {
      const attributes = { 'container.image.name': build.tag, 'longshore.build.base': base, 'longshore.build.steps': steps.length };
      const image = await withSpan(tracer(), 'executor.build', attributes, () => this.join(docker, build, req.onLine, signal));
      return { image, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Waits for the shared build of `build.key` (starting it if none runs), until `signal` aborts. */
  private async join(docker: Docker, build: Build, onLine: LineSink, signal: AbortSignal): Promise<string> {
    throwIfStartCancelled(signal);
    let shared = this.inflight.get(build.key);
    if (shared === undefined) {
      shared = this.start(docker, build);
    } else if (shared.building) {
      onLine('stderr', `build: ${build.tag} is being built for another job; waiting for it`);
    }
    const own = shared;
    own.sinks.add(onLine);
    own.waiters += 1;
    let onAbort!: () => void;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new StartCancelledError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([own.result, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      aborted.catch(() => undefined);
      own.sinks.delete(onLine);
      own.waiters -= 1;
      // The last run waiting for it is gone: nobody needs the build any more.
      if (own.waiters === 0 && this.inflight.get(build.key) === own) {
        this.inflight.delete(build.key);
        own.controller.abort(signal.reason);
      }
    }
  }

  private start(docker: Docker, build: Build): SharedBuild {
    const controller = new AbortController();
    const shared: SharedBuild = { result: Promise.resolve(''), controller, sinks: new Set(), waiters: 0, building: false };
    const emit = (text: string) => {
      for (const sink of shared.sinks) {
        try {
          sink('stderr', `build: ${text}`);
        } catch {
          shared.sinks.delete(sink); // a sink must not throw; one that does gets no more lines
        }
      }
    };
    shared.result = (async () => {
      await this.cache.settled();
      const found = await builtImage(docker, build);
      if (found !== undefined) {
        emit(`using cached build ${build.tag} (${found})`);
        return found;
      }
      shared.building = true;
      emit(`building ${build.tag} from ${build.base} (${build.baseId}): ${build.steps.length} step${build.steps.length === 1 ? '' : 's'}`);
      const id = await runBuild(docker, build, emit, controller.signal, this.maxLineBytes);
      emit(`built ${build.tag} (${id})`);
      this.cache.collect();
      return id;
    })().finally(() => {
      if (this.inflight.get(build.key) === shared) this.inflight.delete(build.key);
    });
    shared.result.catch(() => undefined); // a build nobody waits for any more must not crash the agent
    this.inflight.set(build.key, shared);
    return shared;
  }
}

/** The id of image `ref`, which the pull policy just made sure of. */
async function imageId(docker: Docker, ref: string): Promise<string> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    throw new StartFailedError(`could not look up image "${ref}" on this agent's Docker engine: ${engineMessage(err)}`);
  }
}

/** The id of the image built for `build.key`, or undefined when there is none (or its tag names another build). */
async function builtImage(docker: Docker, build: Build): Promise<string | undefined> {
  try {
    const info = await docker.getImage(build.tag).inspect();
    return info.Config?.Labels?.[BUILD_LABELS.build] === build.key ? info.Id : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw new StartFailedError(`could not look up the built image ${build.tag} on this agent's Docker engine: ${engineMessage(err)}`);
  }
}

/** One JSON message of a build stream. */
interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

const STEP_LINE = /^Step (\d+)\/\d+ : /;
const ANSI_SGR = /\u001b\[[0-9;]*m/g;

/**
 * Builds `build` with the engine's classic builder (`/build`, no BuildKit, no registry, no
 * network) and returns the image's id. A generated Dockerfile rather than a container per step
 * and `commit`: the builder keeps the base's config (entrypoint, env, user) without copying it
 * back by hand, caches each step's layer, and reports a failed `RUN`'s exit code itself. Which
 * step failed is read from its "Step N/M" lines; only the next step's number is believed, so a
 * step printing such a line cannot pass for another one.
 *
 * @throws StartFailedError naming the failed step and its exit code, or the engine's error.
 * @throws StartCancelledError when `signal` aborts it (the engine then stops the step's container).
 */
async function runBuild(docker: Docker, build: Build, emit: (text: string) => void, signal: AbortSignal, maxLineBytes: number): Promise<string> {
  let instruction = 0;
  const lines = new LineSplitter(maxLineBytes, (raw) => {
    // The builder colours a step's stderr (ESC[91m … ESC[0m); the job's log is plain text.
    const text = raw.replace(ANSI_SGR, '');
    const step = STEP_LINE.exec(text);
    if (step && Number(step[1]) === instruction + 1) instruction += 1;
    emit(text);
  });
  const what = `image "${build.base}" with ${build.steps.length} build step${build.steps.length === 1 ? '' : 's'}`;
  let failure: BuildEvent['errorDetail'] | undefined;
  try {
    const labels = { [BUILD_LABELS.build]: build.key, [BUILD_LABELS.base]: build.base, [BUILD_LABELS.baseId]: build.baseId };
    const context = Readable.from([singleFileTar('Dockerfile', Buffer.from(buildDockerfile(build, labels)))]);
    const memory = build.memoryBytes === undefined ? {} : { memory: build.memoryBytes, memswap: build.memoryBytes };
    const stream = (await docker.buildImage(context, {
      t: build.tag,
      buildargs: { ...build.args },
      networkmode: 'none',
      pull: false,
      rm: true,
      forcerm: true,
      version: '1',
      abortSignal: signal,
      ...memory,
    })) as NodeJS.ReadableStream;
    await followEngineStream<BuildEvent>(docker, stream, signal, (event) => {
      if (event.stream !== undefined) lines.push(Buffer.from(event.stream));
      else if (event.status !== undefined) emit(event.status);
      if (event.error !== undefined) failure ??= { ...event.errorDetail, message: event.errorDetail?.message ?? event.error };
    });
  } catch (err) {
    throwIfStartCancelled(signal);
    if (err instanceof StartCancelledError) throw err;
    throw new StartFailedError(`could not build ${what}: ${engineMessage(err)}`);
  } finally {
    lines.end();
  }
  if (failure !== undefined) {
    const step = stepOfInstruction(instruction, build);
    if (step !== undefined && failure.code !== undefined) {
      throw new StartFailedError(`build step ${step} of ${build.steps.length} (${JSON.stringify(build.steps[step - 1])}) on image "${build.base}" failed with exit code ${failure.code}; its output is in the job's log`);
    }
    const where = step === undefined ? '' : ` at step ${step} (${JSON.stringify(build.steps[step - 1])})`;
    throw new StartFailedError(`could not build ${what}${where}: ${failure.message}`);
  }
  const id = await builtImage(docker, build);
  if (id === undefined) throw new StartFailedError(`the build of ${what} ended without error but ${build.tag} is not on the engine`);
  return id;
}

