import { describe, expect, it } from 'vitest';
import { ConfigError, loadAgentConfig } from './index.js';

const base = { LONGSHORE_AGENT_ID: 'a1', LONGSHORE_HOME: '/nonexistent/longshore-home' };

describe('agent job isolation configuration', () => {
  it('defaults to the 200000-265535 uid range, the automatic firewall and the default dispatcher', () => {
    const a = loadAgentConfig(base);
    expect(a).toMatchObject({ jobUids: { first: 200000, last: 265535 }, jobUidsExplicit: false, jobFirewall: 'auto', dispatcher: '127.0.0.1:7400' });
  });

  it('reads an explicit range, off, and the firewall modes', () => {
    expect(loadAgentConfig({ ...base, LONGSHORE_JOB_UIDS: '300000-300009' })).toMatchObject({ jobUids: { first: 300000, last: 300009 }, jobUidsExplicit: true });
    expect(loadAgentConfig({ ...base, LONGSHORE_JOB_UIDS: 'off', LONGSHORE_JOB_FIREWALL: 'on' })).toMatchObject({ jobUids: 'off', jobFirewall: 'on' });
    expect(loadAgentConfig({ ...base, LONGSHORE_DISPATCHER: '10.0.0.5:7400' }).dispatcher).toBe('10.0.0.5:7400');
  });

  it.each([['0-100'], ['5000-4000'], ['200000'], ['abc'], ['1000-4294967295']])('refuses LONGSHORE_JOB_UIDS=%s, naming the variable', (value) => {
    expect(() => loadAgentConfig({ ...base, LONGSHORE_JOB_UIDS: value })).toThrow(ConfigError);
    expect(() => loadAgentConfig({ ...base, LONGSHORE_JOB_UIDS: value })).toThrow(/LONGSHORE_JOB_UIDS=.*uid range FIRST-LAST/);
  });

  it('refuses an unknown firewall mode, naming the variable', () => {
    expect(() => loadAgentConfig({ ...base, LONGSHORE_JOB_FIREWALL: 'yes' })).toThrow(/LONGSHORE_JOB_FIREWALL="yes"/);
  });
});
