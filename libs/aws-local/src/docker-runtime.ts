import { DEFAULT_JOB_CAPABILITIES } from '@longshore/domain';
import type Docker from 'dockerode';
import type { ContainerExit, ContainerRunSpec, ContainerRuntime, RunningContainer } from './runtime.js';

/** The label every container of the local endpoint carries; its value is the endpoint's id. */
export const ENDPOINT_LABEL = 'longshore.aws-local.endpoint';
/** The label naming the task a container belongs to (its ARN). */
export const TASK_LABEL = 'longshore.aws-local.task';

/** CloudWatch Logs' largest event: 256 KiB less its 26 bytes of overhead. Longer lines are cut into pieces. */
export const MAX_EVENT_BYTES = 256 * 1024 - 26;

const MIB = 1024 * 1024;
const PIDS_LIMIT = 512;
// After a container exited, how long its output may take to end before it is cut.
const DRAIN_MS = 5000;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** 404: gone already; 409: its removal is under way (the endpoint's close and the task's own end race). */
const alreadyGoing = (err: unknown): boolean => statusOf(err) === 404 || statusOf(err) === 409;

function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | undefined;
  return e?.json?.message ?? e?.message ?? String(err);
}

/**
 * Output bytes to log events: one per line (without `\n`/`\r`), a line past
 * {@link MAX_EVENT_BYTES} cut into pieces, so a runaway line cannot make the endpoint buffer
 * without bound. (The executors' LineSplitter does the same for job output but is not exported
 * from their lib; this one is kept to CloudWatch's event size.)
 */
export class EventLines {
  private pending = Buffer.alloc(0);

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxBytes = MAX_EVENT_BYTES,
  ) {}

  /** Feeds a chunk; emits each line it completes, and full pieces of an over-long one. */
  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10)) {
      const rest = this.cut(buf.subarray(0, nl));
      const text = rest.toString('utf8');
      this.emit(text.endsWith('\r') ? text.slice(0, -1) : text);
      buf = buf.subarray(nl + 1);
    }
    this.pending = Buffer.from(this.cut(buf));
  }

  /** Emits what is left (a last line without a newline). */
  end(): void {
    if (this.pending.length) this.emit(this.pending.toString('utf8'));
    this.pending = Buffer.alloc(0);
  }

  /** Emits full pieces of `line` while it is longer than the limit; returns the rest. */
  private cut(line: Buffer): Buffer {
    while (line.length > this.maxBytes) {
      let at = this.maxBytes;
      while (at > 0 && (line[at]! & 0xc0) === 0x80) at--; // not inside a UTF-8 character
      this.emit(line.subarray(0, at).toString('utf8'));
      line = line.subarray(at);
    }
    return line;
  }
}

/**
 * The create options of one task container: the spec, and the same secure defaults as the
 * docker executor (no network unless asked, Docker's capabilities without NET_RAW, no new
 * privileges, a pids limit, memory as a hard limit without swap). Not auto-removed: its exit
 * code and `OOMKilled` are read first.
 */
export function createOptions(spec: ContainerRunSpec): Docker.ContainerCreateOptions {
  const mem = spec.memoryMiB === undefined ? {} : { Memory: spec.memoryMiB * MIB, MemorySwap: spec.memoryMiB * MIB };
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.command ? { Cmd: spec.command } : {}),
    ...(spec.entryPoint ? { Entrypoint: spec.entryPoint } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...(spec.workingDirectory ? { WorkingDir: spec.workingDirectory } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    Labels: spec.labels,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      NetworkMode: spec.network,
      CapDrop: ['ALL'],
      CapAdd: [...DEFAULT_JOB_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: PIDS_LIMIT,
      AutoRemove: false,
      ...mem,
      ...(spec.memoryReservationMiB === undefined ? {} : { MemoryReservation: spec.memoryReservationMiB * MIB }),
      ...(spec.cpuShares ? { CpuShares: spec.cpuShares } : {}),
      ...(spec.cpuLimitUnits ? { NanoCpus: Math.round((spec.cpuLimitUnits / 1024) * 1e9) } : {}),
    },
  };
}

/** The Docker engine `docker` as the endpoint's runtime; its containers carry `ENDPOINT_LABEL=endpointId`. */
export function createDockerRuntime(docker: Docker, endpointId: string, onError: (what: string, err: unknown) => void): ContainerRuntime {
  const pull = async (image: string): Promise<void> => {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  };
  return {
    async ensureImage(image) {
      try {
        await docker.getImage(image).inspect();
        return;
      } catch (err) {
        if (statusOf(err) !== 404) throw new Error(engineMessage(err));
      }
      try {
        await pull(image);
      } catch (err) {
        throw new Error(`pull image "${image}": ${engineMessage(err)}`);
      }
    },

    async start(spec, onLine) {
      const container = await docker.createContainer(createOptions({ ...spec, labels: { ...spec.labels, [ENDPOINT_LABEL]: endpointId } }));
      try {
        const output = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
        // One stream per container, as the awslogs driver writes both to it.
        const lines = new EventLines(onLine);
        const sink = { write: (chunk: Buffer) => (lines.push(chunk), true) } as unknown as NodeJS.WritableStream;
        docker.modem.demuxStream(output, sink, sink);
        const ended = new Promise<void>((resolve) => {
          output.once('end', resolve);
          output.once('close', resolve);
          output.once('error', () => resolve());
        });
        await container.start();
        return new DockerContainer(container, output, ended, lines, onError).running;
      } catch (err) {
        await container.remove({ force: true }).catch(() => undefined);
        throw err;
      }
    },

    async removeAll() {
      const left = await docker.listContainers({ all: true, filters: { label: [`${ENDPOINT_LABEL}=${endpointId}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch((err: unknown) => alreadyGoing(err) || onError(`remove container ${c.Id}`, err))));
    },
  };
}

class DockerContainer {
  readonly running: RunningContainer;

  constructor(
    private readonly container: Docker.Container,
    private readonly output: NodeJS.ReadableStream,
    private readonly ended: Promise<void>,
    private readonly lines: EventLines,
    private readonly onError: (what: string, err: unknown) => void,
  ) {
    this.running = { id: container.id, exited: this.follow(), stop: (grace) => this.stop(grace) };
  }

  private async follow(): Promise<ContainerExit> {
    try {
      await this.container.wait();
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
      await Promise.race([this.ended, cut]);
      clearTimeout(timer);
      (this.output as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      this.lines.end();
      const info = await this.container.inspect();
      return { exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
    } catch (err) {
      // The container went away under us (removed by hand): report it as killed.
      this.onError(`follow container ${this.container.id}`, err);
      return { exitCode: 137, oomKilled: false };
    } finally {
      await this.container.remove({ force: true }).catch((err: unknown) => alreadyGoing(err) || this.onError(`remove container ${this.container.id}`, err));
    }
  }

  private async stop(graceSeconds: number): Promise<void> {
    try {
      await this.container.stop({ t: graceSeconds });
    } catch (err) {
      // 304: it had ended already; 404: it is gone.
      if (statusOf(err) !== 304 && statusOf(err) !== 404) this.onError(`stop container ${this.container.id}`, err);
    }
  }
}
