import { execFile } from 'node:child_process';
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
  /** A credential helper for every registry (`docker-credential-<credsStore>`). */
  credsStore?: string;
  /** A credential helper per registry host, over `credsStore` (e.g. `{"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}`). */
  credHelpers?: Record<string, string>;
}

/** Runs a credential helper's `get` for a server URL: its JSON answer, or undefined when it has none. */
export type CredentialHelperRunner = (helper: string, serverUrl: string) => Promise<{ ServerURL?: string; Username?: string; Secret?: string } | undefined>;

const HELPER_TIMEOUT_MS = 30_000;

/**
 * Runs `docker-credential-<helper> get` (found on the agent's PATH) as the docker CLI does: the
 * server URL on stdin, JSON on stdout. "credentials not found" is no credentials, not an error.
 */
export const runCredentialHelper: CredentialHelperRunner = (helper, serverUrl) =>
  new Promise((resolve, reject) => {
    const bin = `docker-credential-${helper}`;
    const child = execFile(bin, ['get'], { timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        const said = String(stdout).trim();
        if (/credentials not found/i.test(said)) return resolve(undefined);
        return reject(new Error(`the docker credential helper ${bin} failed for ${serverUrl}: ${said || err.message}`));
      }
      try {
        resolve(JSON.parse(stdout) as { ServerURL?: string; Username?: string; Secret?: string });
      } catch {
        reject(new Error(`the docker credential helper ${bin} did not answer JSON for ${serverUrl}`));
      }
    });
    // A helper that exits without reading (or is missing) breaks the pipe: its exit says why.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(serverUrl);
  });

/** The helper the config names for `registry`: its per-registry helper, else its `credsStore`. */
function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  const own = Object.entries(config.credHelpers ?? {}).find(([key]) => registryOfKey(key) === registry);
  return own?.[1] ?? (config.credsStore || undefined);
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
 * registry, or undefined. As the docker CLI: a credential helper named for the registry
 * (`credHelpers`), else the `credsStore` helper, else the file's own `auths`. Helpers run with
 * the agent's environment (an ECR helper takes its AWS credentials from there).
 *
 * @throws Error naming the file when it cannot be read or is not JSON, or the helper when it fails.
 */
export async function readRegistryAuth(dir: string, image: string, runHelper: CredentialHelperRunner = runCredentialHelper): Promise<RegistryAuth | undefined> {
  const path = join(dir, 'config.json');
  let config: DockerConfigFile;
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as DockerConfigFile;
  } catch (err) {
    throw new Error(`cannot read the registry credentials in ${path} (DOCKER_CONFIG): ${(err as Error).message}`);
  }
  const registry = registryOfImage(image);
  const helper = helperFor(config, registry);
  if (helper === undefined) return registryAuthFor(config, image);
  // Docker Hub's credentials are stored under its v1 URL, as `docker login` stores them.
  const serverUrl = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  const got = await runHelper(helper, serverUrl);
  if (!got?.Secret) return undefined;
  // A username of "<token>" marks an identity token (OAuth refresh token), as the CLI reads it.
  return got.Username === '<token>' ? { identitytoken: got.Secret, serveraddress: serverUrl } : { username: got.Username ?? '', password: got.Secret, serveraddress: serverUrl };
}
