import { PermissionDeniedError } from '@longshore/domain';
import { agentStateEnum } from '@longshore/rpc';
import { describe, expect, it, vi } from 'vitest';
import { settle, startTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';
import { FakeJobSource, FakeRegistry } from './testing/index.js';

/** The agent and the registry: required at start, optional after. */
describe('the agent and its registry', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  it('registers once at start with its capacity and state, and reports load as it changes', async () => {
    t = await startTestAgent({ settings: { capacityMilli: 2000, lanes: { ingestion: 2 } } });
    expect(t.registry.registrations).toMatchObject([{ id: 'agent-1', capacityMilli: 2000, weightInUseMilli: 0, laneLimits: { ingestion: 2 }, state: agentStateEnum.toProto('active') }]);
    const id = t.source.add({ weightMilli: 700, lane: 'ingestion' });
    t.events.announce();
    await settle();
    await vi.advanceTimersByTimeAsync(250); // load changes are coalesced
    expect(t.registry.last).toMatchObject({ weightInUseMilli: 700, runningJobIds: [id], laneUsage: { ingestion: 1 } });
  });

  it('refuses to start when the registry refuses it, and claims nothing', async () => {
    const registry = new FakeRegistry();
    registry.failWith(new PermissionDeniedError('token of pool "other" cannot register in pool "default"'));
    const source = new FakeJobSource();
    source.add({ weightMilli: 100 });
    await expect(startTestAgent({ registry, source })).rejects.toThrow(/cannot register/);
    expect(source.claims).toEqual([]);
  });

  it('gives up starting when the registry stays unreachable past the register timeout', async () => {
    const registry = new FakeRegistry();
    registry.failWith(new Error('connect ECONNREFUSED'));
    const starting = startTestAgent({ registry });
    const outcome = expect(starting).rejects.toThrow(/could not register with the pool registry at fake-registry:0 within 1000 ms/);
    await vi.advanceTimersByTimeAsync(5000);
    await outcome;
  });

  it('keeps claiming and running jobs while the registry is down, and re-registers when it forgot the agent', async () => {
    t = await startTestAgent();
    t.registry.failWith(new Error('registry unavailable'));
    const a = t.source.add({ weightMilli: 500 });
    t.events.announce();
    (await t.executor.started(a)).succeed();
    const b = t.source.add({ weightMilli: 500 });
    t.events.announce();
    await vi.advanceTimersByTimeAsync(3000);
    (await t.executor.started(b)).succeed();
    await settle();
    expect(t.source.finished.map((f) => f.outcome.state)).toEqual(['succeeded', 'succeeded']);

    t.registry.recover();
    t.registry.forget();
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.registry.registrations).toHaveLength(2);
  });
});
