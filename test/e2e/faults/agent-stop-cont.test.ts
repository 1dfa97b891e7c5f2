/**
 * Fault: kill -STOP of an agent past its lease, then kill -CONT (fencing). The job's process
 * keeps running while its agent is frozen; the other agent re-claims and re-runs the job. When
 * the frozen agent wakes it holds output written during the freeze and, here, its run's exit 0:
 * both must be refused. The final record's last attempt is the other agent's, and the log holds
 * no line of the first run stored after the re-claim (lines stored before it are legitimate).
 */
import { FailureClass, JobState, type LongshoreClient } from '@longshore/client';
import { sleep, startCluster, waitFor, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, tsMs } from '../support.js';
import { describeAttempts, jobLog, lineMs, stateName, waitForRecord } from './fault-support.js';

const AGENTS = ['stop-a', 'stop-b'];
/** Short claims so the freeze outlasts one quickly: lease + 2 × stalled check = 4 s. */
const ENV = { LONGSHORE_LEASE: '2s', LONGSHORE_STALLED_CHECK: '1s' };
/**
 * `chatty`: 40 lines, 200 ms apart (8 s per run), so the woken agent holds lines to write.
 * `silent`: one line, then 3 s of silence and exit 0, so the woken agent has nothing to write
 * but the run's completion (only the record's fencing token can refuse it).
 */
const SCRIPTS = {
  chatty: { command: 'i=0; while [ $i -lt 40 ]; do echo "attempt $LONGSHORE_ATTEMPT tick $i"; i=$((i+1)); sleep 0.2; done', lines: 40, first: 'attempt 1 tick 1' },
  silent: { command: 'echo "attempt $LONGSHORE_ATTEMPT start"; sleep 3', lines: 1, first: 'attempt 1 start' },
} as const;
/** Longer than either run, so the frozen agent's run has exited 0 by the time it wakes. */
const FREEZE_MS = 9_000;

describe('fault: an agent is frozen (SIGSTOP) past its lease, then resumed (SIGCONT)', () => {
  let cluster: Cluster;
  let ls: LongshoreClient;
  beforeAll(async () => {
    cluster = await startCluster({ agents: AGENTS.map((id) => ({ LONGSHORE_AGENT_ID: id })), env: ENV });
    ls = connect(cluster);
  });
  afterAll(async () => {
    // Never leave a stopped process behind: stop() would wait out its SIGTERM.
    for (const a of cluster?.agents ?? []) a.signal('SIGCONT');
    ls?.close();
    await cluster?.stop();
  });

  /** Runs `kind` on whichever agent claims it, freezes that agent past its lease, wakes it. */
  async function freeze(kind: keyof typeof SCRIPTS): Promise<void> {
    const { command, lines, first } = SCRIPTS[kind];
    const tag = `agent-stop-cont (${kind})`;
    const job = await ls.submit({ command: ['sh', '-c', command] });
    const running = await waitForRecord(ls, job.id, (j) => j.state === JobState.RUNNING && j.attempts.length === 1, 'the job to run on one agent', 15_000);
    const frozen = running.attempts[0]!.agentId;
    const other = AGENTS.find((id) => id !== frozen)!;
    const agent = cluster.agents[AGENTS.indexOf(frozen)]!;
    await waitFor(async () => (await jobLog(ls, job.id)).some((l) => l.text === first), { timeoutMs: 10_000, what: 'the first lines of attempt 1' });

    agent.signal('SIGSTOP');
    const stoppedAt = Date.now();
    console.log(`${tag}: injected SIGSTOP of ${frozen} for ${FREEZE_MS} ms (lease 2 s, stalled check 1 s) while job ${job.id} ran on it`);
    const rerun = await waitForRecord(ls, job.id, (j) => j.attempts.length >= 2 && j.attempts[1]!.startedAt !== undefined, `the job to run on ${other}`, FREEZE_MS);
    const reclaimMs = tsMs(rerun.attempts[1]!.startedAt) - stoppedAt;
    await sleep(Math.max(0, stoppedAt + FREEZE_MS - Date.now()));
    agent.signal('SIGCONT');
    console.log(`${tag}: injected SIGCONT of ${frozen} after ${Date.now() - stoppedAt} ms`);

    const final = await waitForRecord(ls, job.id, (j) => j.finishedAt !== undefined, 'the job to finish', 25_000);
    // Give the woken agent time to try every late write before the log is read.
    await sleep(1_000);
    const after = await ls.getJob(job.id);
    const log = await jobLog(ls, job.id);
    const claimedAt = tsMs(final.attempts[1]?.startedAt);
    const firstB = log.findIndex((l) => l.text.startsWith('attempt 2 '));
    const aLines = log.filter((l) => l.text.startsWith('attempt 1 '));
    const lateA = log.filter((l, i) => l.text.startsWith('attempt 1 ') && ((firstB >= 0 && i > firstB) || lineMs(l) >= claimedAt));
    const bLines = log.filter((l) => l.text.startsWith('attempt 2 ')).length;
    const said = agent.logs.filter((l) => l['job'] === job.id && Date.parse(String(l['time'])) >= stoppedAt).map((l) => String(l['msg']));
    console.log(
      `${tag}: counted re-claim ${reclaimMs} ms after the stop; ${frozen} lines stored ${aLines.length} (before the re-claim), after it ${lateA.length}; ` +
        `${other} lines ${bLines}; final ${stateName(final)}; attempts: ${describeAttempts(final)}; ${frozen} logged after waking: ${JSON.stringify(said)}`,
    );

    expect(lateA.map((l) => l.text)).toEqual([]);
    expect(final.state).toBe(JobState.SUCCEEDED);
    expect(final.attempts).toHaveLength(2);
    expect(final.attempts[0]).toMatchObject({ agentId: frozen, failureClass: FailureClass.LOST });
    expect(final.attempts[1]).toMatchObject({ agentId: other, exitCode: 0 });
    expect(final.agentId).toBe(other);
    expect(bLines).toBe(lines);
    // Exactly one final state: nothing the woken agent did changed it afterwards.
    expect({ state: after.state, finishedAt: tsMs(after.finishedAt), attempts: after.attempts.length }).toEqual({
      state: final.state,
      finishedAt: tsMs(final.finishedAt),
      attempts: 2,
    });
  }

  it("refuses the woken agent's late log lines and its late completion", () => freeze('chatty'));

  it("refuses a woken agent's late completion of a run that printed nothing meanwhile", () => freeze('silent'));
});
