/**
 * A trivial container (`true`) run through Longshore (submit, the docker executor, wait for the
 * end) against `docker run --rm` of the same image on the same engine, one at a time, so each
 * figure is one container's whole run as its user waits for it. The engine is a private dockerd
 * this benchmark starts and stops (by pid).
 */
import { spawnSync } from 'node:child_process';
import { Executor, JobState } from '@longshore/client';
import { buildTestImage, startDockerd, TEST_IMAGE } from '@longshore/testing';
import Docker from 'dockerode';
import type { BenchCluster } from './longshore-jobs.js';
import { median } from './stats.js';

export interface DockerRunOptions {
  /** Containers run each way, alternating (after one warm-up each). */
  runs: number;
}

export interface DockerRunResult {
  runs: number;
  /** `docker run --rm IMAGE true`, wall ms per run. */
  dockerRunMs: number[];
  /** Longshore: SubmitJob (executor docker) until the job is seen finished, wall ms per run. */
  longshoreMs: number[];
}

export async function runDockerRun(bc: BenchCluster, opts: DockerRunOptions): Promise<DockerRunResult> {
  const dockerd = await startDockerd();
  try {
    await buildTestImage(new Docker({ socketPath: dockerd.socketPath }), TEST_IMAGE);
    const pool = `docker-run-${Date.now().toString(36)}`;
    await bc.ls.registry.createPool({ id: pool, maxWeightMilli: 1000 });
    const agent = await bc.cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: `${pool}-1`, LONGSHORE_EXECUTORS: 'subprocess,docker', DOCKER_HOST: dockerd.host });
    try {
      const dockerRun = (): number => {
        const t0 = performance.now();
        const r = spawnSync('docker', ['-H', dockerd.host, 'run', '--rm', '--network', 'none', TEST_IMAGE, 'true'], { encoding: 'utf8', timeout: 120_000 });
        if (r.status !== 0) throw new Error(`docker run --rm exited ${r.status}: ${r.stderr}`);
        return performance.now() - t0;
      };
      const longshore = async (): Promise<number> => {
        const t0 = performance.now();
        const job = await bc.ls.submit({ pool, executor: Executor.DOCKER, image: TEST_IMAGE, command: ['true'] });
        const done = await bc.ls.waitForJob(job.id);
        if (done.state !== JobState.SUCCEEDED) throw new Error(`job ${job.id} ended ${JobState[done.state]}: ${done.attempts.at(-1)?.message ?? ''}`);
        return performance.now() - t0;
      };
      dockerRun();
      await longshore();
      const result: DockerRunResult = { runs: opts.runs, dockerRunMs: [], longshoreMs: [] };
      for (let i = 0; i < opts.runs; i++) {
        result.dockerRunMs.push(dockerRun());
        result.longshoreMs.push(await longshore());
      }
      return result;
    } finally {
      await agent.stop(10_000);
    }
  } finally {
    await dockerd.stop();
  }
}

/** Longshore's median over `docker run --rm`'s. */
export function dockerRunRatio(r: DockerRunResult): number {
  return median(r.longshoreMs) / median(r.dockerRunMs);
}
