import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { DockerdHandle } from './dockerd.js';
import type { BrokerReply } from './docker-engine.js';

/**
 * Vitest globalSetup (vitest.config.ts): one private Docker engine for the whole run, started
 * only when a test first asks for it ({@link requireDocker}), so a run without Docker tests pays
 * nothing but a unix socket. The engine is started here, in vitest's main process, because test
 * files run in several workers and only this process outlives them all: workers ask for it over
 * a local HTTP socket (`provide` passes only serialisable values, and an engine cannot be
 * started ahead on the chance that one is needed). Teardown stops it by pid.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp('/tmp/lsb-'); // short: a unix socket path must stay under 108 bytes
  const socketPath = join(dir, 'broker.sock');
  let engine: Promise<BrokerReply> | undefined;
  let dockerd: DockerdHandle | undefined;

  const startEngine = async (): Promise<BrokerReply> => {
    // Imported here, not at the top: a run without Docker tests never loads dockerode.
    const { startDockerd, DockerUnavailableError } = await import('./dockerd.js');
    const { buildTestImage, TEST_IMAGE } = await import('./docker-images.js');
    const { default: Docker } = await import('dockerode');
    try {
      const started = Date.now();
      dockerd = await startDockerd();
      const ready = Date.now();
      await buildTestImage(new Docker({ socketPath: dockerd.socketPath }), TEST_IMAGE);
      const built = Date.now();
      process.stderr.write(
        `[longshore] private dockerd (pid ${dockerd.pid}) at ${dockerd.host}: ready in ${ready - started} ms, ` +
          `${TEST_IMAGE} in ${built - ready} ms; it is stopped when the run ends\n`,
      );
      return { kind: 'ready', host: dockerd.host, socketPath: dockerd.socketPath, image: TEST_IMAGE };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return err instanceof DockerUnavailableError ? { kind: 'unavailable', reason: message } : { kind: 'failed', message };
    }
  };

  const server = createServer((_req, res) => {
    engine ??= startEngine();
    void engine.then((reply) => send(res, reply));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  project.provide('longshoreDockerBroker', socketPath);

  return async () => {
    server.close();
    server.closeAllConnections();
    try {
      if (engine) await engine;
      await dockerd?.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function send(res: ServerResponse, reply: BrokerReply): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
}
