import { posix } from 'node:path';
import { InvalidArgumentError } from './errors/index.js';
import type { DockerJobOptions } from './model.js';

/**
 * Docker's default capability set minus `NET_RAW` (raw sockets serve ping and packet spoofing,
 * nothing a batch job needs): what every job container gets. Adding one of these is a no-op, so
 * no allow-list entry is needed for it. Source: moby `oci/caps/defaults.go`.
 */
export const DEFAULT_JOB_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** A Docker network name (as `docker network create` accepts them). */
export const DOCKER_NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CAPABILITY = /^(CAP_)?([A-Z][A-Z0-9_]{0,31})$/;

/**
 * What an agent's docker executor lets jobs have beyond the secure defaults
 * (`LONGSHORE_DOCKER_ALLOW`). Everything absent here is refused.
 */
export interface DockerAllow {
  /** Networks a job may name (`bridge` = Docker's default bridge); `none` is always allowed. */
  networks: readonly string[];
  hostNetwork: boolean;
  hostPid: boolean;
  hostIpc: boolean;
  privileged: boolean;
  /** Capabilities a job may add beyond {@link DEFAULT_JOB_CAPABILITIES}, without `CAP_`. */
  capabilities: readonly string[];
  /** Host devices a job may have, exactly. */
  devices: readonly string[];
  /** Host paths a job may mount, each with everything under it (normalised, no trailing slash). */
  mountPrefixes: readonly string[];
  /** The list in its canonical form (entries normalised, in the given order), as advertised. */
  text: string;
}

/** The allow-list of an agent that allows nothing beyond the secure defaults. */
export const NOTHING_ALLOWED: DockerAllow = Object.freeze({
  networks: [],
  hostNetwork: false,
  hostPid: false,
  hostIpc: false,
  privileged: false,
  capabilities: [],
  devices: [],
  mountPrefixes: [],
  text: '',
});

/** A capability name without `CAP_`, upper case; undefined when it is not one. */
export function normaliseCapability(name: string): string | undefined {
  const m = CAPABILITY.exec(name.trim().toUpperCase());
  return m ? m[2] : undefined;
}

/** Why `path` is not a clean absolute path (absolute, no `..`, no NUL), or undefined. */
export function absolutePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path (starting with /)';
  if (path.split('/').includes('..')) return 'must not contain ".." (give the path itself)';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  return undefined;
}

/** `path` normalised: no `.` or doubled slashes, no trailing slash (but `/` stays). */
export function normalisePath(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether `path` is `prefix` or under it (both normalised). */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

const GRAMMAR = 'network=NAME, host-network, host-pid, host-ipc, privileged, cap=CAP, device=/dev/PATH, mount=/HOST/PATH';

/**
 * Parses `LONGSHORE_DOCKER_ALLOW`: comma-separated entries, each one of `network=NAME` (a network
 * jobs may use; `bridge` for Docker's default), `host-network`, `host-pid`, `host-ipc`,
 * `privileged`, `cap=CAP` (with or without `CAP_`), `device=PATH` (under /dev) and
 * `mount=PATH` (a host path jobs may mount, with everything under it). Empty = nothing.
 *
 * @throws InvalidArgumentError (field `''`) naming the bad entry and the grammar.
 */
export function parseDockerAllow(text: string): DockerAllow {
  const networks: string[] = [];
  const capabilities: string[] = [];
  const devices: string[] = [];
  const mountPrefixes: string[] = [];
  const flags = { hostNetwork: false, hostPid: false, hostIpc: false, privileged: false };
  const canonical: string[] = [];
  const bad = (entry: string, why: string) => new InvalidArgumentError('', `entry "${entry}": ${why} (entries: ${GRAMMAR})`);
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq).trim();
    const value = eq < 0 ? undefined : entry.slice(eq + 1).trim();
    const flag = { 'host-network': 'hostNetwork', 'host-pid': 'hostPid', 'host-ipc': 'hostIpc', privileged: 'privileged' }[key] as keyof typeof flags | undefined;
    if (flag) {
      if (value !== undefined) throw bad(entry, `takes no value: write "${key}"`);
      flags[flag] = true;
      canonical.push(key);
      continue;
    }
    if (value === undefined || value === '') throw bad(entry, eq < 0 ? 'not an entry this agent knows' : 'needs a value after "="');
    switch (key) {
      case 'network': {
        if (value === 'host') throw bad(entry, 'to allow the host network, write "host-network"');
        if (!DOCKER_NETWORK_NAME.test(value)) throw bad(entry, 'not a network name (letters, digits, _ . -)');
        networks.push(value);
        canonical.push(`network=${value}`);
        break;
      }
      case 'cap': {
        const cap = normaliseCapability(value);
        if (!cap) throw bad(entry, 'not a capability name (e.g. cap=SYS_PTRACE)');
        capabilities.push(cap);
        canonical.push(`cap=${cap}`);
        break;
      }
      case 'device': {
        const problem = absolutePathProblem(value);
        if (problem) throw bad(entry, `the device path ${problem}`);
        const path = normalisePath(value);
        if (!path.startsWith('/dev/')) throw bad(entry, 'not a device: give a path under /dev (e.g. device=/dev/fuse)');
        devices.push(path);
        canonical.push(`device=${path}`);
        break;
      }
      case 'mount': {
        const problem = absolutePathProblem(value);
        if (problem) throw bad(entry, `the host path ${problem}`);
        const path = normalisePath(value);
        mountPrefixes.push(path);
        canonical.push(`mount=${path}`);
        break;
      }
      default:
        throw bad(entry, 'not an entry this agent knows');
    }
  }
  return { networks, capabilities, devices, mountPrefixes, ...flags, text: canonical.join(',') };
}

/** One option of a job that an allow-list does not allow. */
export interface DockerRefusal {
  /** The spec's field, e.g. `docker.cap_add[0]`. */
  field: string;
  /** The option as a person names it, e.g. `capability SYS_PTRACE`. */
  option: string;
  /** The `LONGSHORE_DOCKER_ALLOW` entry that would allow it, e.g. `cap=SYS_PTRACE`. */
  needs: string;
}

/**
 * The first option of `opts` that `allow` does not allow, or undefined when it allows them all.
 * Mount sources are compared as given, normalised; the executor compares their real path again
 * on the agent ({@link mountSourceRefusal} of the resolved path), so a symlink cannot lead out.
 */
export function dockerRefusal(opts: DockerJobOptions | undefined, allow: DockerAllow): DockerRefusal | undefined {
  if (!opts) return undefined;
  if (opts.privileged && !allow.privileged) return { field: 'docker.privileged', option: 'privileged mode', needs: 'privileged' };
  if (opts.hostPid && !allow.hostPid) return { field: 'docker.host_pid', option: "the host's PID namespace", needs: 'host-pid' };
  if (opts.hostIpc && !allow.hostIpc) return { field: 'docker.host_ipc', option: "the host's IPC namespace", needs: 'host-ipc' };
  const network = opts.network;
  if (network !== undefined && network !== '' && network !== 'none') {
    if (network === 'host') {
      if (!allow.hostNetwork) return { field: 'docker.network', option: "the host's network", needs: 'host-network' };
    } else if (!allow.networks.includes(network)) {
      return { field: 'docker.network', option: `network "${network}"`, needs: `network=${network}` };
    }
  }
  for (const [i, raw] of (opts.capAdd ?? []).entries()) {
    const cap = normaliseCapability(raw) ?? raw;
    if (!DEFAULT_JOB_CAPABILITIES.includes(cap) && !allow.capabilities.includes(cap)) return { field: `docker.cap_add[${i}]`, option: `capability ${cap}`, needs: `cap=${cap}` };
  }
  for (const [i, raw] of (opts.devices ?? []).entries()) {
    const device = normalisePath(raw);
    if (!allow.devices.includes(device)) return { field: `docker.devices[${i}]`, option: `device ${device}`, needs: `device=${device}` };
  }
  for (const [i, m] of (opts.mounts ?? []).entries()) {
    const refusal = mountSourceRefusal(m.source, allow, i);
    if (refusal) return refusal;
  }
  return undefined;
}

/** The refusal of mount `index` whose host path is `source`, unless a `mount=` entry covers it. */
export function mountSourceRefusal(source: string, allow: DockerAllow, index: number): DockerRefusal | undefined {
  const path = normalisePath(source);
  if (allow.mountPrefixes.some((prefix) => isUnder(path, prefix))) return undefined;
  return { field: `docker.mounts[${index}].source`, option: `a mount of host path ${path}`, needs: `mount=${path}` };
}

/** A refusal as one sentence naming the option, the variable and the entry that would allow it. */
export function describeDockerRefusal(r: DockerRefusal, where: string): string {
  return `${r.option} (${r.field}) is not allowed by ${where}'s LONGSHORE_DOCKER_ALLOW: its administrator can allow it with the entry "${r.needs}", or drop the option from the job`;
}
