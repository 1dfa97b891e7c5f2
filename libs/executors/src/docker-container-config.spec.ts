import { describe, expect, it } from 'vitest';
import { buildContainerEnv, containerCreateOptions, ownedRunFromLabels } from './docker-container-config.js';
import type { RunRequest } from './executor.js';

const settings = { agentId: 'agent-7', pool: 'ingest-eu', pidsLimit: 256, init: false };

function request(extra: Partial<RunRequest> = {}): RunRequest {
  return {
    jobId: 'job-1',
    attempt: 2,
    command: ['echo', '$HOME', 'a b'],
    env: { GREETING: 'hi there', EMPTY: '' },
    onLine: () => undefined,
    docker: { image: 'busybox:1' },
    ...extra,
  };
}

describe('a job container', () => {
  it('runs the argv as is (no shell) in the image, with the job env and the labels naming job, attempt, agent and pool', () => {
    const opts = containerCreateOptions(request({ workingDir: '/work' }), settings);
    expect(opts).toMatchObject({
      Image: 'busybox:1',
      Cmd: ['echo', '$HOME', 'a b'],
      Env: ['GREETING=hi there', 'EMPTY='],
      WorkingDir: '/work',
      Labels: { 'longshore.job': 'job-1', 'longshore.attempt': '2', 'longshore.agent': 'agent-7', 'longshore.pool': 'ingest-eu' },
      Tty: false,
    });
    expect(opts.Entrypoint).toBeUndefined(); // the image's entrypoint, if any, still applies
  });

  it('gets the secure defaults: no network, no NET_RAW, no new privileges, a pids limit, not auto-removed', () => {
    const host = containerCreateOptions(request(), settings).HostConfig!;
    expect(host).toMatchObject({ NetworkMode: 'none', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Privileged: false, PidsLimit: 256, Init: false, AutoRemove: false });
    expect(host.CapAdd).toContain('CHOWN');
    expect(host.CapAdd).not.toContain('NET_RAW');
    expect(host.CapAdd).not.toContain('SYS_ADMIN');
    expect(host.Memory).toBeUndefined();
  });

  it('has the memory limit as a hard limit without swap', () => {
    const host = containerCreateOptions(request({ memoryBytes: 64 * 1024 * 1024 }), settings).HostConfig!;
    expect(host.Memory).toBe(64 * 1024 * 1024);
    expect(host.MemorySwap).toBe(64 * 1024 * 1024);
  });

  it('is refused without an image', () => {
    const { docker: _none, ...noImage } = request();
    expect(() => containerCreateOptions(noImage, settings)).toThrow('job job-1 (attempt 2) has no image to run');
  });

  it('env is the job own plus its id and attempt, which the job cannot spoof, and nothing of the agent', () => {
    expect(buildContainerEnv({ A: '1', LONGSHORE_JOB_ID: 'spoof' }, 'job-1', 3)).toEqual({ A: '1', LONGSHORE_JOB_ID: 'job-1', LONGSHORE_ATTEMPT: '3' });
    expect(buildContainerEnv({ TRACEPARENT: 'spoof' }, 'job-1', 3, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')['TRACEPARENT']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('labels are read back as the run they name; a container without them is not a job run', () => {
    expect(ownedRunFromLabels('c1', { 'longshore.job': 'job-1', 'longshore.attempt': '2' })).toEqual({ jobId: 'job-1', attempt: 2, ref: { kind: 'docker', containerId: 'c1' } });
    expect(ownedRunFromLabels('c2', { 'longshore.job': 'job-1', 'longshore.attempt': 'x' })).toBeUndefined();
    expect(ownedRunFromLabels('c3', {})).toBeUndefined();
    expect(ownedRunFromLabels('c4', undefined)).toBeUndefined();
  });

  it('has no options of the job but the secure defaults when it sets none', () => {
    const opts = containerCreateOptions(request(), settings);
    expect(opts.User).toBeUndefined();
    const host = opts.HostConfig!;
    for (const key of ['NanoCpus', 'ReadonlyRootfs', 'Tmpfs', 'Mounts', 'Binds', 'Devices', 'PidMode', 'IpcMode'] as const) expect(host[key], key).toBeUndefined();
  });

  it("maps the job's docker options: user, CPUs, network, labels (longshore.* win), read-only root with a scratch /tmp, capabilities, mounts, devices, privileged, host namespaces", () => {
    const opts = containerCreateOptions(
      request({
        cpusMilli: 1500,
        docker: {
          image: 'busybox:1',
          user: '1000:1000',
          network: 'bridge',
          labels: { 'com.example.team': 'data', 'longshore.job': 'spoof' },
          readOnlyRoot: true,
          capAdd: ['CAP_SYS_PTRACE', 'CHOWN'],
          mounts: [{ source: '/data/in', target: '/in', readOnly: true }],
          devices: ['/dev/fuse'],
          privileged: true,
          hostPid: true,
          hostIpc: true,
        },
      }),
      settings,
    );
    expect(opts.User).toBe('1000:1000');
    expect(opts.Labels).toEqual({ 'com.example.team': 'data', 'longshore.job': 'job-1', 'longshore.attempt': '2', 'longshore.agent': 'agent-7', 'longshore.pool': 'ingest-eu' });
    const host = opts.HostConfig!;
    expect(host).toMatchObject({
      NanoCpus: 1_500_000_000,
      NetworkMode: 'bridge',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      Mounts: [
        { Type: 'bind', Source: '/data/in', Target: '/in', ReadOnly: true },
        { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { Mode: 0o1777, SizeBytes: 0 } },
      ],
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
      Privileged: true,
      PidMode: 'host',
      IpcMode: 'host',
      SecurityOpt: ['no-new-privileges'],
    });
    expect(host.CapAdd).toContain('SYS_PTRACE');
    expect(host.CapAdd!.filter((c: string) => c === 'CHOWN')).toHaveLength(1);
  });

  it('leaves /tmp to a mount the job puts there', () => {
    const host = containerCreateOptions(request({ docker: { image: 'busybox:1', readOnlyRoot: true, mounts: [{ source: '/scratch', target: '/tmp', readOnly: false }] } }), settings).HostConfig!;
    expect(host.Mounts).toEqual([{ Type: 'bind', Source: '/scratch', Target: '/tmp', ReadOnly: false }]);
  });
});
