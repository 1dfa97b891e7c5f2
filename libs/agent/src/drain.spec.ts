import { agentStateEnum } from '@longshore/rpc';
import { describe, expect, it, vi } from 'vitest';
import { settle, startTestAgent, useTestAgents, type TestAgent } from './spec-helpers.js';

/** Draining: stop claiming, let what runs finish within the grace, hand back the rest, leave. */
describe('draining', () => {
  let t: TestAgent | undefined;
  useTestAgents();

  it('stops claiming, records runs that end within the grace, hands back the rest after it', async () => {
    t = await startTestAgent({ settings: { shutdownGraceMs: 10_000 } });
    const quick = t.source.add({ weightMilli: 400 });
    const slow = t.source.add({ weightMilli: 400 });
    t.events.announce();
    await settle();
    const claims = t.source.claims.length;
    const closing = t.agent.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await settle();
    expect(t.agent.state).toBe('draining');

    const waiting = t.source.add({ weightMilli: 100 });
    t.events.announce();
    await vi.advanceTimersByTimeAsync(4000);
    t.executor.runOf(quick)!.succeed();
    await vi.advanceTimersByTimeAsync(5000);
    expect(closed).toBe(false);
    expect(t.executor.runOf(slow)!.stopRequested).toBe(false);

    await vi.advanceTimersByTimeAsync(1500);
    await closing;
    expect(t.source.claims.length).toBe(claims); // nothing claimed after close()
    expect(t.source.state(waiting)).toBe('queued');
    expect(t.source.finished).toMatchObject([{ id: quick, result: 'ended', outcome: { state: 'succeeded' } }]);
    expect(t.source.handBacks).toMatchObject([{ id: slow, accepted: true, attempt: { handedBack: true } }]);
    expect(t.agent.state).toBe('stopped');
    expect(t.registry.deregistrations).toEqual(['agent-1']);
    expect({ source: t.source.closed, events: t.events.closed, registry: t.registry.closed }).toEqual({ source: true, events: true, registry: true });
    t = undefined;
  });

  it('waits for a run that ignores its stop before it hands the job back and leaves', async () => {
    t = await startTestAgent({ settings: { shutdownGraceMs: 1000 } });
    const id = t.source.add({ weightMilli: 400 });
    t.events.announce();
    const run = (await t.executor.started(id)).ignoreStop();
    const closing = t.agent.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(5000);
    expect(run.stopRequested).toBe(true);
    expect(closed).toBe(false);
    run.fail(143);
    await vi.advanceTimersByTimeAsync(1000);
    await closing;
    expect(t.source.handBacks).toMatchObject([{ id, accepted: true }]);
    expect(t.source.finished).toEqual([]);
    t = undefined;
  });

  it('drains when the registry orders it, and resolves `stopped`', async () => {
    t = await startTestAgent();
    const id = t.source.add({ weightMilli: 400 });
    t.events.announce();
    const run = await t.executor.started(id);
    t.registry.orderDrain();
    await vi.advanceTimersByTimeAsync(1000); // the next heartbeat carries the order
    expect(t.agent.state).toBe('draining');
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.registry.heartbeats.at(-1)?.state).toBe(agentStateEnum.toProto('draining'));
    t.source.add({ weightMilli: 100 });
    t.events.announce();
    await settle();
    expect(t.executor.runs).toHaveLength(1);
    run.succeed();
    await vi.advanceTimersByTimeAsync(1000);
    await t.agent.stopped;
    expect(t.source.finished).toMatchObject([{ id, outcome: { state: 'succeeded' } }]);
    expect(t.registry.deregistrations).toEqual(['agent-1']);
    t = undefined;
  });

  it('close() twice is one close', async () => {
    t = await startTestAgent();
    const a = t.agent.close();
    const b = t.agent.close();
    expect(b).toBe(a);
    await vi.runAllTimersAsync();
    await a;
    expect(t.registry.deregistrations).toHaveLength(1);
    t = undefined;
  });
});
