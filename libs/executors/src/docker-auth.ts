import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The credentials a pull sends (dockerode's `authconfig`). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** The part of a docker CLI `config.json` that holds registry credentials. */
export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
}

const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * The registry an image reference is pulled from: its first path component when that names a
 * host (has a `.` or a `:`, or is `localhost`), else Docker Hub (`docker.io`), as the docker CLI
 * reads references: `busybox:1` and `team/tool` → docker.io; `registry.example:5000/team/tool`
 * → registry.example:5000.
 */
export function registryOfImage(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return DOCKER_HUB;
  return HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first.toLowerCase();
}

/** An `auths` key as a registry host: without scheme and path (`https://index.docker.io/v1/` → docker.io). */
function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/**
 * The credentials `config` holds for the registry of `image`, or undefined (pull without). An
 * entry's `auth` is base64 of `user:password`, as `docker login` writes it.
 *
 * @throws Error when the matching entry's `auth` is not base64 of `user:password`.
 */
export function registryAuthFor(config: DockerConfigFile, image: string): RegistryAuth | undefined {
  const registry = registryOfImage(image);
  const found = Object.entries(config.auths ?? {}).find(([key]) => registryOfKey(key) === registry);
  if (!found) return undefined;
  const [key, entry] = found;
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: key };
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 1) throw new Error(`the "auth" of registry "${key}" in the docker config is not base64 of user:password (log in again with docker login)`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress: key };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password, serveraddress: key };
  return undefined;
}

/**
 * Reads `<dir>/config.json` (the agent's `DOCKER_CONFIG`, as the docker CLI uses it) at each
 * pull, so credentials rotated there apply to the next pull; the credentials for `image`'s
 * registry, or undefined. Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 *
 * @throws Error naming the file when it cannot be read or is not JSON.
 */
export async function readRegistryAuth(dir: string, image: string): Promise<RegistryAuth | undefined> {
  const path = join(dir, 'config.json');
  let config: DockerConfigFile;
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as DockerConfigFile;
  } catch (err) {
    throw new Error(`cannot read the registry credentials in ${path} (DOCKER_CONFIG): ${(err as Error).message}`);
  }
  return registryAuthFor(config, image);
}
