/**
 * `@longshore/testing/vitest`: helpers that only work inside a vitest run (they read what the
 * globalSetup in vitest.config.ts provides). Kept off the main entry, which benchmarks and
 * scripts import outside vitest.
 */
export { describeDocker, requireDocker } from './docker-engine.js';
export type { DockerTestEngine } from './docker-engine.js';
