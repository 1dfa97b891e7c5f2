/** The shell that runs the wrapper: POSIX guarantees it; the cgroup probe checks it is there. */
export const WRAPPER_SHELL = '/bin/sh';

// Variables a POSIX shell sets itself at start-up whatever its environment says (dash: PWD is
// rewritten or added, IFS, PPID and OPTIND are overwritten), so the wrapper puts the job's own
// values back, or unsets PWD, before it execs the job.
const SHELL_OWNED = ['PWD', 'IFS', 'PPID', 'OPTIND'] as const;

/** The shell variable the gate reads into (restored or unset before the job runs). */
const GATE_VAR = 'longshore_gate';

/** What the wrapper does before it execs the job, on top of raising its `oom_score_adj`. */
export interface WrapOptions {
  /**
   * Wait until the agent has moved the wrapper into the run's cgroup: the wrapper reads one line
   * from fd 3 (a pipe from the agent) and exits with 125, without running the job, when the pipe
   * closes without one. The agent writes the line once the move succeeded.
   */
  gate?: boolean;
}

/**
 * The argv that starts `command` inside the cgroup whose `cgroup.procs` is `procsPath`:
 * `/bin/sh -c <fixed script> longshore-cgroup <procsPath> <restored values…> <command…>`.
 * The shell writes its own pid to `cgroup.procs` (so it, and everything the job forks, is in the
 * cgroup before the job runs), raises its `oom_score_adj` to 1000, and `exec`s the argv. No
 * job data is ever part of the script: paths, values and the job's argv are positional
 * parameters, so nothing is parsed by the shell. If the write fails, the shell exits with its
 * error on stderr and the job never runs. Without `procsPath` nothing is written (the agent
 * moves the wrapper itself, see {@link WrapOptions.gate}).
 *
 * What the job sees is what it would see when spawned directly, with one exception: environment
 * variables whose names are not shell identifiers (`a-b`) are dropped by the shell. Job specs
 * only allow identifiers, so this concerns direct callers of the executor only.
 */
export function wrapInCgroup(procsPath: string | undefined, command: string[], env: Record<string, string>, opts: WrapOptions = {}): string[] {
  const restored = [...SHELL_OWNED, ...(opts.gate ? [GATE_VAR] : [])].filter((name) => env[name] !== undefined);
  const script = [
    ...(opts.gate ? [`read -r ${GATE_VAR} <&3 || exit 125`, 'exec 3<&-'] : []),
    ...(procsPath === undefined ? [] : ['echo $$ > "$1" || exit']),
    '{ echo 1000 > /proc/self/oom_score_adj; } 2>/dev/null',
    ...(env['PWD'] === undefined ? ['unset PWD'] : []),
    ...(opts.gate && env[GATE_VAR] === undefined ? [`unset ${GATE_VAR}`] : []),
    ...restored.map((name, i) => `${name}=$${i + 2}; export ${name}`),
    `shift ${restored.length + 1}`,
    'exec "$@"',
  ].join('\n');
  return [WRAPPER_SHELL, '-c', script, 'longshore-cgroup', procsPath ?? '', ...restored.map((name) => env[name] ?? ''), ...command];
}
