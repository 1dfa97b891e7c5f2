import { defineConfig } from 'vitest/config';

// One private Docker engine for the run, started only when a test first asks for it
// (describeDocker / requireDocker from @longshore/testing/vitest), stopped by pid at teardown.
// Before that, `npm run build`: tests that start the services and the CLI run the compiled code.
const globalSetup = ['libs/testing/src/build-global-setup.ts', 'libs/testing/src/docker-global-setup.ts'];

// Workspace packages resolve to their TypeScript sources in tests (the "@longshore/source" export
// condition; "default" is the compiled dist/). Vitest also passes these to its workers as --conditions.
// Not "module": Node is given these too, and a package's "module" build (e.g. the AWS SDK's dist-es) is for
// bundlers (extensionless imports).
const ssr = { resolve: { conditions: ['@longshore/source', 'node', 'development|production'] } };

// Two projects: fast unit tests beside the code, and end-to-end tests in test/ that start
// real processes (redis-server, the services) and so run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        ssr,
        test: {
          name: 'unit',
          globalSetup,
          include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts'],
          // A sanity bound: specs that start processes take far longer beside a CPU hog.
          testTimeout: 60_000,
        },
      },
      {
        ssr,
        test: {
          name: 'e2e',
          globalSetup,
          include: ['test/e2e/**/*.test.ts'],
          // Sanity bounds, not latency checks: a cluster's services take far longer to start on a
          // loaded machine (the suite must pass beside stress-ng).
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
