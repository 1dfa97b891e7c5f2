import { CommanderError } from 'commander';
import { Code, LongshoreError } from '@longshore/client';
import { ConfigError } from '@longshore/config';
import { InvalidArgumentError } from '@longshore/domain';
import type { CliIO, GlobalOptions } from './context.js';

/** Exit code for a command line the CLI cannot act on (bad flag, missing argument). */
export const EXIT_USAGE = 2;
/** Exit code for a request the cluster refused or could not serve. */
export const EXIT_FAILURE = 1;

/**
 * Thrown when the command line itself is wrong (bad flag value, conflicting flags). `runCli`
 * prints its message and exits 2 with nothing sent to the cluster. The message should name the
 * flag and show a correct example.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit code when our reader went away (`longshore logs -f ID | head`): 128 + SIGPIPE, as shells report it. */
export const EXIT_BROKEN_PIPE = 141;

/** Thrown by writers when stdout or stderr can no longer be written (the reader closed the pipe). */
export class OutputClosedError extends Error {
  override name = 'OutputClosedError';
}

/**
 * A local validation failure (a domain `InvalidArgumentError` thrown by a parser in this process)
 * as a usage error. The server's INVALID_ARGUMENT arrives as a plain `LongshoreError` and stays one.
 */
export function toUsageError(err: unknown): unknown {
  return err instanceof InvalidArgumentError ? new UsageError(err.message, { cause: err }) : err;
}

function unavailableHint(err: LongshoreError, globals: GlobalOptions | undefined): string {
  const registry = globals !== undefined && err.message.includes(globals.registry) && !err.message.includes(globals.dispatcher);
  const flag = registry ? '--registry/LONGSHORE_REGISTRY' : '--dispatcher/LONGSHORE_DISPATCHER';
  return `longshore: hint: is the cluster running? start it with "longshore up", or set ${flag}\n`;
}

/**
 * Turns anything an action threw into an exit code, printing one line (no stack trace) for the
 * errors we expect: commander's own usage errors were already printed by commander.
 */
export function reportError(err: unknown, io: CliIO, globals: GlobalOptions | undefined): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  if (err instanceof OutputClosedError) return EXIT_BROKEN_PIPE;
  if (err instanceof UsageError) {
    io.stderr.write(`longshore: error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    io.stderr.write(`longshore: error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof LongshoreError) {
    io.stderr.write(`longshore: error: ${err.message}\n`);
    if (err.code === Code.Unavailable) io.stderr.write(unavailableHint(err, globals));
    if (err.code === Code.Unauthenticated) io.stderr.write('longshore: hint: set LONGSHORE_TOKEN (longshore up writes a local admin token to $LONGSHORE_HOME/credentials; an admin creates others with longshore tokens create)\n');
    return EXIT_FAILURE;
  }
  // Not one of ours: a bug, so the stack is worth showing.
  io.stderr.write(`longshore: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAILURE;
}
