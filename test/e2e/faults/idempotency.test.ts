/**
 * Fault: a client submits with the same idempotency key more than once: twice in a row, ten
 * times at once, and after a call that timed out on the client's side (its deadline was 1 ms, so
 * the server may or may not have acted on it). Each key must map to exactly one job: the
 * repeats return its id with `deduplicated: true`, and listing shows one job per key.
 */
import { randomUUID } from 'node:crypto';
import { JobState, type Job, type SubmitJobResponse } from '@longshore/client';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../support.js';
import { codeName, newRetryStats, retrying, waitForRecord } from './fault-support.js';

describe('fault: a client repeats a submit with the same idempotency key', () => {
  const t = useCluster({ agents: 1 });
  const run = randomUUID().slice(0, 8);

  const spec = (key: string) => ({ command: ['sh', '-c', 'echo once'], idempotencyKey: key, labels: { run } });
  const submit = (key: string, timeoutMs = 10_000): Promise<SubmitJobResponse> => t.ls.dispatcher.submitJob({ spec: spec(key) }, { timeoutMs });

  /** Every job of this run whose spec carries `key`. */
  async function jobsWithKey(key: string): Promise<Job[]> {
    const out: Job[] = [];
    let pageToken = '';
    for (let page = 0; page < 100; page++) {
      const res = await t.ls.dispatcher.listJobs({ labels: { run }, pageSize: 500, pageToken });
      out.push(...res.jobs.filter((j) => j.spec?.idempotencyKey === key));
      pageToken = res.nextPageToken;
      if (!pageToken) break;
    }
    return out;
  }

  it('returns the same job for a key submitted twice in a row', async () => {
    const key = `${run}-seq`;
    const first = await submit(key);
    const second = await submit(key);
    const listed = await jobsWithKey(key);
    const done = await waitForRecord(t.ls, first.job!.id, (j) => j.finishedAt !== undefined, 'the job to finish');
    console.log(
      `idempotency (sequential): injected 2 submits with key ${key}; counted ids ${first.job!.id} / ${second.job!.id}, ` +
        `deduplicated ${first.deduplicated} / ${second.deduplicated}, jobs listed with the key ${listed.length}`,
    );
    expect(second.job!.id).toBe(first.job!.id);
    expect([first.deduplicated, second.deduplicated]).toEqual([false, true]);
    expect(listed.map((j) => j.id)).toEqual([first.job!.id]);
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.attempts).toHaveLength(1);
  });

  it('returns one job for a key submitted 10 times at once', async () => {
    const key = `${run}-burst`;
    const results = await Promise.all(Array.from({ length: 10 }, () => submit(key)));
    const ids = new Set(results.map((r) => r.job!.id));
    const fresh = results.filter((r) => !r.deduplicated).length;
    const listed = await jobsWithKey(key);
    console.log(`idempotency (concurrent): injected 10 concurrent submits with key ${key}; counted distinct ids ${ids.size}, not deduplicated ${fresh}, jobs listed with the key ${listed.length}`);
    expect(ids.size).toBe(1);
    expect(fresh).toBe(1);
    expect(listed.map((j) => j.id)).toEqual([...ids]);
  });

  it('never creates a duplicate when a client retries after its call timed out', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const key = `${run}-timeout-${i}`;
      const first = await submit(key, 1).then(
        (r) => `ok${r.deduplicated ? ' (deduplicated)' : ''}`,
        (e: unknown) => codeName(e),
      );
      const retry = await retrying(() => submit(key), newRetryStats(), `retry of ${key}`);
      const listed = await jobsWithKey(key);
      outcomes.push(`${first} → retry deduplicated ${retry.deduplicated}, listed ${listed.length}`);
      expect(listed.map((j) => j.id), `jobs with key ${key}`).toEqual([retry.job!.id]);
    }
    console.log(`idempotency (timed-out client): injected 5 × (a submit with a 1 ms deadline, then a retry); counted: ${outcomes.join('; ')}`);
  });
});
