import { JobState, LongshoreClient } from '@longshore/client';
import { startCluster, startService, type Cluster, type ProcessHandle } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('fault: the dispatcher restarts while a client follows a job', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  let restarted: ProcessHandle | undefined;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 1 });
    ls = LongshoreClient.connect({ env: cluster.clientEnv });
  });
  afterAll(async () => {
    ls?.close();
    await restarted?.stop();
    await cluster?.stop();
  });

  it('resumes the log stream and the wait after the restart, losing and repeating nothing', async () => {
    const job = await ls.submit({ command: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); sleep 0.2; done'] });
    const lines: string[] = [];
    const following = (async () => {
      for await (const l of ls.logs(job.id, { follow: true })) lines.push(l.text);
    })();
    const waiting = ls.waitForJob(job.id);
    while (lines.length < 5) await new Promise((r) => setTimeout(r, 50));
    cluster.dispatcher.signal('SIGKILL');
    console.log(`follow-restart: injected SIGKILL of the dispatcher after ${lines.length} lines`);
    await cluster.dispatcher.waitForExit(10_000);
    await new Promise((r) => setTimeout(r, 1000));
    restarted = startService('dispatcher', { LONGSHORE_REDIS_URL: cluster.redis.url, LONGSHORE_DISPATCHER: cluster.clientEnv['LONGSHORE_DISPATCHER'] }, 'dispatcher-2');
    await restarted.waitForLog((l) => l['msg'] === 'Listening', 30_000);
    await following;
    const done = await waiting;
    console.log(`follow-restart: counted ${lines.length} lines after the restart; job ${JobState[done.state]}`);
    expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`));
    expect(done.state).toBe(JobState.SUCCEEDED);
  });
});
