import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors/index.js';
import { validateJobSpec } from './job-spec.js';
import { LIMITS } from './limits.js';
import type { JobSpec } from './model.js';

const ok: JobSpec = { pool: '', allowedExecutors: [], command: ['echo', 'hi'], env: {}, weightMilli: 0, timeoutMs: 0, maxAttempts: 0, priority: 0, labels: {} };

function fieldOf(patch: Partial<JobSpec>): string {
  try {
    validateJobSpec({ ...ok, ...patch });
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.field;
    throw err;
  }
  return 'accepted';
}

describe('validateJobSpec', () => {
  it('accepts a plain spec', () => {
    expect(fieldOf({})).toBe('accepted');
  });

  it('names the field at fault for each kind of bad input', () => {
    expect(fieldOf({ command: [] })).toBe('command');
    expect(fieldOf({ command: [''] })).toBe('command[0]');
    expect(fieldOf({ command: ['x', 'a'.repeat(LIMITS.argBytes + 1)] })).toBe('command[1]');
    expect(fieldOf({ command: Array(LIMITS.commandArgs + 1).fill('x') })).toBe('command');
    expect(fieldOf({ env: { '1BAD': 'x' } })).toBe('env.1BAD');
    expect(fieldOf({ env: { 'A-B': 'x' } })).toBe('env.A-B');
    expect(fieldOf({ env: { BIG: 'x'.repeat(LIMITS.envValueBytes + 1) } })).toBe('env.BIG');
    expect(fieldOf({ env: Object.fromEntries(Array.from({ length: LIMITS.envVars + 1 }, (_, i) => [`V${i}`, 'x'])) })).toBe('env');
    expect(fieldOf({ labels: { 'Bad Key': 'x' } })).toBe('labels.Bad Key');
    expect(fieldOf({ labels: Object.fromEntries(Array.from({ length: LIMITS.labels + 1 }, (_, i) => [`l${i}`, 'x'])) })).toBe('labels');
    expect(fieldOf({ timeoutMs: LIMITS.maxTimeoutMs + 1 })).toBe('timeout');
    expect(fieldOf({ weightMilli: -1 })).toBe('weight');
    expect(fieldOf({ weightMilli: Number.NaN })).toBe('weight');
    expect(fieldOf({ priority: 5000 })).toBe('priority');
    expect(fieldOf({ pool: 'Not_A_Pool' })).toBe('pool');
    expect(fieldOf({ lane: 'UPPER' })).toBe('lane');
    expect(fieldOf({ workingDir: 'relative/dir' })).toBe('working_dir');
    expect(fieldOf({ executor: 'auto' })).toBe('allowed_executors');
    expect(fieldOf({ executor: 'docker' })).toBe('image');
  });

  it('refuses NUL and other control characters in label values, idempotency keys, paths and images', () => {
    expect(fieldOf({ labels: { team: 'a\u0000b' } })).toBe('labels.team');
    expect(fieldOf({ labels: { team: 'line\nbreak' } })).toBe('labels.team');
    expect(fieldOf({ labels: { team: '\u001b[31mred' } })).toBe('labels.team');
    expect(fieldOf({ idempotencyKey: 'key\u0000' })).toBe('idempotency_key');
    expect(fieldOf({ idempotencyKey: 'k'.repeat(LIMITS.idempotencyKeyLength + 1) })).toBe('idempotency_key');
    expect(fieldOf({ workingDir: '/tmp/a\nb' })).toBe('working_dir');
    expect(fieldOf({ image: 'alpine\u0000' })).toBe('image');
    // Unicode that is not a control character stays allowed.
    expect(fieldOf({ labels: { team: 'équipe ✓ 日本' }, idempotencyKey: 'ключ-1' })).toBe('accepted');
  });

  it('refuses an executor named twice in the allowed chain', () => {
    expect(fieldOf({ executor: 'auto', allowedExecutors: ['docker', 'docker'], image: 'alpine' })).toBe('allowed_executors');
    expect(fieldOf({ executor: 'auto', allowedExecutors: ['docker', 'subprocess'], image: 'alpine' })).toBe('accepted');
  });

  describe('docker options', () => {
    const docker = (d: NonNullable<JobSpec['docker']>, image: string | undefined = 'busybox:1') => ({ docker: d, ...(image ? { image } : {}) });

    it('need an image', () => {
      expect(fieldOf(docker({ user: '1000' }, ''))).toBe('docker');
      expect(fieldOf(docker({ user: '1000' }))).toBe('accepted');
    });

    it('accept sane values and come back normalised', () => {
      const spec = validateJobSpec({
        ...ok,
        image: 'busybox:1',
        docker: {
          user: '1000:1000',
          network: 'my-net.1',
          labels: { 'com.example.team': 'data' },
          readOnlyRoot: true,
          capAdd: ['cap_sys_ptrace', 'NET_ADMIN'],
          mounts: [{ source: '/data/./in/', target: '/in/', readOnly: true }],
          devices: ['/dev//fuse'],
        },
      });
      expect(spec.docker).toMatchObject({ capAdd: ['SYS_PTRACE', 'NET_ADMIN'], mounts: [{ source: '/data/in', target: '/in', readOnly: true }], devices: ['/dev/fuse'] });
      expect(fieldOf(docker({ user: 'nobody' }))).toBe('accepted');
      expect(fieldOf(docker({ user: 'app:staff' }))).toBe('accepted');
    });

    it('name the field at fault, with the fix', () => {
      expect(fieldOf(docker({ labels: { 'longshore.job': 'spoof' } }))).toBe('docker.labels.longshore.job');
      expect(() => validateJobSpec({ ...ok, ...docker({ labels: { 'longshore.job': 'x' } }) })).toThrow(/reserved prefix 'longshore\.'/);
      expect(fieldOf(docker({ labels: { 'bad key': 'x' } }))).toBe('docker.labels.bad key');
      expect(fieldOf(docker({ labels: { team: 'a\nb' } }))).toBe('docker.labels.team');
      expect(fieldOf(docker({ capAdd: ['SYS_PTRACE', 'sys-ptrace'] }))).toBe('docker.cap_add[1]');
      expect(fieldOf(docker({ capAdd: [''] }))).toBe('docker.cap_add[0]');
      expect(fieldOf(docker({ mounts: [{ source: 'data', target: '/d', readOnly: false }] }))).toBe('docker.mounts[0].source');
      expect(fieldOf(docker({ mounts: [{ source: '/data/../etc', target: '/d', readOnly: false }] }))).toBe('docker.mounts[0].source');
      expect(fieldOf(docker({ mounts: [{ source: '/data', target: '/', readOnly: false }] }))).toBe('docker.mounts[0].target');
      expect(fieldOf(docker({ mounts: [{ source: '/data', target: 'rel', readOnly: false }] }))).toBe('docker.mounts[0].target');
      expect(() => validateJobSpec({ ...ok, ...docker({ mounts: [{ source: 'data', target: '/d', readOnly: false }] }) })).toThrow('docker.mounts[0].source: must be an absolute path');
      expect(fieldOf(docker({ devices: ['/etc/passwd'] }))).toBe('docker.devices[0]');
      expect(fieldOf(docker({ devices: ['/dev/../etc/passwd'] }))).toBe('docker.devices[0]');
      expect(fieldOf(docker({ network: 'container:abc' }))).toBe('docker.network');
      expect(fieldOf(docker({ network: '-x' }))).toBe('docker.network');
      expect(fieldOf(docker({ user: 'a:b:c' }))).toBe('docker.user');
      expect(fieldOf(docker({ user: 'root --privileged' }))).toBe('docker.user');
      expect(fieldOf({ cpusMilli: 0 })).toBe('cpus_milli');
      expect(fieldOf({ cpusMilli: 1.5 })).toBe('cpus_milli');
      expect(fieldOf(docker({ buildSteps: ['apk add curl', ' '] }))).toBe('docker.build_steps[1]');
      expect(fieldOf(docker({ buildSteps: ['x'.repeat(LIMITS.argBytes + 1)] }))).toBe('docker.build_steps[0]');
      expect(fieldOf(docker({ buildSteps: ['true'], buildArgs: { '1X': 'y' } }))).toBe('docker.build_args.1X');
      expect(fieldOf(docker({ buildSteps: ['true'], buildArgs: { VERSION: '1.2' } }))).toBe('accepted');
    });

    it('are bounded in count', () => {
      const many = (n: number) => Array.from({ length: n }, (_, i) => i);
      expect(fieldOf(docker({ capAdd: many(LIMITS.dockerCapabilities + 1).map(() => 'SYS_PTRACE') }))).toBe('docker.cap_add');
      expect(fieldOf(docker({ mounts: many(LIMITS.dockerMounts + 1).map(() => ({ source: '/d', target: '/d', readOnly: true })) }))).toBe('docker.mounts');
      expect(fieldOf(docker({ devices: many(LIMITS.dockerDevices + 1).map(() => '/dev/fuse') }))).toBe('docker.devices');
      expect(fieldOf(docker({ buildSteps: many(LIMITS.dockerBuildSteps + 1).map(() => 'true') }))).toBe('docker.build_steps');
      expect(fieldOf(docker({ labels: Object.fromEntries(many(LIMITS.dockerLabels + 1).map((i) => [`k${i}`, 'v'])) }))).toBe('docker.labels');
    });
  });
});
