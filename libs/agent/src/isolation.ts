import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AgentConfig } from '@longshore/config';
import type { AgentIsolationInfo } from '@longshore/domain';
import {
  buildFirewallRules,
  createUidPool,
  firewallChainName,
  hostPort,
  installJobFirewall,
  iptablesProblem,
  agentCgroupName,
  probeRunCgroups,
  processStartTime,
  redisAddresses,
  resolveFirewallTargets,
  type JobFirewall,
  type RunCgroups,
  type UidPool,
} from '@longshore/executors';
import type { Logger } from '@longshore/telemetry';

/** How this agent isolates its subprocess jobs; `close()` removes its firewall chain. */
export interface JobIsolation {
  /** Set when each job runs as a uid of its own. */
  readonly users?: UidPool;
  /** Set when each subprocess run gets a cgroup of its own (killed whole when the run ends). */
  readonly cgroups?: RunCgroups;
  /** What the agent advertises (`agents ls`). */
  readonly info: AgentIsolationInfo;
  close(): Promise<void>;
}

const UNTRUSTED = 'for untrusted jobs use the docker or ecs executor';

/**
 * Sets up what keeps subprocess jobs from the agent, the control plane and each other, as far as
 * this host and configuration allow, and says loudly what is missing: a uid per job
 * (`LONGSHORE_JOB_UIDS`, root only), a job directory jobs cannot list, and owner-match firewall
 * rules (`LONGSHORE_JOB_FIREWALL`). Throws, naming the variable, when something explicitly asked
 * for cannot be had.
 */
export async function setupJobIsolation(
  config: AgentConfig,
  logger: Logger,
  host: {
    uid?: number;
    /** Redis servers known beyond the URL's own (Cluster nodes, the server Sentinel chose). */
    redisNodes?: { host: string; port: number }[];
    /** Where the run cgroup probe reads mounts and the agent's cgroups (tests point them at fixtures). */
    cgroupPaths?: { mountinfo: string; selfCgroup: string };
  } = {},
): Promise<JobIsolation> {
  const uid = host.uid ?? process.getuid?.() ?? -1;
  const users = await setupUsers(config, logger, uid);
  await prepareJobDir(config.jobDir, users !== undefined);
  const range = users ? `${users.range.first}-${users.range.last}` : '';
  const fw = await setupFirewall(config, users, logger, host.redisNodes ?? []);
  const cg = await setupRunCgroups(config, users !== undefined, logger, host.cgroupPaths);
  const detail = [
    users ? `each job runs as its own uid from ${range} in a private 0700 directory` : `jobs run as the agent's own user (uid ${uid})`,
    fw.detail,
    ...(cg.detail === undefined ? [] : [cg.detail]),
  ].join('; ');
  return {
    ...(users ? { users } : {}),
    ...(cg.cgroups ? { cgroups: cg.cgroups } : {}),
    info: { separateUsers: users !== undefined, jobUids: range, firewall: fw.firewall !== undefined, detail },
    close: async () => {
      await fw.firewall?.close();
      await cg.cgroups?.remove();
    },
  };
}

/**
 * A cgroup per subprocess run, where the agent can make one: it is how every process of a run,
 * also those that left its process group, is killed when the run ends. Where none can be made
 * the agent says so, and what that leaves open. Nothing (no detail) for an agent without the
 * subprocess executor.
 */
async function setupRunCgroups(
  config: AgentConfig,
  separateUsers: boolean,
  logger: Logger,
  paths: { mountinfo: string; selfCgroup: string } | undefined,
): Promise<{ cgroups?: RunCgroups; detail?: string }> {
  if (!config.executors.includes('subprocess')) return {};
  const probe = await probeRunCgroups(agentCgroupName(config.agentId, resolve(config.jobDir)), paths);
  if (probe.usable) {
    const cpu = probe.cgroups.cpuLimits;
    logger.info({ cgroupKind: probe.cgroups.kind, cgroupParent: probe.cgroups.parentDir }, 'each subprocess run gets a cgroup of its own, killed whole when the run ends');
    if (!cpu.enforced) logger.warn({ reason: cpu.reason }, "subprocess jobs' CPU limits (their own, or their weight's share of the pool's standard agent) are not enforced here");
    const cpuDetail = cpu.enforced ? '; CPU limits enforced as CFS quotas' : `; CPU limits not enforced (${cpu.reason})`;
    return { cgroups: probe.cgroups, detail: `each run in a ${probe.cgroups.kind} cgroup of its own, all of whose processes are killed when it ends${cpuDetail}` };
  }
  const left = separateUsers
    ? 'processes a job starts outside its process group (setsid, double fork) are killed with its uid when the run ends'
    : 'processes a job starts outside its process group (setsid, double fork) outlive its run';
  logger.warn({ reason: probe.reason }, `no cgroup per subprocess run: ${left}; run the agent as root on a host with cgroup v1's freezer or cgroup v2 (Linux ≥ 5.14) mounted`);
  return { detail: `no cgroup per run (${probe.reason}): ${left}` };
}

async function setupUsers(config: AgentConfig, logger: Logger, agentUid: number): Promise<UidPool | undefined> {
  const uids = config.jobUids;
  if (uids === 'off') {
    logger.warn(
      'LONGSHORE_JOB_UIDS=off: subprocess jobs run as the agent\'s own user and can read its environment (Redis URL, tokens, cloud credentials) from /proc, signal it and each other; ' + UNTRUSTED,
    );
    return undefined;
  }
  if (agentUid !== 0) {
    const why = `the agent is not root (uid ${agentUid}), so it cannot run jobs as other users`;
    if (config.jobUidsExplicit) throw new Error(`LONGSHORE_JOB_UIDS=${uids.first}-${uids.last} cannot be honoured: ${why}; run the agent as root or set LONGSHORE_JOB_UIDS=off`);
    logger.warn(
      `${why}: subprocess jobs run as the agent's user and can read its environment (Redis URL, tokens, cloud credentials) from /proc, signal it and each other, and reach Redis and the Longshore API; ${UNTRUSTED}`,
    );
    return undefined;
  }
  return createUidPool({ range: uids, logger });
}

/**
 * The job directory: root-owned and 0711 (jobs can enter their own directory but not list the
 * others), its `.running` notes 0700. With job uids, every parent must let others through.
 */
async function prepareJobDir(jobDir: string, separateUsers: boolean): Promise<void> {
  await mkdir(jobDir, { recursive: true, mode: 0o711 });
  const info = await lstat(jobDir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) {
    throw new Error(`LONGSHORE_JOB_DIR=${jobDir} must be a directory owned by the agent's user (uid ${process.getuid?.()}), not a link or another user's`);
  }
  await chmod(jobDir, 0o711);
  const running = join(jobDir, '.running');
  await mkdir(running, { recursive: true, mode: 0o700 });
  await chmod(running, 0o700);
  if (!separateUsers) return;
  for (let dir = dirname(jobDir); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new Error(`LONGSHORE_JOB_DIR=${jobDir} is under ${dir}, which other users cannot enter, so jobs (running as their own uids) could not reach their directories; choose a directory under one they can pass (e.g. /var/lib/longshore/jobs) or chmod o+x ${dir}`);
    }
    if (dirname(dir) === dir) break;
  }
}

async function setupFirewall(config: AgentConfig, users: UidPool | undefined, logger: Logger, redisNodes: { host: string; port: number }[]): Promise<{ firewall?: JobFirewall; detail: string }> {
  const mode = config.jobFirewall;
  if (mode === 'off') {
    logger.warn(`LONGSHORE_JOB_FIREWALL=off: subprocess jobs can connect to Redis, the Longshore API and the cloud metadata address; ${UNTRUSTED}`);
    return { detail: 'no firewall (LONGSHORE_JOB_FIREWALL=off)' };
  }
  const why = users === undefined ? 'jobs do not run as uids of their own, so owner-match rules cannot tell them from the agent' : await iptablesProblem('iptables');
  if (why !== undefined) {
    if (mode === 'on') throw new Error(`LONGSHORE_JOB_FIREWALL=on cannot be honoured: ${why}; install iptables and run the agent as root with NET_ADMIN, or set LONGSHORE_JOB_FIREWALL=auto`);
    logger.warn({ reason: why }, `no job firewall: subprocess jobs can connect to Redis, the Longshore API and the cloud metadata address; ${UNTRUSTED}`);
    return { detail: `no firewall (${why})` };
  }
  // Every Redis server the agent knows of: the URL's (one server, Cluster seeds or Sentinels) and
  // those found on connecting; each listed once.
  const seen = new Set<string>();
  const redis = [...redisAddresses(config.redisUrl), ...redisNodes].filter((a) => !seen.has(`${a.host}:${a.port}`) && seen.add(`${a.host}:${a.port}`));
  const targets = await resolveFirewallTargets([
    ...redis.map((a) => ({ name: 'redis', ...a })),
    { name: 'registry', ...hostPort(config.registry) },
    { name: 'dispatcher', ...hostPort(config.dispatcher) },
    // The agent's own Prometheus endpoint: what it runs, for whom, is not a job's to read.
    ...(config.metricsAddr ? [{ name: 'metrics', ...hostPort(config.metricsAddr) }] : []),
  ]);
  const chain = firewallChainName(`${config.agentId}|${config.redisUrl}|${config.redisPrefix}`);
  const rules = buildFirewallRules(chain, users!.range, targets, { pid: process.pid, startTime: processStartTime(process.pid) ?? '0' });
  try {
    const firewall = await installJobFirewall(rules, logger);
    const refused = targets.map((t) => `${t.name} ${t.where === 'local' ? `port ${t.port} on this host` : `${[...t.where.v4, ...t.where.v6].join(',')}:${t.port}`}`);
    const detail = `firewall (${firewall.families.join('+')}, chain ${chain}) refuses job uids ${refused.join(', ')} and the metadata address`;
    logger.info({ chain, families: firewall.families, targets }, 'job firewall installed');
    return { firewall, detail };
  } catch (err) {
    if (mode === 'on') throw new Error(`LONGSHORE_JOB_FIREWALL=on: could not install the job firewall: ${(err as Error).message}`, { cause: err });
    logger.warn({ err }, `could not install the job firewall: subprocess jobs can connect to Redis, the Longshore API and the cloud metadata address; ${UNTRUSTED}`);
    return { detail: `no firewall (installing it failed: ${(err as Error).message})` };
  }
}
