import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, expect, it } from 'vitest';
import { buildTestAppImage, buildTestImage, followProgress, imageExists } from './docker-images.js';
import { startRegistry } from './docker-registry.js';
import { socketFilesOf, startDockerd } from './dockerd.js';
import { processGone } from './proc.js';
import { describeDocker } from './vitest.js';

/** Every container and image these tests make carries this label, so afterAll finds them all. */
const LABEL = 'longshore.test.run';
const run = randomBytes(4).toString('hex');

interface Ran {
  stdout: string;
  stderr: string;
  exitCode: number;
  state: Docker.ContainerInspectInfo['State'];
}

/** Runs `cmd` in a fresh container of `image` (no network) to its end, its output demultiplexed. */
async function runContainer(docker: Docker, image: string, cmd: string[] | undefined, host: Docker.HostConfig = {}): Promise<Ran> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd, Labels: { [LABEL]: run }, HostConfig: { NetworkMode: 'none', ...host } });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const ended = new Promise((resolve) => stream.on('end', resolve));
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on('data', (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  await ended;
  const { State } = await container.inspect();
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), exitCode: StatusCode, state: State };
}

describeDocker('the private Docker engine', ({ docker, image }) => {
  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true });
    }
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${run}`] } });
    expect(left).toEqual([]);
  });

  it('runs a container: stdout and stderr apart, and its exit code', async () => {
    const ran = await runContainer(docker, image, ['sh', '-c', 'echo one; echo oops >&2; echo two; exit 3']);
    expect(ran.stdout).toBe('one\ntwo\n');
    expect(ran.stderr).toBe('oops\n');
    expect(ran.exitCode).toBe(3);
    expect(ran.state.OOMKilled).toBe(false);
  });

  it('kills a container past its 32 MiB memory limit and says so (OOMKilled, 137)', async () => {
    // The shell holds 100 MB of "y\n" in a variable: far past the limit, with no swap to spill to.
    const limit = 32 * 1024 * 1024;
    const ran = await runContainer(docker, image, ['sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}'], { Memory: limit, MemorySwap: limit });
    expect(ran.stdout).not.toContain('survived');
    expect(ran.state.OOMKilled).toBe(true);
    expect(ran.exitCode).toBe(137);
  });

  it('builds an image FROM the imported one with no registry and no network', async () => {
    const app = await buildTestAppImage(docker);
    const ran = await runContainer(docker, app, undefined);
    expect(ran.stdout).toBe('hello from longshore-test/app\nbuilt\n');
    expect(ran.exitCode).toBe(0);
  });

  it('pushes an image to a loopback registry and pulls it back', async () => {
    const registry = await startRegistry();
    try {
      // An image of its own (its label differs), so removing it takes nothing another test uses.
      const local = await buildTestAppImage(docker, `longshore-test/pushed:${run}`, image, run);
      const remote = `${registry.address}/longshore-test/pushed:${run}`;
      await docker.getImage(local).tag({ repo: `${registry.address}/longshore-test/pushed`, tag: run });
      const id = (await docker.getImage(local).inspect()).Id;
      // The engine requires an X-Registry-Auth header on push, even for a registry without auth.
      await followProgress(docker, await docker.getImage(remote).push({ authconfig: { serveraddress: registry.address } }));
      await docker.getImage(remote).remove();
      await docker.getImage(local).remove();
      expect(await imageExists(docker, id)).toBe(false);

      await followProgress(docker, await docker.pull(remote));
      expect((await docker.getImage(remote).inspect()).Id).toBe(id);
      const ran = await runContainer(docker, remote, undefined);
      expect(ran.stdout).toBe('hello from longshore-test/app\nbuilt\n');
      await docker.getImage(remote).remove({ force: true });
    } finally {
      await registry.stop();
    }
  });
});

describeDocker('startDockerd', ({ image }) => {
  it('starts an engine of its own and stops it, its containerd and its dir, by pid', async () => {
    const engine = await startDockerd();
    const { dir, pid, socketPath } = engine;
    expect(engine.host).toBe(`unix://${socketPath}`);
    expect(socketPath.startsWith(`${dir}/`)).toBe(true);
    expect(socketPath.length).toBeLessThan(100);
    expect(processGone(pid)).toBe(false);
    const { default: Dockerode } = await import('dockerode');
    const info = (await new Dockerode({ socketPath }).info()) as { DockerRootDir: string; Driver: string };
    expect(info.DockerRootDir.startsWith(`${dir}/`)).toBe(true);
    expect(info.Driver).toBe('vfs');
    const containerd = Number(readFileSync(join(dir, 'x', 'containerd', 'containerd.pid'), 'utf8'));
    expect(processGone(containerd)).toBe(false);

    await engine.stop();
    await engine.stop(); // idempotent
    expect(processGone(pid)).toBe(true);
    expect(processGone(containerd)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  it('cleans up after a dockerd that crashed with a container running: no process, cgroup, mount or dir left', async () => {
    const engine = await startDockerd();
    const { default: Dockerode } = await import('dockerode');
    const docker = new Dockerode({ socketPath: engine.socketPath });
    await buildTestImage(docker, image);
    const container = await docker.createContainer({ Image: image, Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } });
    await container.start();
    const { State } = await container.inspect();
    const cgroups = readFileSync(`/proc/${State.Pid}/cgroup`, 'utf8');
    expect(cgroups).toContain(':/longshore-'); // its own cgroup parent, not the shared /docker
    const cgroupDir = /:memory:(\/longshore-[^/\n]+)/.exec(cgroups)?.[1];
    const shim = Number(readFileSync(`/proc/${State.Pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]); // its parent
    const shimSockets = socketFilesOf(shim).filter((p) => p.startsWith('/run/containerd/s/'));
    expect(shimSockets.length).toBeGreaterThan(0);

    process.kill(engine.pid, 'SIGKILL'); // dockerd dies; containerd, the shim and `sleep` stay
    await engine.stop();
    expect(processGone(State.Pid)).toBe(true);
    expect(processGone(shim)).toBe(true);
    expect(shimSockets.filter((p) => existsSync(p))).toEqual([]); // in /run/containerd/s, shared by every containerd
    expect(existsSync(engine.dir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(engine.dir);
    if (cgroupDir !== undefined) expect(existsSync(`/sys/fs/cgroup/memory${cgroupDir}`)).toBe(false);
  });
});
