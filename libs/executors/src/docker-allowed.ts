import { realpath } from 'node:fs/promises';
import { describeDockerRefusal, dockerRefusal, mountSourceRefusal, normalisePath, type DockerAllow } from '@longshore/domain';
import type { DockerRunOptions } from './executor.js';
import { StartFailedError } from './start-errors.js';

/**
 * Checks a job's docker options against the agent's allow-list before anything is created, and
 * returns them with each mount's source resolved to its real path (what the engine will bind),
 * checked again: a symlink under an allowed path that points out of it is refused.
 *
 * @throws StartFailedError naming the option, `LONGSHORE_DOCKER_ALLOW` and the entry that would
 *   allow it; or a mount source that does not exist on this agent.
 */
export async function allowedRunOptions(opts: DockerRunOptions, allow: DockerAllow, agentId: string): Promise<DockerRunOptions> {
  const where = `agent ${agentId}`;
  const refusal = dockerRefusal(opts, allow);
  if (refusal) throw new StartFailedError(describeDockerRefusal(refusal, where));
  if (!opts.mounts?.length) return opts;
  const prefixes = await Promise.all(allow.mountPrefixes.map((p) => realpath(p).catch(() => p)));
  const real: DockerAllow = { ...allow, mountPrefixes: prefixes };
  const mounts = await Promise.all(
    opts.mounts.map(async (m, i) => {
      let source: string;
      try {
        source = normalisePath(await realpath(m.source));
      } catch (err) {
        throw new StartFailedError(`docker.mounts[${i}].source: host path ${m.source} cannot be mounted on ${where}: ${(err as Error).message}`);
      }
      const outside = mountSourceRefusal(source, real, i);
      if (outside) {
        throw new StartFailedError(`${describeDockerRefusal({ ...outside, option: `a mount of host path ${m.source} (its real path is ${source})` }, where)}`);
      }
      return { ...m, source };
    }),
  );
  return { ...opts, mounts };
}
