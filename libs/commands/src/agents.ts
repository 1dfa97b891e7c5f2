import type { Command } from 'commander';
import { AgentSchema, AgentState, Code, Executor, LongshoreError, type Agent } from '@longshore/client';
import { formatMilli } from '@longshore/domain';
import type { CliContext } from './context.js';
import { examples } from './examples.js';
import { age, enumWord, truncate, when } from './format.js';
import { nameArg } from './option-parsers.js';
import { writeMessagesJson } from './output.js';
import { renderFields, renderTable } from './table.js';

/** Lane usage as "ingestion 1/4, monitor 0/10"; a lane without a cap shows its count alone. */
export function lanesText(agent: Pick<Agent, 'laneUsage' | 'laneLimits'>): string {
  const names = [...new Set([...Object.keys(agent.laneLimits), ...Object.keys(agent.laneUsage)])].sort();
  const parts = names.map((name) => {
    const used = agent.laneUsage[name] ?? 0;
    const cap = agent.laneLimits[name];
    return cap === undefined ? `${name} ${used}` : `${name} ${used}/${cap}`;
  });
  return parts.join(', ') || '-';
}

/**
 * How an agent isolates its subprocess jobs, in a word: `uids+fw` (a uid per job and the
 * firewall), `uids`, `fw`, `none`, or `-` when the agent does not say (an older version).
 */
export function isolationText(agent: Pick<Agent, 'isolation'>): string {
  const i = agent.isolation;
  if (!i) return '-';
  const parts = [...(i.separateUsers ? ['uids'] : []), ...(i.firewall ? ['fw'] : [])];
  return parts.join('+') || 'none';
}

/** Longest reason an `agents ls` row shows; `agents get` shows all of it. */
const LS_REASON_MAX = 40;

/**
 * Each of an agent's executors with its state: "subprocess: ok, docker: unreachable (connect
 * ENOENT /var/run/docker.sock)", reasons cut to `reasonMax` characters when given. An older agent
 * that does not report health shows the executors it advertises, "-" when none.
 */
export function executorsText(agent: Pick<Agent, 'executors' | 'executorHealth'>, reasonMax?: number): string {
  if (agent.executorHealth.length === 0) return agent.executors.map((e) => enumWord(Executor, e)).join(', ') || '-';
  return agent.executorHealth
    .map((h) => {
      if (h.healthy) return `${enumWord(Executor, h.executor)}: ok`;
      const reason = h.reason || 'no reason given';
      return `${enumWord(Executor, h.executor)}: unreachable (${reasonMax === undefined ? reason : truncate(reason, reasonMax)})`;
    })
    .join(', ');
}

/** The `longshore agents get` view: everything the registry knows of one agent. */
export function renderAgent(a: Agent, now: number): string {
  const i = a.isolation;
  return renderFields([
    ['id', a.id],
    ['pool', a.pool],
    ['state', enumWord(AgentState, a.state)],
    ['host', a.host || '-'],
    ['version', a.version || '-'],
    ['capacity', formatMilli(a.capacityMilli)],
    ['in use', formatMilli(a.weightInUseMilli)],
    ['running', a.runningJobIds.join(', ') || '-'],
    ['lanes', lanesText(a)],
    ['executors', executorsText(a)],
    ['docker allow', a.dockerAllow || '-'],
    ['isolation', i ? `${isolationText(a)}${i.detail ? ` (${i.detail})` : ''}` : '-'],
    ['labels', Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'],
    ['registered', when(a.registeredAt, now)],
    ['last seen', when(a.lastHeartbeat, now)],
  ]);
}

/** The `longshore agents ls` table. */
export function renderAgentTable(agents: readonly Agent[], now: number): string {
  const rows = agents.map((a) => [
    a.id,
    a.pool,
    enumWord(AgentState, a.state),
    a.host || '-',
    formatMilli(a.capacityMilli),
    formatMilli(a.weightInUseMilli),
    String(a.runningJobIds.length),
    lanesText(a),
    executorsText(a, LS_REASON_MAX),
    isolationText(a),
    a.lastHeartbeat ? `${age(a.lastHeartbeat, now)} ago` : '-',
    a.version || '-',
  ]);
  return renderTable(['ID', 'POOL', 'STATE', 'HOST', 'CAPACITY', 'IN USE', 'RUNNING', 'LANES', 'EXECUTORS', 'ISOLATION', 'LAST SEEN', 'VERSION'], rows);
}

/** Registers `longshore agents ls|get|drain`. */
export function registerAgents(program: Command, ctx: CliContext): void {
  const agents = program.command('agents').description('look at and drain the worker agents');
  agents
    .command('ls')
    .description('list agents with their load, lanes, executors and job isolation (uids: a uid per job; fw: firewall; detail in --json)')
    .option('--pool <pool>', 'only this pool', nameArg)
    .option('--json', 'print the agents as a JSON array')
    .addHelpText('after', examples('longshore agents ls', 'longshore agents ls --pool ingest-eu'))
    .action(async (flags: { pool?: string }, cmd: Command) => {
      const { agents: list } = await ctx.client().registry.listAgents({ pool: flags.pool ?? '' });
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, AgentSchema, list);
      else ctx.io.stdout.write(renderAgentTable(list, ctx.now()));
    });
  agents
    .command('get')
    .description("show one agent: its load, each executor's state with the full reason, its isolation in detail")
    .argument('<id>', 'agent id (see longshore agents ls)')
    .option('--json', 'print the agent as protobuf JSON')
    .addHelpText('after', examples('longshore agents get worker-7'))
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const { agents: list } = await ctx.client().registry.listAgents({ pool: '' });
      const agent = list.find((a) => a.id === id);
      if (!agent) throw new LongshoreError(Code.NotFound, `agent "${id}" is not registered (agents: ${list.map((a) => a.id).join(', ') || 'none'}); see longshore agents ls`);
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, AgentSchema, agent);
      else ctx.io.stdout.write(renderAgent(agent, ctx.now()));
    });
  agents
    .command('drain')
    .description('ask an agent to stop claiming, let its jobs finish within its grace period (LONGSHORE_SHUTDOWN_GRACE), hand back the rest and exit')
    .argument('<id>', 'agent id (see longshore agents ls)')
    .addHelpText('after', examples('longshore agents drain worker-7'))
    .action(async (id: string) => {
      await ctx.client().registry.drainAgent({ id });
      ctx.io.stdout.write(`draining ${id}: from its next heartbeat it takes no new jobs, and it leaves once its jobs are done or handed back\n`);
    });
}
