import type { Command } from 'commander';
import type { ConsoleServer } from '@longshore/console';
import type { Logger } from '@longshore/telemetry';
import type { CliContext } from './context.js';
import { fromCheckout } from './from-checkout.js';
import { listenArg } from './option-parsers.js';
import { untilStopped } from './until-stopped.js';

/** What {@link serveConsole} needs: the cluster's addresses and where to listen. */
export interface ServeConsoleOptions {
  dispatcher: string;
  registry: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** HOST:PORT; default LONGSHORE_CONSOLE_ADDR, else 127.0.0.1:7480. */
  listen?: string;
}

/**
 * Starts the web console for a cluster (`longshore console`, and `longshore up`). It holds no
 * token: each browser signs in with its own, or with a one-time link from `loginLink`.
 */
export async function serveConsole(opts: ServeConsoleOptions): Promise<ConsoleServer> {
  // The config's schemas (zod), like the console, are loaded by the commands that use them.
  const { loadConsoleConfig } = await import('./deferred-console.js');
  const config = loadConsoleConfig(opts.env);
  // Loaded only here: the console server (and the UI files it serves, built at build time) is not for every command.
  const { startConsoleServer } = await fromCheckout('@longshore/console', 'console', 'the web console', () => import('@longshore/console'));
  return startConsoleServer({ listen: opts.listen ?? config.listen, traceUrl: config.traceUrl, dispatcher: opts.dispatcher, registry: opts.registry, env: opts.env, logger: opts.logger.child({ service: 'console' }) });
}

/** `longshore console`: the web console for the cluster the CLI talks to, in the foreground. */
export function registerConsole(program: Command, ctx: CliContext): void {
  program
    .command('console')
    .description('serve the web console for the cluster at --dispatcher/--registry (pools, agents, jobs with live logs)')
    .option('--listen <addr>', 'HOST:PORT to serve it on (default LONGSHORE_CONSOLE_ADDR, else 127.0.0.1:7480)')
    .addHelpText(
      'after',
      `
The console holds no rights of its own: each browser signs in with a token (longshore tokens
create), and every request goes to the cluster with that token. The link printed signs one
browser tab in as you (the token this CLI uses), once. Off loopback, serve it behind TLS.

Examples:
  $ longshore console
  $ LONGSHORE_DISPATCHER=10.0.0.5:7400 LONGSHORE_REGISTRY=10.0.0.5:7401 longshore console --listen 127.0.0.1:8080`,
    )
    .action(async (opts: { listen?: string }) => {
      if (opts.listen !== undefined) listenArg(opts.listen, '127.0.0.1:7480');
      const g = ctx.globals();
      const env = ctx.io.env;
      const [{ default: pino }, { loadClientSecurity }] = await Promise.all([import('pino'), import('./deferred-console.js')]);
      const logger = pino({ level: env['LONGSHORE_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
      const server = await serveConsole({ dispatcher: g.dispatcher, registry: g.registry, env, logger, ...(opts.listen ? { listen: opts.listen } : {}) });
      const token = loadClientSecurity(env).token;
      ctx.io.stdout.write(`console    ${token ? server.loginLink(token) : server.url}\n${token ? '           (the link signs one browser tab in with your token, once; others sign in with their own)\n' : ''}Press Ctrl-C to stop.\n`);
      await untilStopped(ctx.signals);
      await server.close();
    });
}
