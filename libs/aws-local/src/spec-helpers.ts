import type { ContainerExit, ContainerRunSpec, ContainerRuntime, RunningContainer } from './runtime.js';

/** A container of {@link FakeRuntime}: the spec it was started with, and levers to end it. */
export class FakeContainer implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  stops: number[] = [];
  private end!: (exit: ContainerExit) => void;

  constructor(
    readonly id: string,
    readonly spec: ContainerRunSpec,
    readonly print: (line: string) => void,
  ) {
    this.exited = new Promise((resolve) => (this.end = resolve));
  }

  /** Ends it as the engine would report. */
  exit(exitCode: number, oomKilled = false): void {
    this.end({ exitCode, oomKilled });
  }

  stop(graceSeconds: number): Promise<void> {
    this.stops.push(graceSeconds);
    this.exit(137);
    return Promise.resolve();
  }
}

/** A runtime without an engine: images are names in a set, containers end when a spec says so. */
export class FakeRuntime implements ContainerRuntime {
  readonly images = new Set<string>();
  readonly started: FakeContainer[] = [];
  /** When set, `start` throws it (as the engine refusing a container). */
  startError: Error | undefined;
  removedAll = 0;

  async ensureImage(image: string): Promise<void> {
    if (!this.images.has(image)) throw new Error(`pull access denied for ${image}, repository does not exist`);
  }

  async start(spec: ContainerRunSpec, onLine: (line: string) => void): Promise<RunningContainer> {
    if (this.startError) throw this.startError;
    const c = new FakeContainer(`fake-${this.started.length + 1}`, spec, onLine);
    this.started.push(c);
    return c;
  }

  async removeAll(): Promise<void> {
    this.removedAll++;
    for (const c of this.started) c.exit(137);
  }
}
