import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerUnavailableError } from './dockerd.js';
import { freePort } from './free-port.js';
import { startProcess, type ProcessHandle } from './process-handle.js';
import { waitFor } from './wait-for.js';

/** A private image registry on loopback, started by {@link startRegistry}. */
export interface RegistryHandle {
  /** `127.0.0.1:PORT`: prefix image names with it to push and pull (`127.0.0.1:PORT/name:tag`). */
  readonly address: string;
  readonly pid: number;
  /** SIGTERM by pid, SIGKILL after 10 s, then removes its storage. Idempotent. */
  stop(): Promise<void>;
}

const BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 4;

/**
 * Starts Debian's `docker-registry` (distribution 2.x) on a free 127.0.0.1 port, storing blobs
 * in its own temp dir, without auth or TLS: dockerd treats 127.0.0.0/8 registries as insecure
 * by default, so push and pull work with no daemon option. Resolves once `GET /v2/` answers.
 * Throws {@link DockerUnavailableError} when the package is not installed.
 */
export async function startRegistry(): Promise<RegistryHandle> {
  try {
    accessSync(BINARY, constants.X_OK);
  } catch {
    throw new DockerUnavailableError(`${BINARY} not found: run bash scripts/install.sh (it installs docker-registry)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'longshore-registry-'));
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    const config = join(dir, 'config.yml');
    // No health check on storage, no upload purging: nothing runs that the test did not ask for.
    await writeFile(config, [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dir, 'data'))} }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } }`,
      `http: { addr: ${JSON.stringify(address)} }`,
      '',
    ].join('\n'));
    const proc = startProcess({ name: `docker-registry ${address}`, command: BINARY, args: ['serve', config], cwd: dir });
    try {
      await waitFor(
        async () => {
          if (proc.exited) throw new Error('exited');
          return (await fetch(`http://${address}/v2/`)).ok;
        },
        { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: `docker-registry on ${address}` },
      );
      return registry(address, proc, dir);
    } catch (err) {
      await proc.stop(STOP_TIMEOUT_MS).catch(() => undefined);
      lastError = new Error(`docker-registry on ${address} did not start; its output:\n${proc.lines.slice(-30).join('\n') || '(none)'}`, { cause: err });
      if (!proc.lines.some((l) => /address already in use/i.test(l))) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

function registry(address: string, proc: ProcessHandle, dir: string): RegistryHandle {
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    try {
      await proc.stop(STOP_TIMEOUT_MS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return {
    address,
    pid: proc.pid,
    stop: () => (stopping ??= stop()),
  };
}
