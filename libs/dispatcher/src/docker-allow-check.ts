import {
  InvalidArgumentError,
  NOTHING_ALLOWED,
  dockerRefusal,
  executorsOf,
  parseDockerAllow,
  type AgentView,
  type DockerAllow,
  type DockerRefusal,
  type JobSpec,
} from '@longshore/domain';

/** The agents of one pool as the registry stored them, with `lost` computed. */
export type PoolAgents = (pool: string) => Promise<readonly AgentView[]>;

/**
 * Refuses at submit a docker job needing an option (privileged, host namespaces, a network,
 * capabilities, devices, host mounts) that no live docker agent of its pool allows
 * (`LONGSHORE_DOCKER_ALLOW`, which agents advertise with each heartbeat). A pool without any
 * live docker agent accepts it: agents may join later, and one that does not allow the option
 * ends the attempt `start_failed`. The agents of a pool are read once per request (one batch).
 */
export class DockerAllowCheck {
  private readonly allows = new Map<string, Promise<PoolDockerAgent[]>>();

  constructor(private readonly agents: PoolAgents) {}

  /** @throws InvalidArgumentError naming the option's field, the agents' lists and the entry that would allow it. */
  async check(spec: JobSpec, pool: string): Promise<void> {
    const wanted = executorsOf(spec);
    if (!spec.docker || !wanted?.includes('docker')) return;
    // Only options beyond the secure defaults need an agent's allowance.
    if (dockerRefusal(spec.docker, NOTHING_ALLOWED) === undefined) return;
    const agents = await this.dockerAgents(pool);
    if (agents.length === 0) return;
    let first: { id: string; refusal: DockerRefusal } | undefined;
    for (const a of agents) {
      // An agent newer than this dispatcher may allow what this one cannot read: it decides at start.
      if (!a.allow) return;
      const refusal = dockerRefusal(spec.docker, a.allow);
      if (!refusal) return;
      first ??= { id: a.id, refusal };
    }
    const { refusal } = first!;
    const lists = agents.map((a) => `${a.id}: ${a.allow?.text ? `"${a.allow.text}"` : 'nothing'}`).join('; ');
    throw new InvalidArgumentError(
      refusal.field,
      `${refusal.option} is not allowed by any live docker agent of pool "${pool}" (their LONGSHORE_DOCKER_ALLOW: ${lists}): drop the option, or have an agent of the pool allow it with the entry "${refusal.needs}"`,
    );
  }

  /** The live (active) agents of `pool` that have a docker executor, each with its allow-list. */
  private dockerAgents(pool: string): Promise<PoolDockerAgent[]> {
    let found = this.allows.get(pool);
    if (!found) {
      found = this.agents(pool).then((list) =>
        list
          .filter((a) => a.effectiveState === 'active' && a.executors.includes('docker') && a.executorHealth?.find((h) => h.executor === 'docker')?.healthy !== false)
          .map((a) => ({ id: a.id, allow: readAllow(a.dockerAllow ?? '') })),
      );
      this.allows.set(pool, found);
    }
    return found;
  }
}

/** A live docker agent of a pool and its allow-list (undefined: one this dispatcher cannot read). */
interface PoolDockerAgent {
  id: string;
  allow: DockerAllow | undefined;
}

function readAllow(text: string): DockerAllow | undefined {
  try {
    return parseDockerAllow(text);
  } catch {
    return undefined;
  }
}
