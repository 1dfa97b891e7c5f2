import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { fromCheckout } from './from-checkout.js';
import { listenArg } from './option-parsers.js';
import { untilStopped } from './until-stopped.js';

const CLUSTER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;

function collectCluster(value: string, previous: string[]): string[] {
  if (!CLUSTER_NAME.test(value)) throw new UsageError(`--cluster "${value}": a cluster name has up to 255 letters, numbers, hyphens and underscores`);
  return [...previous, value];
}

/**
 * `longshore dev …`: tools for developing against Longshore. `dev ecs-endpoint` runs the local ECS
 * + CloudWatch Logs endpoint (`@longshore/aws-local`, loaded only when the command runs) in the
 * foreground until SIGINT/SIGTERM, then removes its containers.
 */
export function registerDev(program: Command, ctx: CliContext): void {
  const dev = program.command('dev').description('development tools: local stand-ins for the services Longshore uses');
  dev
    .command('ecs-endpoint')
    .description('run a local ECS + CloudWatch Logs endpoint (AWS JSON 1.1) that runs each task as a container on the Docker engine at DOCKER_HOST')
    .option('--listen <host:port>', 'address to listen on (loopback unless --allow-remote)', '127.0.0.1:4566')
    .option('--region <region>', 'region in the ARNs it makes (clients of any region are served)', 'us-east-1')
    .option('--cluster <name>', 'a cluster that exists besides "default" (repeatable); others are ClusterNotFoundException', collectCluster, [])
    .option('--stop-timeout <seconds>', 'docker stop grace for containers whose definition has no stopTimeout', '30')
    .option('--allow-remote', 'listen beyond loopback: it checks no credentials and runs containers for any caller')
    .addHelpText(
      'after',
      `
Point AWS clients at it (one URL serves ECS, CloudWatch Logs and Secrets Manager; any credentials are accepted):
  export AWS_ENDPOINT_URL_ECS=http://127.0.0.1:4566 AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://127.0.0.1:4566 AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4566
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
Tasks run as containers of the engine DOCKER_HOST names (else /var/run/docker.sock), with no
network unless the task definition's networkMode is bridge or host. Faults for tests:
  curl -X POST http://127.0.0.1:4566/_longshore/faults -d '{"runTaskFailures":{"count":2,"reason":"RESOURCE:MEMORY"}}'
  curl http://127.0.0.1:4566/_longshore/stats
Ctrl-C stops it and removes its containers.

Examples:
  $ longshore dev ecs-endpoint
  $ DOCKER_HOST=unix:///run/user/1000/docker.sock longshore dev ecs-endpoint --listen 127.0.0.1:0 --cluster longshore
  $ aws ecs describe-clusters --endpoint-url http://127.0.0.1:4566`,
    )
    .action(async (opts: { listen: string; region: string; cluster: string[]; stopTimeout: string; allowRemote?: boolean }) => {
      const { host, port } = listenArg(opts.listen, '127.0.0.1:4566');
      const stopTimeoutSeconds = Number(opts.stopTimeout);
      if (!/^\d+$/.test(opts.stopTimeout) || stopTimeoutSeconds > 3600) throw new UsageError(`--stop-timeout "${opts.stopTimeout}": give whole seconds from 0 to 3600 (e.g. --stop-timeout 10)`);
      const say = (line: string) => ctx.io.stdout.write(`${line}\n`);
      const { startAwsLocalEndpoint } = await fromCheckout('@longshore/aws-local', 'dev ecs-endpoint', 'the local AWS endpoint', () => import('@longshore/aws-local'));
      const endpoint = await startAwsLocalEndpoint({
        host,
        port,
        region: opts.region,
        clusters: opts.cluster,
        stopTimeoutSeconds,
        allowRemote: opts.allowRemote === true,
        onError: (what, err) => ctx.io.stderr.write(`ecs-endpoint: ${what}: ${(err as Error).message ?? String(err)}\n`),
      });
      say(`local ECS, CloudWatch Logs and Secrets Manager endpoint on ${endpoint.url} (Docker engine: ${ctx.io.env['DOCKER_HOST'] || '/var/run/docker.sock'})`);
      say(`  export AWS_ENDPOINT_URL_ECS=${endpoint.url} AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${endpoint.url} AWS_ENDPOINT_URL_SECRETS_MANAGER=${endpoint.url}`);
      say(`  export AWS_REGION=${opts.region} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`);
      say(`clusters: ${['default', ...opts.cluster].join(', ')}; faults: POST ${endpoint.url}/_longshore/faults; calls: GET ${endpoint.url}/_longshore/stats`);
      say('Press Ctrl-C to stop.');
      await untilStopped(ctx.signals);
      say('stopping: removing the containers of its tasks…');
      await endpoint.close();
      say('stopped');
    });
}
