/**
 * Fault: an agent cut off from Redis mid-job (a TCP proxy between it and Redis blackholes every
 * byte, as a network partition would). Its claim must lapse and the job run on the other agent;
 * the stale agent must kill its orphaned run (at the latest soon after the partition heals) and
 * be unable to write to the job: no line of its run after the hand-over, and the final state is
 * the other agent's.
 */
import { FailureClass, JobState, type LongshoreClient } from '@longshore/client';
import { sleep, startCluster, startTcpProxy, waitFor, type Cluster, type TcpProxy } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from '../support.js';
import { commandLine, describeAttempts, jobLog, lineMs, processGone, stateName, waitForRecord } from './fault-support.js';

/**
 * Attempt 1 prints its pid, then either a line every 200 ms for up to 60 s (`chatty`: the stale
 * agent has lines to write when it reconnects, which its log fencing must refuse) or nothing
 * more (`silent`, `exec sleep 60`: only its lock renewals can tell it, by hanging past the lease
 * or being refused after the heal). 60 s outlives the partition and bounds an orphan. Later
 * attempts finish in a second.
 */
function script(kind: 'chatty' | 'silent'): string {
  const first =
    kind === 'chatty'
      ? 'i=0; while [ $i -lt 300 ]; do echo "attempt 1 tick $i"; i=$((i+1)); sleep 0.2; done; exit 0'
      : 'exec sleep 60';
  return [
    'echo "attempt $LONGSHORE_ATTEMPT pid $$"',
    `if [ "$LONGSHORE_ATTEMPT" = 1 ]; then ${first}; fi`,
    'sleep 1',
    'echo "attempt $LONGSHORE_ATTEMPT done"',
  ].join('\n');
}

describe('fault: an agent is partitioned from Redis mid-job', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  const proxies: TcpProxy[] = [];
  const orphans: number[] = [];
  beforeAll(async () => {
    cluster = await startCluster({ agents: 0 });
    ls = connect(cluster);
  });
  afterAll(async () => {
    ls?.close();
    await cluster?.stop();
    for (const p of proxies) await p.close();
    // Last resort, only if the product failed to kill a run (the test has failed already then).
    for (const pid of orphans) if (!processGone(pid) && commandLine(pid)?.match(/^(sh -c|sleep 60)/)) process.kill(pid, 'SIGKILL');
  });

  /**
   * In its own pool: agent `<pool>-a` reaches Redis through a proxy and runs the job; `<pool>-b`
   * starts once it runs; the proxy blackholes, then heals (restore + sever) once `-b` re-ran it.
   */
  async function partition(kind: 'chatty' | 'silent'): Promise<void> {
    const pool = `part-${kind}`;
    const [a, b] = [`${pool}-a`, `${pool}-b`];
    const tag = `agent-partition (${kind})`;
    await ls.registry.createPool({ id: pool });
    const proxy = await startTcpProxy(cluster.redis) // its url carries the password;
    proxies.push(proxy);
    const agentA = await cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: a, LONGSHORE_REDIS_URL: proxy.url });
    const job = await ls.submit({ pool, command: ['sh', '-c', script(kind)] });
    await waitForRecord(ls, job.id, (j) => j.state === JobState.RUNNING && j.attempts[0]?.agentId === a, `the job to run on ${a}`, 60_000);
    const pidLine = await waitFor(async () => (await jobLog(ls, job.id)).find((l) => l.text.startsWith('attempt 1 pid ')), { timeoutMs: 30_000, what: "attempt 1's pid in the log" });
    const pid = Number(pidLine.text.slice('attempt 1 pid '.length));
    orphans.push(pid);
    expect(processGone(pid)).toBe(false);
    // Only now: started earlier, it could have claimed the job first.
    await cluster.startAgent({ LONGSHORE_POOL: pool, LONGSHORE_AGENT_ID: b });

    proxy.blackhole();
    const blackholedAt = Date.now();
    console.log(`${tag}: injected blackhole of ${a}'s Redis traffic (${proxy.connections} connections) while job ${job.id} ran on it as pid ${pid}`);
    // When the stale run stops: it may stop while still cut off (the agent noticed it could not
    // renew its claim) or once the partition heals (its renewal is refused); watched from now on.
    let goneAt = NaN;
    void waitFor(() => processGone(pid), { timeoutMs: 150_000, intervalMs: 50, what: `${a}'s run (pid ${pid}) to stop` }).then(
      () => (goneAt = Date.now()),
      () => undefined,
    );
    const rerun = await waitForRecord(ls, job.id, (j) => j.attempts.length >= 2 && j.attempts[1]!.startedAt !== undefined, `the job to run on ${b}`, 60_000);
    const failoverMs = tsMs(rerun.attempts[1]!.startedAt) - blackholedAt;

    await sleep(500);
    proxy.restore();
    proxy.sever();
    const healedAt = Date.now();
    console.log(`${tag}: injected restore + sever, so ${a} reconnects through the proxy`);
    await waitFor(() => Number.isFinite(goneAt), { timeoutMs: 60_000, what: `${a}'s orphaned run (pid ${pid}) to be killed` }).catch(() => undefined);
    const goneAfterMs = goneAt - healedAt;

    const final = await waitForRecord(ls, job.id, (j) => j.finishedAt !== undefined, 'the job to finish', 60_000);
    // Let anything the stale agent still had in flight land (or be refused) before reading the log.
    await sleep(1_000);
    const log = await jobLog(ls, job.id);
    const texts = log.map((l) => l.text);
    const claimedByB = tsMs(final.attempts[1]?.startedAt);
    const firstB = texts.findIndex((t) => t.startsWith('attempt 2 '));
    const lateA = log.filter((l, i) => l.text.startsWith('attempt 1 ') && ((firstB >= 0 && i > firstB) || lineMs(l) >= claimedByB));
    const aLines = texts.filter((t) => t.startsWith('attempt 1 ')).length;
    console.log(
      `${tag}: counted failover ${failoverMs} ms (blackhole → second attempt started); ${a}'s run stopped ${goneAt - blackholedAt} ms after the blackhole ` +
        `(${goneAfterMs <= 0 ? `${-goneAfterMs} ms before the heal, still cut off` : `${goneAfterMs} ms after the heal`}; ` +
        `${goneAt <= blackholedAt + failoverMs ? 'before' : `${goneAt - blackholedAt - failoverMs} ms after`} ${b} started it); ` +
        `${a} lines in log ${aLines}, after the hand-over ${lateA.length}; final ${stateName(final)}; attempts: ${describeAttempts(final)}`,
    );
    const said = agentA.logs.filter((l) => l['job'] === job.id || /lock|redis|claim/i.test(String(l['msg'])));
    console.log(`${tag}: ${a} logged: ${said.map((l) => `${String(l['msg'])}${l['err'] ? ` (${String(l['err'])})` : ''}`).join(' | ')}`);

    // How fast is a figure for the log line above and the benchmarks; the test checks what happened, in order.
    expect(failoverMs, 'the second attempt began after the blackhole').toBeGreaterThan(0);
    expect(Number.isFinite(goneAt), `${a}'s orphaned run (pid ${pid}) still runs 60 s after the partition healed`).toBe(true);
    expect(lateA.map((l) => l.text)).toEqual([]);
    expect(final.state).toBe(JobState.SUCCEEDED);
    expect(final.attempts).toHaveLength(2);
    expect(final.attempts[0]).toMatchObject({ agentId: a, failureClass: FailureClass.LOST });
    expect(final.attempts[1]).toMatchObject({ agentId: b, exitCode: 0 });
    expect(texts).toContain('attempt 2 done');
  }

  it('a run that keeps printing: handed over; the stale agent kills it and none of its late lines land', () => partition('chatty'));

  it('a silent run (exec sleep 60): handed over; the stale agent kills it on its lock renewals alone', () => partition('silent'));
});
