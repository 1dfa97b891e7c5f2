import { defineConfig } from 'vitest/config';

// One private Docker engine for the run, started only when a test first asks for it
// (describeDocker / requireDocker from @longshore/testing/vitest), stopped by pid at teardown.
const globalSetup = ['libs/testing/src/docker-global-setup.ts'];

// Two projects: fast unit tests beside the code, and end-to-end tests in test/ that start
// real processes (redis-server, the services) and so run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup,
          include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts'],
          // A sanity bound: specs that start processes take far longer beside a CPU hog.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          globalSetup,
          include: ['test/e2e/**/*.test.ts'],
          // Sanity bounds, not latency checks: a cluster's services compile with tsx as they start,
          // which takes far longer on a loaded machine (the suite must pass beside stress-ng).
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
