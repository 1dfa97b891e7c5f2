import type { Command } from 'commander';
import type { ClientOptions, LongshoreClient } from '@longshore/client';

/** Where the CLI reads and writes; `process.*` in production, buffers in tests. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Needed only by `submit --file -`. */
  stdin?: NodeJS.ReadableStream;
}

/** The part of {@link LongshoreClient} the commands use; a fake implements just this. */
export type CliClient = Pick<LongshoreClient, 'dispatcher' | 'registry' | 'tokens' | 'submit' | 'submitBatch' | 'getJob' | 'logs' | 'waitForJob' | 'close'>;

/** Where SIGINT handlers go while `submit --wait` waits (`process` unless a test injects one). */
export interface SignalSource {
  once(event: 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGINT', listener: () => void): unknown;
}

/** The root options every command sees. */
export interface GlobalOptions {
  /** host:port of the dispatcher. */
  dispatcher: string;
  /** host:port of the pool registry. */
  registry: string;
  /** Machine output (protobuf JSON) instead of tables. */
  json: boolean;
}

/**
 * What a command's action gets besides its arguments. Commands added through
 * {@link CliDeps.extraCommands} (such as `up`) use the same context.
 */
export interface CliContext {
  readonly io: CliIO;
  readonly signals: SignalSource;
  /** Milliseconds since the epoch; injected so "2s ago" can be tested. */
  now(): number;
  /** The root options as parsed; valid inside an action. */
  globals(): GlobalOptions;
  /** Whether `--json` was given, on `cmd` itself or on the root. */
  json(cmd: Command): boolean;
  /** A client for the addresses in {@link globals}; opened on first use, closed when the run ends. */
  client(): CliClient;
  /** Sets the exit code `runCli` returns once the action has finished (default 0). */
  setExitCode(code: number): void;
}

/** Seams for `buildProgram`: how to open a client, extra commands, and (for tests) signals and the clock. */
export interface CliDeps {
  /** Opens a client; `LongshoreClient.connect` in production. */
  connect: (opts: ClientOptions) => CliClient;
  /**
   * Called once after the built-in commands are registered, to add more (e.g. `up`). Create them
   * with `program.command(name)` so they inherit the output routing and error handling.
   */
  extraCommands?: (program: Command, ctx: CliContext) => void;
  /** Defaults to `process`. */
  signals?: SignalSource;
  /** Defaults to `Date.now`. */
  now?: () => number;
}
