import { stat } from 'node:fs/promises';

/**
 * Checks a job's working directory before spawning: spawn reports a missing cwd as ENOENT,
 * which would read as "command not found". Returns the problem, or undefined when it is usable.
 */
export async function checkWorkingDir(dir: string): Promise<string | undefined> {
  try {
    const info = await stat(dir);
    return info.isDirectory() ? undefined : `working directory "${dir}" is not a directory`;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return `working directory "${dir}" does not exist`;
    return `working directory "${dir}" cannot be used: ${code ?? describe(err)}`;
  }
}

/** Explains why `spawn` could not start `command` (the job never ran), naming what to fix. */
export function describeSpawnError(command: string, env: Record<string, string>, err: unknown): string {
  const code = errnoCode(err);
  if (code === 'ENOENT') {
    // Without a '/', the name was searched on the PATH of the job's environment, not the agent's.
    if (!command.includes('/')) {
      const path = env['PATH'] === undefined ? 'PATH is not set' : env['PATH'];
      return `command "${command}" not found on PATH (${path})`;
    }
    return `command "${command}" not found (no such file, or its #! interpreter is missing)`;
  }
  if (code === 'EACCES') {
    return `command "${command}" is not executable (permission denied: a directory, or a file without the execute bit?)`;
  }
  return `command "${command}" failed to start: ${describe(err)}`;
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
