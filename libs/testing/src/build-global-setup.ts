import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './services.js';

const key = Symbol.for('longshore.build');
type WithBuild = typeof globalThis & { [key]?: Promise<void> };

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`npm run build failed (exit ${code ?? signal}): the tests run the compiled services and CLI, fix the errors above`)),
    );
  });
}

/**
 * Vitest globalSetup (vitest.config.ts): `npm run build` before any test, so the tests that start
 * the services and the CLI as processes run the compiled JavaScript (`dist/`) a user runs, and
 * never a stale build. Incremental: a second of tsc when nothing changed. Both projects (unit,
 * e2e) list it; the first one's build serves the whole run.
 */
export default async function setup(): Promise<void> {
  await ((globalThis as WithBuild)[key] ??= build());
}
