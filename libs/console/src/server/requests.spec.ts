import { describe, expect, it } from 'vitest';
import { Executor, JobState } from '@longshore/client';
import { listJobsRequest, parseCreatePool, parseDeletePool, parseJobListQuery, parseSubmit, parseUpdatePool } from './requests.js';

describe('console requests are checked at the edge', () => {
  it('turns list filters into a ListJobs request', () => {
    const q = parseJobListQuery(new URLSearchParams('pool=ingest&state=running&label=team=data&label=tier=a=b&pageSize=100&pageToken=abc'));
    expect(listJobsRequest(q)).toEqual({ pool: 'ingest', state: JobState.RUNNING, labels: { team: 'data', tier: 'a=b' }, pageSize: 100, pageToken: 'abc' });
    expect(parseJobListQuery(new URLSearchParams('')).pageSize).toBe(50);
  });

  it('names the bad filter and the fix', () => {
    expect(() => parseJobListQuery(new URLSearchParams('state=done'))).toThrow(/^state: "done" is not a job state \(one of queued/);
    expect(() => parseJobListQuery(new URLSearchParams('label=team'))).toThrow('label: "team" is not KEY=VALUE');
    expect(() => parseJobListQuery(new URLSearchParams('pageSize=100000'))).toThrow('pageSize: "100000" is not a page size: use 1 to 500');
  });

  it('reads the submit form: argv verbatim, weight in thousandths, timeout in ms', () => {
    const spec = parseSubmit({ command: ['sh', '-c', 'echo $HOME'], pool: 'p', weight: '0.25', timeout: '1m', maxAttempts: '3', labels: { a: 'b' }, env: {} });
    expect(spec).toMatchObject({ command: ['sh', '-c', 'echo $HOME'], pool: 'p', weightMilli: 250, timeoutMs: 60_000n, maxAttempts: 3, labels: { a: 'b' } });
    expect(() => parseSubmit({ command: [] })).toThrow(/^command: give the program/);
    expect(() => parseSubmit({ command: ['x'], weight: 'heavy' })).toThrow(/^weight: "heavy" is not a decimal/);
    expect(() => parseSubmit({ command: ['x'], executor: 'vm' })).toThrow(/^executor: "vm" is not an executor/);
    expect(() => parseSubmit({ command: ['x'], labels: { a: 1 } })).toThrow(/^labels: must map names to text/);
  });

  it('reads the create-pool form', () => {
    expect(parseCreatePool({ id: 'p', defaultWeight: '0.5', makeDefault: true })).toEqual({ id: 'p', description: '', defaultWeightMilli: 500, executors: [], secrets: [], makeDefault: true });
    expect(parseCreatePool({ id: 'p', executors: 'docker', standard: 'cpus=2,memory=4Gi', secrets: 'ingest_*, DB_PASSWORD' })).toMatchObject({
      executors: [Executor.DOCKER],
      standard: { cpusMilli: 2000, memoryBytes: 4n * 1024n ** 3n },
      secrets: ['ingest_*', 'DB_PASSWORD'],
    });
    expect(() => parseCreatePool({ id: 'p', standard: 'gpus=1' })).toThrow(/^standard: unknown key "gpus": a standard agent has cpus and memory/);
  });

  it('reads the edit-pool form: the mask names exactly the fields sent', () => {
    expect(parseUpdatePool('p', { maxWeight: '2', executors: 'docker, subprocess' })).toEqual({ id: 'p', description: '', defaultWeightMilli: 0, maxWeightMilli: 2000, executors: [Executor.DOCKER, Executor.SUBPROCESS], secrets: [], updateMask: ['max_weight_milli', 'executors'] });
    expect(parseUpdatePool('p', { description: '' }).updateMask).toEqual(['description']);
    // The standard agent and the secrets allow-list, as `pools update --standard/--secrets` take them.
    expect(parseUpdatePool('p', { standard: 'cpus=4,memory=8Gi', secrets: 'ingest_*,DB_PASSWORD' })).toMatchObject({
      standard: { cpusMilli: 4000, memoryBytes: 8n * 1024n ** 3n },
      secrets: ['ingest_*', 'DB_PASSWORD'],
      updateMask: ['standard', 'secrets'],
    });
    // Emptied (or "none"): the standard cleared (unset under its mask), any secret allowed.
    const cleared = parseUpdatePool('p', { standard: 'none', secrets: '' });
    expect(cleared).toMatchObject({ secrets: [], updateMask: ['standard', 'secrets'] });
    expect(cleared).not.toHaveProperty('standard');
    expect(() => parseUpdatePool('p', { standard: 'cpus' })).toThrow(/^standard: "cpus" is not key=value/);
    expect(() => parseUpdatePool('p', { standard: 'cpus=lots' })).toThrow(/^standard\.cpus: "lots" is not a decimal/);
    // Nothing named: sent as it is, for the API's own message.
    expect(parseUpdatePool('p', {}).updateMask).toEqual([]);
    expect(() => parseUpdatePool('p', { defaultWeight: 'half' })).toThrow(/^defaultWeight: "half" is not a decimal/);
    expect(() => parseUpdatePool('p', { executors: 'vm' })).toThrow(/^executors: "vm" is not an executor/);
    expect(parseDeletePool('p', { force: true })).toEqual({ id: 'p', force: true });
    expect(parseDeletePool('p', {})).toEqual({ id: 'p', force: false });
  });
});
