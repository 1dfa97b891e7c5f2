import { DEFAULT_JOB_CAPABILITIES, normaliseCapability } from '@longshore/domain';
import type Docker from 'dockerode';
import type { DockerPullPolicy, OwnedRun, RunRequest } from './executor.js';

/** The labels that mark a container as one attempt of a job, run for one agent of one pool. */
export const LABELS = {
  job: 'longshore.job',
  attempt: 'longshore.attempt',
  agent: 'longshore.agent',
  pool: 'longshore.pool',
} as const;

/**
 * Docker's default capability set minus `NET_RAW` (raw sockets serve ping and packet spoofing,
 * nothing a batch job needs). Listed explicitly after `CapDrop: ['ALL']` so the set does not
 * grow when an engine's default does. Source: moby `oci/caps/defaults.go`.
 */
export const JOB_CAPABILITIES: readonly string[] = DEFAULT_JOB_CAPABILITIES;

/**
 * Scratch space of a job whose root filesystem is read-only: a tmpfs at /tmp, mode 1777 as /tmp
 * is. The engine copies the image's /tmp into it, with that directory's mode: an image whose /tmp
 * is not world-writable (official images' is) gives a job running as another user no scratch there.
 */
export const READ_ONLY_ROOT_TMPFS: Docker.MountSettings = { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { Mode: 0o1777, SizeBytes: 0 } }; // 0: the engine's default size (its pages count against the job's memory limit)

/** The default cap on processes (threads count too) in one job's container. */
export const DEFAULT_PIDS_LIMIT = 512;

/** Default pull policy: a local image runs without any registry. */
export const DEFAULT_PULL_POLICY: DockerPullPolicy = 'if_not_present';

/** What the executor adds to every container it creates. */
export interface ContainerSettings {
  agentId: string;
  pool: string;
  pidsLimit: number;
  /** Runs Docker's init (tini) as PID 1: it forwards SIGTERM to the job and reaps zombies. */
  init: boolean;
}

/**
 * The create options of one job's container (a pure mapping, so it is checked without an engine):
 * the argv as `Cmd` (no shell; the image's `ENTRYPOINT`, if any, still runs it, as with
 * `docker run IMAGE ARG…`), the request's environment on top of the image's, the job's own
 * container labels with the `longshore.*` ones (which win), and the secure defaults: no network,
 * Docker's capabilities without `NET_RAW`, no new privileges, a pids limit, and `memoryBytes` as a
 * hard limit without swap. The job's docker options (user, CPUs, network, read-only root with a
 * tmpfs `/tmp`, added capabilities, bind mounts, devices, privileged, host PID/IPC) go on top; the
 * caller has checked them against its allow-list and resolved the mount sources. The container
 * is not auto-removed: the executor reads its exit code and `OOMKilled` first, then removes it.
 *
 * @throws TypeError when the request has no `docker.image` (the caller checks that first).
 */
export function containerCreateOptions(req: RunRequest, settings: ContainerSettings): Docker.ContainerCreateOptions {
  const d = req.docker;
  const image = d?.image;
  if (!d || !image) throw new TypeError(`job ${req.jobId} (attempt ${req.attempt}) has no image to run`);
  const memory = req.memoryBytes === undefined ? {} : { Memory: req.memoryBytes, MemorySwap: req.memoryBytes };
  const mounts = d.mounts ?? [];
  const binds: Docker.MountSettings[] = mounts.map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly }));
  const scratch: Docker.MountSettings[] = d.readOnlyRoot && !mounts.some((m) => m.target === '/tmp') ? [{ ...READ_ONLY_ROOT_TMPFS }] : [];
  const added = (d.capAdd ?? []).map((c) => normaliseCapability(c) ?? c);
  return {
    Image: image,
    Cmd: [...req.command],
    Env: Object.entries(req.env).map(([name, value]) => `${name}=${value}`),
    ...(req.workingDir === undefined ? {} : { WorkingDir: req.workingDir }),
    ...(d.user === undefined ? {} : { User: d.user }),
    Labels: {
      ...d.labels,
      [LABELS.job]: req.jobId,
      [LABELS.attempt]: String(req.attempt),
      [LABELS.agent]: settings.agentId,
      [LABELS.pool]: settings.pool,
    },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      NetworkMode: d.network || 'none',
      CapDrop: ['ALL'],
      CapAdd: [...new Set([...JOB_CAPABILITIES, ...added])],
      SecurityOpt: ['no-new-privileges'],
      Privileged: d.privileged ?? false,
      PidsLimit: settings.pidsLimit,
      Init: settings.init,
      AutoRemove: false,
      ...memory,
      ...(req.cpusMilli === undefined ? {} : { NanoCpus: req.cpusMilli * 1_000_000 }),
      ...(d.readOnlyRoot ? { ReadonlyRootfs: true } : {}),
      ...(binds.length || scratch.length ? { Mounts: [...binds, ...scratch] } : {}),
      ...(d.devices?.length ? { Devices: d.devices.map((path) => ({ PathOnHost: path, PathInContainer: path, CgroupPermissions: 'rwm' })) } : {}),
      ...(d.hostPid ? { PidMode: 'host' } : {}),
      ...(d.hostIpc ? { IpcMode: 'host' } : {}),
    },
  };
}

/**
 * The job's environment inside its container: the job's own variables and `LONGSHORE_JOB_ID` /
 * `LONGSHORE_ATTEMPT` (last, so a job cannot spoof them). Nothing of the agent's environment, not
 * even `PATH`: the image's own `PATH` and the rest of its `ENV` apply unless the job overrides them.
 */
export function buildContainerEnv(jobEnv: Record<string, string>, jobId: string, attempt: number, traceparent?: string): Record<string, string> {
  return { ...jobEnv, LONGSHORE_JOB_ID: jobId, LONGSHORE_ATTEMPT: String(attempt), ...(traceparent ? { TRACEPARENT: traceparent } : {}) };
}

/** The run a container's labels name, or undefined when they are not a job's (a hand-made container). */
export function ownedRunFromLabels(containerId: string, labels: Record<string, string> | undefined): OwnedRun | undefined {
  const jobId = labels?.[LABELS.job];
  const attempt = Number(labels?.[LABELS.attempt]);
  if (!jobId || !Number.isSafeInteger(attempt) || attempt < 1) return undefined;
  const agentId = labels?.[LABELS.agent];
  return { jobId, attempt, ref: { kind: 'docker', containerId }, ...(agentId ? { agentId } : {}) };
}
