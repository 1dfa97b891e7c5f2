import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { formatBytes, formatDuration } from '@longshore/domain';
import type { Logger } from '@longshore/telemetry';
import type Docker from 'dockerode';
import type { LineSink, OutputStream, RunHandle, RunOutcome } from './executor.js';
import { LineSplitter } from './line-splitter.js';

/** What a container run needs of its executor. */
export interface DockerRunSettings {
  maxLineBytes: number;
  logger: Logger;
}

// After the container exited, how long its output stream may take to end before it is cut.
const STREAM_DRAIN_MS = 5000;

/** An error of the engine's API with its HTTP status (dockerode sets `statusCode`). */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** The engine's own message of an API error (dockerode keeps the reply body in `json`). */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string } | undefined;
  return e?.json?.message ?? e?.message ?? String(err);
}

/**
 * One container run, from a started (or re-attached) container to its removal: delivers its
 * output lines, reads how it ended, removes it, and settles exactly once. `output` is the
 * container's multiplexed attach stream (stdout and stderr frames).
 */
export class DockerRun {
  private readonly result: Promise<RunOutcome>;
  private readonly lines: Record<OutputStream, LineSplitter>;
  private readonly outputEnded: Promise<void>;
  private stopRequested = false;
  private exitedBeforeStop = false;
  private forcedNow = false;
  private graceSeconds = 0;
  private stopCall: Promise<void> = Promise.resolve();
  private runError: Error | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    private readonly output: NodeJS.ReadableStream,
    private readonly onLine: LineSink,
    private readonly what: string,
    private readonly settings: DockerRunSettings,
  ) {
    this.lines = {
      stdout: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stdout', text)),
      stderr: new LineSplitter(settings.maxLineBytes, (text) => this.deliver('stderr', text)),
    };
    this.outputEnded = new Promise((resolve) => {
      output.once('end', resolve);
      output.once('close', resolve);
      // A read error ends the output like EOF does; the exit code still decides the outcome.
      output.once('error', () => resolve());
    });
    docker.modem.demuxStream(output, sink(this.lines.stdout), sink(this.lines.stderr));
    this.result = this.follow();
    this.result.catch(() => undefined); // a holder that never calls wait() must not crash the agent
  }

  get handle(): RunHandle {
    return {
      ref: { kind: 'docker', containerId: this.container.id },
      wait: () => this.result,
      stop: (graceMs) => this.stop(graceMs),
    };
  }

  /** Waits for the container's end, its output delivered, then reads how it ended and removes it. */
  private async follow(): Promise<RunOutcome> {
    try {
      await this.container.wait();
      // A stop asked for only after the container ended does not make it a stopped run.
      const stoppedBeforeEnd = this.stopRequested;
      const drained = await Promise.race([this.outputEnded.then(() => true), delay(STREAM_DRAIN_MS, false, { ref: false })]);
      if (!drained) (this.output as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      this.lines.stdout.end();
      this.lines.stderr.end();
      const info = await this.container.inspect();
      await this.stopCall;
      if (this.runError !== undefined) throw this.runError;
      return this.outcome(info, stoppedBeforeEnd);
    } finally {
      await this.remove();
    }
  }

  private outcome(info: Docker.ContainerInspectInfo, stoppedBeforeEnd: boolean): RunOutcome {
    const exitCode = info.State.ExitCode;
    if (stoppedBeforeEnd && !this.exitedBeforeStop) {
      // Docker stop sends SIGTERM, then SIGKILL after its timeout; 137 = 128 + SIGKILL.
      const killed = exitCode === 137 && this.graceSeconds > 0 && !this.forcedNow;
      return killed ? { kind: 'stopped', detail: `still running ${formatDuration(this.graceSeconds * 1000)} after SIGTERM; killed with SIGKILL` } : { kind: 'stopped' };
    }
    if (info.State.OOMKilled) {
      const limit = info.HostConfig.Memory ? ` of ${formatBytes(info.HostConfig.Memory)}` : '';
      return { kind: 'oom', message: `the kernel killed a process of the job for exceeding its memory limit${limit} (container OOMKilled, exit code ${exitCode})` };
    }
    return { kind: 'exited', exitCode };
  }

  /**
   * `docker stop` with the grace rounded up to whole seconds (the engine's unit): SIGTERM, then
   * SIGKILL; 0 kills at once. A second call can only force it.
   */
  private stop(graceMs: number): Promise<void> {
    if (!Number.isInteger(graceMs) || graceMs < 0) return Promise.reject(new RangeError(`graceMs must be an integer >= 0, got ${graceMs}`));
    const settled = this.result.then(
      () => undefined,
      () => undefined,
    );
    if (!this.stopRequested) {
      this.stopRequested = true;
      this.graceSeconds = Math.ceil(graceMs / 1000);
      this.stopCall = this.container.stop({ t: this.graceSeconds }).then(
        () => undefined,
        (err: unknown) => {
          // 304: it was no longer running, so it ended on its own; 404: it is gone already.
          if (statusOf(err) === 304) this.exitedBeforeStop = true;
          else if (statusOf(err) !== 404) this.settings.logger.warn({ err, container: this.container.id }, `could not stop the container of ${this.what}`);
        },
      );
    } else if (graceMs === 0) {
      this.forcedNow = true;
      this.kill();
    }
    return settled;
  }

  private kill(): void {
    this.container.kill().catch((err: unknown) => {
      // 404: gone; 409: not running any more.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) this.settings.logger.warn({ err, container: this.container.id }, `could not kill the container of ${this.what}`);
    });
  }

  private deliver(stream: OutputStream, text: string): void {
    if (this.runError !== undefined) return;
    try {
      this.onLine(stream, text);
    } catch (error) {
      this.runError = new Error(`onLine threw while ${this.what} was running; the job was stopped`, { cause: error });
      this.forcedNow = true;
      this.kill();
    }
  }

  /** Removes the container whatever happened; no container is left behind by a finished run. */
  private async remove(): Promise<void> {
    try {
      await this.container.remove({ force: true });
    } catch (err) {
      // 404: gone already; 409: a removal is already in progress.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) this.settings.logger.error({ err, container: this.container.id }, `could not remove the container of ${this.what}`);
    }
  }
}

/** A writable that hands every chunk to `lines` at once (demuxStream writes to it synchronously). */
function sink(lines: LineSplitter): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk);
      done();
    },
  });
}
