import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ProcessHandle } from './process-handle.js';

/** The services {@link startService} can run. */
export type ServiceName = 'pool-registry' | 'dispatcher' | 'worker-agent';

/** Absolute path of the repository root: the nearest directory above this file holding nx.json. */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Starts one of the repo's services as a real process with cwd = repoRoot: the compiled
 * `node <repoRoot>/services/<service>/dist/main.js` once `npm run build` has run (the tests'
 * global setup builds first, so tests run what users run), else its TypeScript sources through
 * tsx with the "@longshore/source" export condition ({@link serviceCommand}).
 * Its environment is this process's plus `env`, without the inherited `NODE_OPTIONS` and
 * `VITEST*` variables (the test runner's loaders and worker ids must not leak into it); a key
 * given in `env` always wins, and one set to `undefined` is unset.
 * `name` (default: the service) labels its error messages.
 */
export function startService(service: ServiceName, env: NodeJS.ProcessEnv, name: string = service): ProcessHandle {
  return startProcess({ name, command: process.execPath, args: serviceCommand(service), cwd: repoRoot, env: serviceEnv(env) });
}

/** The node arguments that run `service`: its compiled main when built, else its sources through tsx. */
export function serviceCommand(service: ServiceName, root: string = repoRoot): string[] {
  const compiled = join(root, 'services', service, 'dist', 'main.js');
  if (existsSync(compiled)) return [compiled];
  const main = join(root, 'services', service, 'src', 'main.ts');
  if (!existsSync(main)) throw new Error(`service "${service}" has no entry point: neither ${compiled} nor ${main} exists`);
  return ['--conditions=@longshore/source', '--import', 'tsx', main];
}

/** The environment {@link startService} gives a service: `base` filtered, then `env` on top. */
export function serviceEnv(env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (key !== 'NODE_OPTIONS' && !key.startsWith('VITEST')) merged[key] = value;
  }
  return { ...merged, ...env };
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json found in ${start} or any parent directory`);
  }
}
