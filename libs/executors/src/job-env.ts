/** Variables a job inherits from the agent unless the agent is configured otherwise. */
export const DEFAULT_INHERIT_NAMES: readonly string[] = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/** The `PATH` a job gets when neither the agent nor the job sets one. */
export const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What {@link buildJobEnv} needs. */
export interface BuildJobEnvOptions {
  /** The agent's environment, usually `process.env`. */
  inherit: NodeJS.ProcessEnv;
  /** Names copied from `inherit` when set there; default {@link DEFAULT_INHERIT_NAMES}. */
  inheritNames?: string[];
  /** The job's own variables; they win over inherited ones. */
  jobEnv: Record<string, string>;
  jobId: string;
  attempt: number;
  /**
   * The run's private directory (`RunRequest.privateDir`): `HOME` is set to it and `TMPDIR` to
   * its `tmp`, replacing the agent's own values (a job's own variables still win).
   */
  privateDir?: string;
  /** The attempt span's W3C trace context: set as `TRACEPARENT` so the job's own code can join its trace. */
  traceparent?: string;
}

/** The `TMPDIR` of a job whose private directory is `privateDir`. */
export function privateTmpDir(privateDir: string): string {
  return `${privateDir}/tmp`;
}

/**
 * Builds the complete environment of a job's process. The agent's environment may hold secrets
 * and `LONGSHORE_*` settings, so only an allow-list of names is inherited; the job's variables go
 * on top, and `LONGSHORE_JOB_ID` / `LONGSHORE_ATTEMPT` (and `TRACEPARENT` when the attempt is
 * traced) last, so a job cannot spoof them.
 */
export function buildJobEnv(opts: BuildJobEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of opts.inheritNames ?? DEFAULT_INHERIT_NAMES) {
    const value = opts.inherit[name];
    if (value !== undefined) env[name] = value;
  }
  if (opts.privateDir !== undefined) {
    env['HOME'] = opts.privateDir;
    env['TMPDIR'] = privateTmpDir(opts.privateDir);
  }
  Object.assign(env, opts.jobEnv);
  env['LONGSHORE_JOB_ID'] = opts.jobId;
  env['LONGSHORE_ATTEMPT'] = String(opts.attempt);
  if (opts.traceparent) env['TRACEPARENT'] = opts.traceparent;
  env['PATH'] ??= FALLBACK_PATH;
  return env;
}
