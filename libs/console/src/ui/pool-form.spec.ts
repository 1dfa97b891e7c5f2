import { describe, expect, it } from 'vitest';
import type { PoolView } from '../api-types.js';
import { newPoolBody, poolChanges, poolFieldValues, secretsText, standardText } from './pool-form.js';

const POOL: PoolView = {
  id: 'ingest',
  description: 'EU ingestion',
  isDefault: false,
  defaultWeight: '0.25',
  maxWeight: '1',
  executors: ['docker', 'subprocess'],
  standard: 'cpus=2,memory=4Gi',
  secrets: ['ingest_*', 'DB_PASSWORD'],
  health: 'healthy',
  liveAgents: 1,
  lostAgents: 0,
  drainingAgents: 0,
  capacityMilli: 1000,
  weightInUseMilli: 0,
  capacity: '1',
  weightInUse: '0',
  jobsQueued: 0,
  jobsRunning: 0,
};

const fields = (values: Record<string, string>) => (name: string) => values[name] ?? null;

describe('the pool forms', () => {
  it('start with the pool\'s values as they are typed', () => {
    expect(poolFieldValues(POOL)).toEqual({ description: 'EU ingestion', defaultWeight: '0.25', maxWeight: '1', executors: 'docker, subprocess', standard: 'cpus=2,memory=4Gi', secrets: 'ingest_*, DB_PASSWORD' });
  });

  it('send only the fields the user changed, trimmed', () => {
    const same = poolFieldValues(POOL);
    expect(poolChanges(POOL, fields({ ...same, description: ' EU ingestion ' }))).toEqual({});
    expect(poolChanges(POOL, fields({ ...same, standard: 'cpus=4,memory=8Gi ', secrets: 'ingest_*' }))).toEqual({ standard: 'cpus=4,memory=8Gi', secrets: 'ingest_*' });
  });

  it('send an emptied standard or secrets field empty: no standard, any secret', () => {
    expect(poolChanges(POOL, fields({ ...poolFieldValues(POOL), standard: '', secrets: ' ' }))).toEqual({ standard: '', secrets: '' });
  });

  it('create with the fields given, leaving the rest to the API\'s defaults', () => {
    expect(newPoolBody(fields({ id: ' etl ', standard: 'cpus=2', secrets: '', maxWeight: '2' }), true)).toEqual({ id: 'etl', makeDefault: true, standard: 'cpus=2', maxWeight: '2' });
  });

  it('show the standard agent and the secrets on the card, and what none means', () => {
    expect(standardText(POOL)).toBe('cpus=2,memory=4Gi');
    expect(secretsText(POOL)).toBe('ingest_*, DB_PASSWORD');
    expect(standardText({ ...POOL, standard: '' })).toBe('none (weights are admission only)');
    expect(secretsText({ ...POOL, secrets: [] })).toBe('any');
  });
});
