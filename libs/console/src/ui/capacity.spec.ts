import { describe, expect, it } from 'vitest';
import { capacityParts } from './capacity.js';
import { href, parseRoute } from './routes.js';

describe("an agent's capacity bar", () => {
  it('is made of its jobs by weight, each linking to the job, then the weight not accounted for', () => {
    const parts = capacityParts({ jobs: [{ id: 'default.j1', weightMilli: 500, weight: '0.5' }, { id: 'j/2', weightMilli: 125, weight: '0.125' }], otherWeightMilli: 250, otherWeight: '0.25' });
    expect(parts).toEqual([
      { key: 'default.j1', milli: 500, label: 'job default.j1, weight 0.5', href: '#/jobs/default.j1' },
      { key: 'j/2', milli: 125, label: 'job j/2, weight 0.125', href: '#/jobs/j%2F2' },
      { key: 'other', milli: 250, label: 'other jobs, weight 0.25' },
    ]);
    expect(capacityParts({ jobs: [], otherWeightMilli: 0, otherWeight: '0' })).toEqual([]);
  });
});

describe('routes', () => {
  it('reads the address after #/ and makes links that read back', () => {
    expect(parseRoute('#/jobs/a%2Fb?pool=x&label=a%3Db')).toMatchObject({ path: ['jobs', 'a/b'] });
    expect(parseRoute('#/jobs?pool=x').query.get('pool')).toBe('x');
    expect(parseRoute('').path).toEqual(['pools']);
    expect(parseRoute(href('jobs', 'a/b')).path).toEqual(['jobs', 'a/b']);
  });
});
