import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { longshoreHome } from '@longshore/config';
import { Code, exitCodeOf, LongshoreError, LogStream } from '@longshore/client';
import type { LocalCluster } from '@longshore/local-cluster';
import { serveConsole } from './console.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { fromCheckout } from './from-checkout.js';
import { untilStopped } from './until-stopped.js';

/** The sample job `up --demo` runs: a few lines over a second and a half, then success. */
export const DEMO_COMMAND = [
  'sh',
  '-c',
  'echo "Hello from Longshore: job $LONGSHORE_JOB_ID on $(hostname)"; for i in 1 2 3; do echo "step $i of 3"; sleep 0.5; done; echo done',
];

function parseAgents(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 32) throw new UsageError(`--agents "${text}": give a whole number from 1 to 32 (e.g. --agents 2)`);
  return n;
}

async function runDemo(cluster: LocalCluster, out: (line: string) => void): Promise<void> {
  // The client (gRPC) is loaded when used, as every command's is (run-cli.ts).
  const { LongshoreClient } = await import('./deferred.js');
  const ls = LongshoreClient.connect({ dispatcher: cluster.dispatcher, registry: cluster.registry, token: cluster.adminToken });
  try {
    const job = await ls.submit({ command: DEMO_COMMAND, labels: { demo: 'true' } });
    out(`demo       submitted job ${job.id}: ${DEMO_COMMAND.join(' ')}`);
    for await (const line of ls.logs(job.id, { follow: true })) {
      if (line.stream !== LogStream.SYSTEM) out(`  | ${line.text}`);
    }
    const done = await ls.getJob(job.id);
    out(`demo       job ${job.id} finished with exit code ${exitCodeOf(done)}`);
  } finally {
    ls.close();
  }
}

/**
 * `longshore up`: the whole cluster in the foreground. Service logs (JSON) go to
 * `$LONGSHORE_HOME/up.log`; the terminal gets one line per step. SIGINT/SIGTERM stop it all.
 */
export function registerUp(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('run a local cluster in the foreground: Redis (if none is reachable), the registry, the dispatcher and agents')
    .option('--agents <n>', 'how many worker agents to run', '1')
    .option('--demo', 'also submit a sample job and show its output')
    .addHelpText(
      'after',
      `
Redis: without LONGSHORE_REDIS_URL, runs its own redis-server on 127.0.0.1 (a free port), with
a generated password and its data in $LONGSHORE_HOME/redis (~/.longshore); its URL, password
included, is kept in $LONGSHORE_HOME/redis-url (0600), where the CLI and services started by
hand find it, and the next "up" reuses it. With LONGSHORE_REDIS_URL, uses that Redis, or starts
redis-server on its port (with the URL's password, if it has one).
The dispatcher listens on LONGSHORE_DISPATCHER (127.0.0.1:7400), the registry on
LONGSHORE_REGISTRY (127.0.0.1:7401), the web console on LONGSHORE_CONSOLE_ADDR (127.0.0.1:7480;
the link printed signs your browser in as the local admin, once). Prometheus metrics of the whole cluster are served at
http://127.0.0.1:9464/metrics (LONGSHORE_METRICS_ADDR sets the address). Ctrl-C stops everything.

Examples:
  $ longshore up --demo
  $ longshore up --agents 3
  # then, in another terminal:
  $ longshore submit --wait -- sh -c 'echo hello; exit 3'`,
    )
    .action(async (opts: { agents: string; demo?: boolean }) => {
      const agents = parseAgents(opts.agents);
      const g = ctx.globals();
      const env: NodeJS.ProcessEnv = { ...ctx.io.env, LONGSHORE_DISPATCHER: g.dispatcher, LONGSHORE_REGISTRY: g.registry };
      const home = longshoreHome(env);
      mkdirSync(home, { recursive: true, mode: 0o700 }); // it will hold the Redis password and credentials
      const logFile = join(home, 'up.log');
      // `default` (module.exports): the bundle's CommonJS interop has no named export for pino.
      const pino = (await import('pino')).default;
      const logger: Logger = pino(
        { level: env['LONGSHORE_LOG_LEVEL'] ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
        pino.destination({ dest: logFile, sync: false }),
      );
      const say = (line: string) => ctx.io.stdout.write(`${line}\n`);
      // Loaded here, not at the top: only `up` needs the servers (registry, dispatcher, agents,
      // executors, BullMQ); every other command starts without them.
      const { startLocalCluster } = await fromCheckout('@longshore/local-cluster', 'up', 'the servers', () => import('@longshore/local-cluster'));
      let cluster: LocalCluster;
      try {
        cluster = await startLocalCluster({ agents, env, logger, say, dataDir: join(home, 'redis') });
      } catch (err) {
        logger.flush();
        throw new LongshoreError(Code.FailedPrecondition, `could not start the local cluster: ${(err as Error).message} (details in ${logFile})`, { cause: err });
      }
      say(`logs       ${logFile}`);
      // The web console, signed in as the local admin by a one-time link (README: "Console").
      const web = await serveConsole({ dispatcher: cluster.dispatcher, registry: cluster.registry, env, logger }).catch(async (err: unknown) => {
        await cluster.close();
        throw err;
      });
      say(`console    ${web.loginLink(cluster.adminToken)}`);
      const stopped = untilStopped(ctx.signals);
      if (opts.demo) await runDemo(cluster, say).catch((err: unknown) => say(`demo       failed: ${(err as Error).message}`));
      say(`\nLongshore is running. In another terminal try:\n  npx longshore submit --wait -- sh -c 'echo hello; exit 3'\nPress Ctrl-C to stop.`);
      await stopped;
      say('stopping…');
      await web.close();
      await cluster.close();
      logger.flush();
      say('stopped');
    });
}
