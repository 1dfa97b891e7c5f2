/**
 * The `longshore` command line: every verb, built with commander on the client SDK. The
 * `services/cli` binary only wires `runCli` to the process; tests drive `buildProgram` with a fake
 * client.
 */
export { runCli } from './run-cli.js';
export { buildProgram } from './program.js';
export type { CliProgram } from './program.js';
export type { CliIO, CliClient, CliContext, CliDeps, GlobalOptions, SignalSource } from './context.js';
export { UsageError, EXIT_USAGE, EXIT_FAILURE } from './errors.js';
