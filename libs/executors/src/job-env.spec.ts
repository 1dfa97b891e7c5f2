import { describe, expect, it } from 'vitest';
import { buildJobEnv, DEFAULT_INHERIT_NAMES, FALLBACK_PATH } from './job-env.js';

const agentEnv = {
  PATH: '/agent/bin:/usr/bin',
  HOME: '/home/agent',
  LANG: 'C.UTF-8',
  TZ: 'UTC',
  AWS_SECRET_ACCESS_KEY: 'hunter2',
  LONGSHORE_REDIS_URL: 'redis://secret@localhost',
};

describe('buildJobEnv', () => {
  it('inherits only the allow-listed names that are set, never secrets or LONGSHORE_* settings', () => {
    const env = buildJobEnv({ inherit: agentEnv, jobEnv: {}, jobId: 'j1', attempt: 2 });
    expect(env).toEqual({
      PATH: '/agent/bin:/usr/bin',
      HOME: '/home/agent',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      LONGSHORE_JOB_ID: 'j1',
      LONGSHORE_ATTEMPT: '2',
    });
    expect(DEFAULT_INHERIT_NAMES).toEqual(['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']);
  });

  it('puts the job env over inherited values', () => {
    const env = buildJobEnv({ inherit: agentEnv, jobEnv: { HOME: '/work', FOO: 'bar' }, jobId: 'j1', attempt: 1 });
    expect(env['HOME']).toBe('/work');
    expect(env['FOO']).toBe('bar');
  });

  it('sets LONGSHORE_JOB_ID and LONGSHORE_ATTEMPT last, so a job cannot spoof them', () => {
    const env = buildJobEnv({
      inherit: agentEnv,
      jobEnv: { LONGSHORE_JOB_ID: 'other', LONGSHORE_ATTEMPT: '99' },
      jobId: 'j1',
      attempt: 3,
    });
    expect(env['LONGSHORE_JOB_ID']).toBe('j1');
    expect(env['LONGSHORE_ATTEMPT']).toBe('3');
  });

  it("sets TRACEPARENT to the attempt's trace context when traced, over the job's own; none otherwise", () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const env = buildJobEnv({ inherit: { ...agentEnv, TRACEPARENT: 'agent' }, jobEnv: { TRACEPARENT: 'job' }, jobId: 'j1', attempt: 1, traceparent: tp });
    expect(env['TRACEPARENT']).toBe(tp);
    expect(buildJobEnv({ inherit: { ...agentEnv, TRACEPARENT: 'agent' }, jobEnv: {}, jobId: 'j1', attempt: 1 })['TRACEPARENT']).toBeUndefined();
  });

  it('honours custom inheritNames instead of the default list', () => {
    const env = buildJobEnv({ inherit: agentEnv, inheritNames: ['HOME', 'NOT_SET'], jobEnv: {}, jobId: 'j', attempt: 1 });
    expect(Object.keys(env).sort()).toEqual(['HOME', 'LONGSHORE_ATTEMPT', 'LONGSHORE_JOB_ID', 'PATH']);
    expect(env['PATH']).toBe(FALLBACK_PATH);
  });

  it('uses the fallback PATH when neither agent nor job sets one, and keeps a job PATH', () => {
    expect(buildJobEnv({ inherit: {}, jobEnv: {}, jobId: 'j', attempt: 1 })['PATH']).toBe(
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    );
    expect(buildJobEnv({ inherit: {}, jobEnv: { PATH: '/opt/x' }, jobId: 'j', attempt: 1 })['PATH']).toBe('/opt/x');
  });

  it('points HOME and TMPDIR into the private directory instead of the agent\'s, unless the job sets them', () => {
    const env = buildJobEnv({ inherit: { ...agentEnv, HOME: '/root', TMPDIR: '/tmp' }, jobEnv: {}, jobId: 'j', attempt: 1, privateDir: '/jobs/j-1' });
    expect(env).toMatchObject({ HOME: '/jobs/j-1', TMPDIR: '/jobs/j-1/tmp' });
    const own = buildJobEnv({ inherit: agentEnv, jobEnv: { TMPDIR: '/scratch' }, jobId: 'j', attempt: 1, privateDir: '/jobs/j-1' });
    expect(own).toMatchObject({ HOME: '/jobs/j-1', TMPDIR: '/scratch' });
  });

  it('does not alias the inputs', () => {
    const jobEnv = { A: '1' };
    const env = buildJobEnv({ inherit: agentEnv, jobEnv, jobId: 'j', attempt: 1 });
    env['A'] = '2';
    expect(jobEnv).toEqual({ A: '1' });
  });
});
