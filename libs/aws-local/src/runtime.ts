/** What one container of a task is run with (task definition and overrides already merged). */
export interface ContainerRunSpec {
  /** `<task id>-<container name>`: the container's name on the engine, unique per task. */
  name: string;
  image: string;
  /** Docker's `Cmd` (ECS `command`); the image's when absent. */
  command?: string[];
  /** Docker's `Entrypoint` (ECS `entryPoint`); the image's when absent. */
  entryPoint?: string[];
  env: Record<string, string>;
  /** Hard memory limit in MiB (no swap beyond it). */
  memoryMiB?: number;
  /** Soft limit in MiB. */
  memoryReservationMiB?: number;
  /** Relative CPU weight in ECS units (1024 per vCPU), as Docker CPU shares. */
  cpuShares?: number;
  /** A hard CPU cap in ECS units (the task's `cpu`), as Docker nano-CPUs. */
  cpuLimitUnits?: number;
  /** `none` (default), `bridge` or `host`. */
  network: 'none' | 'bridge' | 'host';
  workingDirectory?: string;
  user?: string;
  /** Labels that find the container again: the endpoint's and the task's. */
  labels: Record<string, string>;
}

/** How a container ended. */
export interface ContainerExit {
  exitCode: number;
  /** The kernel killed it for exceeding its memory limit (`State.OOMKilled`). */
  oomKilled: boolean;
}

/** A started container. */
export interface RunningContainer {
  readonly id: string;
  /** Resolves once it ended and its output was delivered; it is removed by then. Never rejects. */
  readonly exited: Promise<ContainerExit>;
  /** `docker stop`: SIGTERM, SIGKILL after `graceSeconds`. Resolves when asked (not when ended). */
  stop(graceSeconds: number): Promise<void>;
}

/**
 * The engine the endpoint runs tasks on. {@link createDockerRuntime} is the real one; unit specs
 * use a fake, so the task state machine is checked without an engine.
 */
export interface ContainerRuntime {
  /** Makes `image` present (pulling it when missing); throws with the engine's message when it cannot. */
  ensureImage(image: string): Promise<void>;
  /** Creates and starts a container, its output lines (stdout and stderr) going to `onLine` as they come. */
  start(spec: ContainerRunSpec, onLine: (line: string) => void): Promise<RunningContainer>;
  /** Removes every container of this endpoint that is still there (at shutdown). */
  removeAll(): Promise<void>;
}
