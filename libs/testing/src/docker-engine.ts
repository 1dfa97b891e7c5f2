import { request } from 'node:http';
import type Docker from 'dockerode';
import { describe, inject, it } from 'vitest';

declare module 'vitest' {
  interface ProvidedContext {
    /** The unix socket of the Docker engine broker (libs/testing/src/docker-global-setup.ts). */
    longshoreDockerBroker: string;
  }
}

/** What the broker answers: the engine, or why there is none. */
export type BrokerReply =
  | { kind: 'ready'; host: string; socketPath: string; image: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'failed'; message: string };

/** The run's private Docker engine, as a test file sees it. */
export interface DockerTestEngine {
  /** `unix:///…`: DOCKER_HOST for anything the test starts. */
  readonly host: string;
  readonly socketPath: string;
  /** A client of it. */
  readonly docker: Docker;
  /** A busybox image present in it ({@link TEST_IMAGE}); tests may run it, never remove it. */
  readonly image: string;
}

/** The engine may be starting for another file already: dockerd, then the test image. */
const BROKER_TIMEOUT_MS = 180_000;
const FIX = 'run `bash scripts/install.sh` as root (it installs docker.io, busybox-static and docker-registry) and run the tests as root';

let engine: Promise<DockerTestEngine | { unavailable: string }> | undefined;

/**
 * The run's one private Docker engine (started on the first call of the run, by vitest's
 * globalSetup): resolves with it, or — only outside CI, when no engine can be started here (no
 * dockerd, not root) — with `undefined` after printing a loud warning that says why and how to
 * fix it. Under CI=true that case rejects instead: CI must never skip Docker tests. A dockerd
 * that is there but fails to start rejects everywhere, with its output.
 */
export async function requireDocker(): Promise<DockerTestEngine | undefined> {
  const got = await dockerEngine();
  return 'unavailable' in got ? undefined : got;
}

/**
 * `describe(name, fn)` when the run's Docker engine is there (see {@link requireDocker}), with
 * the engine; otherwise one skipped test whose name says why (and CI=true fails the file).
 * Its containers are the suite's to remove (e.g. in afterAll); the engine is shared by the run.
 */
export function describeDocker(name: string, fn: (engine: DockerTestEngine) => void): void {
  // Vitest awaits an async suite factory while collecting, before any test of the file runs.
  describe(name, async () => {
    const got = await dockerEngine();
    if ('unavailable' in got) it.skip(`needs a Docker engine: ${got.unavailable}`, () => {});
    else fn(got);
  });
}

function dockerEngine(): Promise<DockerTestEngine | { unavailable: string }> {
  engine ??= askBroker().then(async (reply) => toEngine(reply, (await import('dockerode')).default));
  return engine;
}

/**
 * The broker's reply as a test file sees it: the engine; `{ unavailable }` after a loud warning
 * (outside CI only); or a throw. Exported for its spec; `env` is a seam for it.
 */
export function toEngine(reply: BrokerReply, Dockerode: typeof Docker, env: NodeJS.ProcessEnv = process.env): DockerTestEngine | { unavailable: string } {
  if (reply.kind === 'ready') {
    const { host, socketPath, image } = reply;
    return { host, socketPath, image, docker: new Dockerode({ socketPath }) };
  }
  if (reply.kind === 'failed') throw new Error(`the private Docker engine for tests failed to start: ${reply.message}`);
  if (env['CI'] === 'true') {
    throw new Error(`Docker tests cannot run: ${reply.reason}. Under CI=true they fail rather than skip: ${FIX}.`);
  }
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!!! SKIPPING Docker tests: ${reply.reason}\n!!! To run them: ${FIX}.\n!!! (Under CI=true these tests fail instead of skipping.)\n${bar}\n`);
  return { unavailable: reply.reason };
}

function askBroker(): Promise<BrokerReply> {
  const socketPath = inject('longshoreDockerBroker');
  if (!socketPath) {
    return Promise.reject(new Error('no Docker engine broker: run Docker tests through vitest.config.ts, whose globalSetup (libs/testing/src/docker-global-setup.ts) provides it'));
  }
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/engine', timeout: BROKER_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as BrokerReply);
        } catch (err) {
          reject(new Error(`the Docker engine broker answered ${res.statusCode}: ${body.slice(0, 200)}`, { cause: err }));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`the Docker engine broker did not answer within ${BROKER_TIMEOUT_MS}ms`)));
    req.on('error', reject);
    req.end();
  });
}
