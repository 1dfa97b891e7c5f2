import { Writable } from 'node:stream';
import { executorEnum } from '@longshore/rpc';
import { createLogger } from '@longshore/telemetry';
import { describe, expect, it, vi } from 'vitest';
import type { AgentReport } from './registry-client.js';
import { runningJobs, settle, startTestAgent, useTestAgents } from './spec-helpers.js';

const ENOENT = 'connect ENOENT /var/run/docker.sock';

/** What a report says of the executors: those it can run now, and each one's state. */
function executorsOf(report: AgentReport | undefined) {
  return {
    executors: (report?.executors ?? []).map((e) => executorEnum.fromProto(e)),
    health: (report?.executorHealth ?? []).map((h) => `${executorEnum.fromProto(h.executor!)}: ${h.healthy ? 'ok' : `unreachable (${h.reason})`}`),
  };
}

/** A logger whose lines the test reads back. */
function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: string; msg: string });
      done();
    },
  });
  return { logger: createLogger('agent-spec', { level: 'info', destination }), lines };
}

describe("an agent's executor health", () => {
  useTestAgents();
  const HEARTBEAT_MS = 1000; // the fake registry's interval

  it('is probed at start: an executor unhealthy then is registered as such and claims nothing', async () => {
    const t = await startTestAgent({ docker: { available: false } });
    expect(t.docker!.probes).toBe(1);
    expect(executorsOf(t.registry.registrations[0])).toEqual({ executors: ['subprocess'], health: ['subprocess: ok', 'docker: unreachable (not available (FakeExecutor))'] });
    const job = t.source.add({ executor: 'docker', image: 'busybox:1' });
    t.events.announce();
    await settle();
    expect(t.source.state(job)).toBe('queued');
    expect(t.source.claims.at(-1)!.req.executors).toEqual(['subprocess']);
  });

  it('an executor turning unhealthy stops its jobs being claimed and shows in the next heartbeat; healthy again, it claims them again', async () => {
    const log = capturingLogger();
    const t = await startTestAgent({ docker: {}, logger: log.logger });
    const docker = t.docker!;
    expect(executorsOf(t.registry.last)).toEqual({ executors: ['subprocess', 'docker'], health: ['subprocess: ok', 'docker: ok'] });
    const first = t.source.add({ executor: 'docker', image: 'busybox:1', weightMilli: 100 });
    t.events.announce();
    await settle();
    expect(runningJobs({ ...t, executor: docker })).toEqual([first]);
    docker.runOf(first)!.succeed();
    await settle();

    docker.setHealth({ healthy: false, reason: ENOENT });
    const beats = t.registry.heartbeats.length;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    await settle();
    expect(t.registry.heartbeats.length).toBeGreaterThan(beats);
    expect(executorsOf(t.registry.last)).toEqual({ executors: ['subprocess'], health: ['subprocess: ok', `docker: unreachable (${ENOENT})`] });

    // Only subprocess jobs are claimed now; the docker job waits.
    const [dockerJob, plain] = [t.source.add({ executor: 'docker', image: 'busybox:1', weightMilli: 100 }), t.source.add({ weightMilli: 100 })];
    t.events.announce();
    await settle();
    expect(t.source.state(dockerJob)).toBe('queued');
    expect(runningJobs(t)).toEqual([plain]);
    expect(t.source.claims.at(-1)!.req.executors).toEqual(['subprocess']);

    // More heartbeats while it stays down: the transition is logged once.
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    docker.setHealth({ healthy: true });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    await settle();
    expect(runningJobs({ ...t, executor: docker })).toEqual([dockerJob]);
    expect(executorsOf(t.registry.last)).toEqual({ executors: ['subprocess', 'docker'], health: ['subprocess: ok', 'docker: ok'] });
    await vi.advanceTimersByTimeAsync(2 * HEARTBEAT_MS);
    const transitions = log.lines.filter((l) => l.msg.startsWith('executor docker')).map((l) => `${l.level}: ${l.msg}`);
    expect(transitions).toEqual([
      `warn: executor docker is unreachable (${ENOENT}): claiming none of its jobs until it is healthy again`,
      'info: executor docker is healthy again: claiming its jobs again',
    ]);
  });

  it('an auto job whose chain allows an unhealthy executor runs on the next one, saying why', async () => {
    const t = await startTestAgent({ docker: {} });
    t.docker!.setHealth({ healthy: false, reason: ENOENT });
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    const job = t.source.add({ executor: 'auto', allowedExecutors: ['docker', 'subprocess'], image: 'busybox:1' });
    t.events.announce();
    await settle();
    expect(runningJobs(t)).toEqual([job]);
    expect(t.docker!.runs).toEqual([]);
    t.executor.runOf(job)!.succeed();
    await settle();
    expect(t.source.finished.at(-1)!.outcome.attempt).toMatchObject({ executor: 'subprocess', executorReason: `auto: docker unreachable on this agent (${ENOENT}); chose subprocess` });
  });

  it('a probe that hangs does not hold up heartbeats beyond the probe timeout, is not started again while out, and makes its executor unhealthy', async () => {
    const t = await startTestAgent({ docker: {}, probeTimeoutMs: 300 });
    const docker = t.docker!;
    docker.setHealth('hang');
    const probes = docker.probes;
    const beats = t.registry.heartbeats.length;
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS); // the heartbeat is due: it probes first
    expect(docker.probes).toBe(probes + 1);
    expect(t.registry.heartbeats.length).toBe(beats); // waiting for the probe, up to its timeout
    await vi.advanceTimersByTimeAsync(300);
    await settle();
    expect(t.registry.heartbeats.length).toBe(beats + 1);
    expect(executorsOf(t.registry.last)).toEqual({ executors: ['subprocess'], health: ['subprocess: ok', 'docker: unreachable (its probe did not answer within 300 ms)'] });

    // Heartbeats keep coming; the probe still out is not started again.
    for (let i = 0; i < 4; i++) await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + 300);
    await settle();
    expect(t.registry.heartbeats.length).toBeGreaterThanOrEqual(beats + 5);
    expect(docker.probes).toBe(probes + 1);
    expect(docker.probesInFlight).toBe(1);

    // It answers at last, healthy: the next heartbeat says so, and probes start again.
    docker.setHealth({ healthy: true });
    await settle();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + 300);
    await settle();
    expect(executorsOf(t.registry.last).health).toEqual(['subprocess: ok', 'docker: ok']);
    expect(docker.probes).toBeGreaterThan(probes + 1);
  });
});
