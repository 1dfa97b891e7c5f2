import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClaimRequest, HeldJob } from '@longshore/queue';
import { Redactor } from '@longshore/secrets';
import { LogWriter } from './log-writer.js';
import { FakeJobSource } from './testing/index.js';

const req: ClaimRequest = { freeMilli: 1000, capacityMilli: 1000, laneRoom: {}, max: 1, executors: ['subprocess'] };

async function held(s: FakeJobSource): Promise<HeldJob> {
  s.add();
  const [c] = (await s.claim(req)).jobs;
  if (c?.kind !== 'job') throw new Error('no job claimed');
  return c.job;
}

describe('LogWriter with a redactor', () => {
  const secret = 'tok3n-Value-42';
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('masks a value split over two lines printed a long time apart: the timed flush never releases the held line', async () => {
    const s = new FakeJobSource();
    const job = await held(s);
    const w = new LogWriter(s, job, 1 << 20, () => undefined, (err) => { throw err; }, new Redactor([secret]));
    w.line('stdout', 'before');
    w.line('stdout', `token ${secret.slice(0, 7)}`);
    // An hour of flushes: the line released before is stored, the one that may begin the value is not.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(s.logs(job.id).map((l) => l.text)).toEqual(['before']);
    w.line('stdout', `${secret.slice(7)} after`);
    await vi.advanceTimersByTimeAsync(100);
    expect(s.logs(job.id).map((l) => l.text)).toEqual(['before', 'token ***', '*** after']);
  });

  it('writes other lines on the timed flush, and a held line when the output ends', async () => {
    const s = new FakeJobSource();
    const job = await held(s);
    const w = new LogWriter(s, job, 1 << 20, () => undefined, (err) => { throw err; }, new Redactor([secret]));
    w.line('stdout', 'plain line');
    w.line('stderr', `${secret} on stderr`);
    await vi.advanceTimersByTimeAsync(100);
    expect(s.logs(job.id)).toEqual([
      { stream: 'stdout', text: 'plain line' },
      { stream: 'stderr', text: '*** on stderr' },
    ]);
    // Ends in `t`, the value's first letter: held, until the end of the output releases it.
    w.line('stdout', 'last line, cut at t');
    await vi.advanceTimersByTimeAsync(100);
    expect(s.logs(job.id)).toHaveLength(2);
    await w.end();
    expect(s.logs(job.id).at(-1)).toEqual({ stream: 'stdout', text: 'last line, cut at t' });
  });
});
