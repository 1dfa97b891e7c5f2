import type { Command } from 'commander';
import { formatAclCommand, poolAgentAcl } from '@longshore/store';
import { PoolSchema, type Executor, type Pool } from '@longshore/client';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { examples } from './examples.js';
import { executorsArg, milliArg, nameArg, secretsArg, standardArg } from './option-parsers.js';
import { writeMessagesJson } from './output.js';
import { renderPool, renderPoolTable } from './pool-view.js';

interface PoolFlags {
  description?: string;
  defaultWeight?: number;
  maxWeight?: number;
  executors?: Executor[];
  standard?: { cpusMilli: number; memoryBytes: bigint };
  secrets?: string[];
  default?: boolean;
}

/** Prints a pool as JSON under --json, else the one-line `summary`. */
function printPool(ctx: CliContext, cmd: Command, pool: Pool | undefined, summary: string): void {
  if (ctx.json(cmd) && pool) writeMessagesJson(ctx.io.stdout, PoolSchema, pool);
  else ctx.io.stdout.write(`${summary}\n`);
}

/** The UpdatePool request for the flags given, with `update_mask` naming exactly those fields. */
export function updateRequest(id: string, flags: PoolFlags) {
  const mask: string[] = [];
  if (flags.description !== undefined) mask.push('description');
  if (flags.defaultWeight !== undefined) mask.push('default_weight_milli');
  if (flags.maxWeight !== undefined) mask.push('max_weight_milli');
  if (flags.executors !== undefined) mask.push('executors');
  if (flags.standard !== undefined) mask.push('standard');
  if (flags.secrets !== undefined) mask.push('secrets');
  if (mask.length === 0) {
    throw new UsageError(`say what to change: --description, --default-weight, --max-weight, --executors, --standard or --secrets (e.g. longshore pools update ${id} --default-weight 0.5)`);
  }
  return {
    id,
    description: flags.description ?? '',
    defaultWeightMilli: flags.defaultWeight ?? 0,
    maxWeightMilli: flags.maxWeight ?? 0,
    executors: flags.executors ?? [],
    ...(flags.standard ? { standard: flags.standard } : {}),
    ...(flags.secrets ? { secrets: flags.secrets } : {}),
    updateMask: mask,
  };
}

/** The options of a pool's fields, as `create` (with their defaults) and `update` (only those given change) take them. */
function poolFieldOptions(cmd: Command, use: 'create' | 'update'): Command {
  const creating = use === 'create';
  return cmd
    .option('--description <text>', 'what the pool is for')
    .option('--default-weight <w>', `weight of jobs that set none${creating ? ' (default 0.25)' : ''}`, milliArg)
    .option('--max-weight <w>', `heaviest job the pool accepts${creating ? ' (default 1)' : ''}`, milliArg)
    .option('--executors <list>', `executors its jobs may use, e.g. docker,subprocess${creating ? ' (default: all)' : ''}`, executorsArg)
    .option(
      '--standard <spec>',
      `what a standard agent (weight 1) is, e.g. cpus=2,memory=4Gi${creating ? '' : ', or none'}: a job of weight w that sets no limits runs with w times these, enforced`,
      standardArg,
    )
    .option('--secrets <list>', `secret names its jobs may reference, * matching any run of name characters, e.g. 'ingest_*,DB_PASSWORD'${creating ? ' (default: any)' : ', or none for any'}`, secretsArg);
}

function registerCreate(pools: Command, ctx: CliContext): void {
  poolFieldOptions(pools.command('create').description('create a pool').argument('<id>', 'pool id: a lowercase DNS label, e.g. ingest-eu', nameArg), 'create')
    .option('--default', 'make it the default pool')
    .option('--json', 'print the pool as protobuf JSON')
    .addHelpText('after', examples('longshore pools create ingest-eu --description "EU ingestion" --default-weight 0.25 --max-weight 1', 'longshore pools create etl --standard cpus=2,memory=4Gi'))
    .action(async (id: string, flags: PoolFlags, cmd: Command) => {
      const { pool } = await ctx.client().registry.createPool({
        id,
        description: flags.description ?? '',
        defaultWeightMilli: flags.defaultWeight ?? 0,
        maxWeightMilli: flags.maxWeight ?? 0,
        executors: flags.executors ?? [],
        ...(flags.standard ? { standard: flags.standard } : {}),
        ...(flags.secrets ? { secrets: flags.secrets } : {}),
        makeDefault: flags.default ?? false,
      });
      printPool(ctx, cmd, pool, `created pool ${id}${pool?.isDefault ? ' (the default pool)' : ''}`);
    });
}

function registerChanges(pools: Command, ctx: CliContext): void {
  poolFieldOptions(pools.command('update').description('change a pool: only the fields given are changed').argument('<id>', 'pool id'), 'update')
    .option('--json', 'print the pool as protobuf JSON')
    .addHelpText('after', examples('longshore pools update ingest-eu --default-weight 0.5', 'longshore pools update ingest-eu --executors docker', 'longshore pools update ingest-eu --standard cpus=4,memory=8Gi', "longshore pools update ingest-eu --secrets 'ingest_*,DB_PASSWORD'", 'longshore pools update ingest-eu --description "EU ingestion, 8 GiB hosts"'))
    .action(async (id: string, flags: PoolFlags, cmd: Command) => {
      const { pool } = await ctx.client().registry.updatePool(updateRequest(id, flags));
      printPool(ctx, cmd, pool, `updated pool ${id}`);
    });

  pools
    .command('delete')
    .description('delete a pool (not the default pool)')
    .argument('<id>', 'pool id')
    .option('--force', 'cancel its queued jobs instead of refusing')
    .addHelpText('after', examples('longshore pools delete ingest-eu', 'longshore pools delete ingest-eu --force'))
    .action(async (id: string, flags: { force?: boolean }) => {
      const { cancelledJobs } = await ctx.client().registry.deletePool({ id, force: flags.force ?? false });
      ctx.io.stdout.write(`deleted pool ${id}${cancelledJobs > 0n ? ` (cancelled ${cancelledJobs} queued jobs)` : ''}\n`);
    });

  pools
    .command('set-default')
    .description('make a pool the default (jobs that name no pool go there)')
    .argument('<id>', 'pool id')
    .option('--json', 'print the pool as protobuf JSON')
    .addHelpText('after', examples('longshore pools set-default ingest-eu'))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { pool } = await ctx.client().registry.setDefaultPool({ id });
      printPool(ctx, cmd, pool, `default pool is now ${id}`);
    });
}

/** Registers `longshore pools create|ls|get|update|delete|set-default`. */
export function registerPools(program: Command, ctx: CliContext): void {
  const pools = program.command('pools').description('manage pools: named groups of agents and their queue');
  registerCreate(pools, ctx);

  pools
    .command('ls')
    .description('list pools with their live status')
    .option('--json', 'print the pools as a JSON array')
    .addHelpText('after', examples('longshore pools ls', 'longshore pools ls --json | jq -r ".[].id"'))
    .action(async (_flags: unknown, cmd: Command) => {
      const { pools: list } = await ctx.client().registry.listPools({});
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, PoolSchema, list);
      else ctx.io.stdout.write(renderPoolTable(list));
    });

  pools
    .command('get')
    .description('show a pool and its status')
    .argument('<id>', 'pool id')
    .option('--json', 'print the pool as protobuf JSON')
    .addHelpText('after', examples('longshore pools get default'))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { pool } = await ctx.client().registry.getPool({ id });
      if (!pool) return;
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, PoolSchema, pool);
      else ctx.io.stdout.write(renderPool(pool, ctx.now()));
    });

  registerChanges(pools, ctx);

  pools
    .command('acl')
    .description("print the Redis ACL user for one pool's agents: its own keys and channels only (Redis ≥ 7)")
    .argument('<id>', 'pool id')
    .option('--user <name>', 'ACL user name (default longshore-agent-POOL)')
    .option('--prefix <prefix>', 'key prefix the cluster uses (default $LONGSHORE_REDIS_PREFIX or ls)')
    .addHelpText(
      'after',
      `${examples('longshore pools acl ingest-eu', 'longshore pools acl ingest-eu | grep "^ACL" | redis-cli -u "$ADMIN_REDIS_URL"')}
An agent of the pool then runs with LONGSHORE_REDIS_URL=redis://USER:PASSWORD@HOST:PORT and can
neither read nor claim other pools' jobs, records or logs. A fresh password is generated each time.`,
    )
    .action(async (id: string, flags: { user?: string; prefix?: string }) => {
      const pool = nameArg(id);
      // The pool must exist (and the caller may see it) before access to it is handed out.
      await ctx.client().registry.getPool({ id: pool });
      const prefix = flags.prefix ?? ctx.io.env['LONGSHORE_REDIS_PREFIX'] ?? 'ls';
      const user = flags.user ?? `longshore-agent-${pool}`;
      const { randomBytes } = await import('node:crypto'); // not loaded by every command's start
      const password = randomBytes(24).toString('base64url');
      ctx.io.stdout.write(
        `# Redis ACL user for the agents of pool ${pool}; run this line on your Redis (redis-cli):\n` +
          `${formatAclCommand(poolAgentAcl(prefix, pool, user, password))}\n` +
          `# then start the pool's agents with:\n` +
          `# LONGSHORE_REDIS_URL=redis://${user}:${password}@HOST:PORT LONGSHORE_POOL=${pool}\n`,
      );
    });
}
