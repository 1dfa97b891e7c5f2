import type { CliDeps, CliIO } from './context.js';
import { lazyClient } from './lazy-client.js';
import { buildProgram } from './program.js';
import { registerUp } from './up.js';

/**
 * Runs the `longshore` command line and resolves with its exit code (never calls `process.exit`):
 *
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin });
 * ```
 *
 * `deps` overrides the seams, e.g. `{ extraCommands }` to add commands; by default it connects
 * with `LongshoreClient.connect`, loaded on the command's first call ({@link lazyClient}).
 */
export function runCli(argv: readonly string[], io: CliIO, deps: Partial<CliDeps> = {}): Promise<number> {
  const extra = deps.extraCommands;
  return buildProgram(io, {
    connect: (opts) => lazyClient(async () => (await import('./deferred.js')).LongshoreClient.connect(opts)),
    ...deps,
    extraCommands: (program, ctx) => {
      registerUp(program, ctx);
      extra?.(program, ctx);
    },
  }).run(argv);
}
