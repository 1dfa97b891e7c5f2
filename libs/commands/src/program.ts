import { Command } from 'commander';
import { DEFAULT_DISPATCHER, DEFAULT_REGISTRY } from '@longshore/client';
import { registerAgents } from './agents.js';
import { registerDev } from './dev.js';
import type { CliClient, CliContext, CliDeps, CliIO, GlobalOptions } from './context.js';
import { reportError, toUsageError } from './errors.js';
import { examples } from './examples.js';
import { registerJobs } from './jobs.js';
import { registerLogs } from './logs.js';
import { registerPools } from './pools.js';
import { registerSubmit } from './submit.js';
import { registerTokens } from './tokens.js';

/** A built command line: the commander tree, and a one-shot `run`. */
export interface CliProgram {
  /** The commander tree (help text, completion, more commands). */
  readonly program: Command;
  /**
   * Parses `argv` (without node and script), runs the command and returns its exit code: the
   * action's, 0 for help, 2 for usage errors, 1 for errors from the cluster. Never throws; closes
   * the client it opened. Call it once.
   */
  run(argv: readonly string[]): Promise<number>;
}

function ignoreStreamError(): void {}

function columns(stream: NodeJS.WritableStream): number {
  return (stream as { columns?: number }).columns ?? 80;
}

/** Root options, output routing (all through `io`, never colour) and commander's errors as exceptions. */
function configureRoot(program: Command, io: CliIO): void {
  program
    .name('longshore')
    .description('Run jobs on a Longshore cluster: submit them, follow their output, manage pools and agents.')
    .option('--dispatcher <host:port>', 'dispatcher address (env LONGSHORE_DISPATCHER)', io.env['LONGSHORE_DISPATCHER'] || DEFAULT_DISPATCHER)
    .option('--registry <host:port>', 'pool registry address (env LONGSHORE_REGISTRY)', io.env['LONGSHORE_REGISTRY'] || DEFAULT_REGISTRY)
    .option('--json', 'machine-readable output (protobuf JSON) instead of tables')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`longshore: ${s}`),
      getOutHelpWidth: () => columns(io.stdout),
      getErrHelpWidth: () => columns(io.stderr),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      examples(
        'longshore submit --wait -- sh -c "echo hello"',
        'longshore jobs ls --state running',
        'longshore logs -f JOB_ID',
        'longshore pools ls',
        'longshore --dispatcher dispatcher.internal:7400 --registry registry.internal:7401 agents ls',
      ),
    );
}

/**
 * Builds the `longshore` command line on `io`, with every built-in command and then whatever
 * `deps.extraCommands` adds (this is how `longshore up` is attached). Tests pass a fake
 * `deps.connect`; nothing here touches `process` except the default SIGINT source.
 */
export function buildProgram(io: CliIO, deps: CliDeps): CliProgram {
  const program = new Command();
  configureRoot(program, io);
  let exitCode = 0;
  let client: CliClient | undefined;
  const globals = (): GlobalOptions => {
    const o = program.opts<{ dispatcher: string; registry: string; json?: boolean }>();
    return { dispatcher: o.dispatcher, registry: o.registry, json: o.json === true };
  };
  const ctx: CliContext = {
    io,
    signals: deps.signals ?? process,
    now: deps.now ?? Date.now,
    globals,
    json: (cmd) => cmd.opts<{ json?: boolean }>().json === true || globals().json,
    client: () => (client ??= deps.connect({ dispatcher: globals().dispatcher, registry: globals().registry, env: io.env })),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  registerSubmit(program, ctx);
  registerJobs(program, ctx);
  registerLogs(program, ctx);
  registerPools(program, ctx);
  registerAgents(program, ctx);
  registerTokens(program, ctx);
  registerDev(program, ctx);
  deps.extraCommands?.(program, ctx);

  return {
    program,
    async run(argv) {
      // A reader that goes away (`| head`) makes the stream emit EPIPE; without a listener that
      // would crash the process with a stack trace. Swallow it: writeLine then sees the stream
      // closed and stops. Left attached, as the error can arrive after the run has ended.
      for (const stream of [io.stdout, io.stderr]) stream.on('error', ignoreStreamError);
      try {
        await program.parseAsync([...argv], { from: 'user' });
        return exitCode;
      } catch (err) {
        return reportError(toUsageError(err), io, globals());
      } finally {
        client?.close();
      }
    },
  };
}
