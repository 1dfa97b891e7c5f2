import { JobState, JobView } from '@longshore/client';
import { describe, expect, it } from 'vitest';
import { tsMs, useCluster } from './support.js';

describe('SubmitJobs views', () => {
  // No agents: the jobs stay queued, so what the response says can be compared with the record.
  const t = useCluster({ agents: 0 });
  const specs = [
    { command: ['echo', 'a'], weightMilli: 250, labels: { batch: 'views' } },
    { command: ['echo', 'b'], labels: { batch: 'views' } },
  ];

  it('answers with whole records by default, spec included', async () => {
    const { jobs } = await t.ls.dispatcher.submitJobs({ specs });
    expect(jobs.map((j) => [j.state, j.spec?.command])).toEqual([
      [JobState.QUEUED, ['echo', 'a']],
      [JobState.QUEUED, ['echo', 'b']],
    ]);
  });

  it('answers with id, state, weight and creation time only when asked for the basic view; the records are whole', async () => {
    const { jobs } = await t.ls.dispatcher.submitJobs({ specs, view: JobView.BASIC });
    expect(jobs).toHaveLength(2);
    for (const [i, basic] of jobs.entries()) {
      expect(basic.spec).toBeUndefined();
      expect(basic.state).toBe(JobState.QUEUED);
      const full = (await t.ls.dispatcher.getJob({ id: basic.id })).job!;
      // The pool's default weight (0.25) was resolved into the second one.
      expect([basic.weightMilli, tsMs(basic.createdAt)]).toEqual([full.weightMilli, tsMs(full.createdAt)]);
      expect(full.spec?.command).toEqual(specs[i]!.command);
      expect(full.spec?.labels).toEqual({ batch: 'views' });
    }
  });
});
