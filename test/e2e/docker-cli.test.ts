import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, startCluster, type Cluster } from '@longshore/testing';
import { describeDocker } from '@longshore/testing/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = join(repoRoot, 'services/cli/bin/longshore.js');

// What a user sees of Docker jobs through the CLI: output, exit codes, and the endings that have none.
describeDocker('the longshore CLI with docker jobs', ({ host, image, docker }) => {
  let cluster: Cluster;
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...cluster.clientEnv }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const docker_ = (more: string[]) => ['submit', '--executor', 'docker', '--image', image, '--wait', ...more];
  beforeAll(async () => {
    cluster = await startCluster({ agents: [{ LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: host }] });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("prints the container's output and exits with its exit code", () => {
    const r = cli(docker_(['--', 'sh', '-c', 'echo hi; echo warn >&2; exit 4']));
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('warn\n');
    expect(r.code).toBe(4);
  });

  it('exits 137 for a container killed over its memory limit, and says why', () => {
    const r = cli(docker_(['--memory', '32Mi', '--', 'sh', '-c', 'x=$(yes | head -c 100000000); echo survived ${#x}']));
    expect(r.code).toBe(137);
    expect(r.stdout).not.toContain('survived');
    expect(r.stderr).toMatch(/oom|memory/i);
  });

  it('exits 124 for a container past its timeout, and leaves no container', async () => {
    const r = cli(docker_(['--timeout', '1s', '--', 'sleep', '300']));
    expect(r.code).toBe(124);
    const id = /job ([^\s:]+)/.exec(r.stderr)?.[1];
    expect(id, `the job id on stderr: ${r.stderr}`).toBeDefined();
    expect(await docker.listContainers({ all: true, filters: { label: [`longshore.job=${id}`] } })).toEqual([]);
  });

  it('exits 125 naming the image when the image is missing and cannot be pulled', () => {
    // A registry on a loopback port nothing listens on: the pull fails at once.
    const missing = '127.0.0.1:1/longshore-test/no-such-image:1';
    const r = cli(['submit', '--executor', 'docker', '--image', missing, '--wait', '--max-attempts', '1', '--', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(missing);
  });
});
