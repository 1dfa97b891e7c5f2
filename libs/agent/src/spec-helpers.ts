import { FakeExecutor, type FakeExecutorOptions } from '@longshore/testing';
import { silentLogger, type Logger } from '@longshore/telemetry';
import { afterEach, beforeEach, vi } from 'vitest';
import { createAgent, type AgentHandle, type AgentSettings } from './agent.js';
import { FakeAgentEvents, FakeJobSource, FakeRegistry, type FakeJobSourceOptions } from './testing/index.js';

/** An agent built from fakes only, and the fakes, for the test to drive. */
export interface TestAgent {
  agent: AgentHandle;
  source: FakeJobSource;
  registry: FakeRegistry;
  events: FakeAgentEvents;
  executor: FakeExecutor;
  /** Its second executor, named docker, when asked for (`docker` in the options). */
  docker?: FakeExecutor;
}

export interface TestAgentOptions {
  settings?: Partial<AgentSettings>;
  source?: FakeJobSourceOptions | FakeJobSource;
  executor?: FakeExecutorOptions;
  registry?: FakeRegistry;
  /** Gives the agent a second fake executor, named docker. */
  docker?: FakeExecutorOptions;
  probeTimeoutMs?: number;
  logger?: Logger;
}

/** Every agent the tests of a file started and have not stopped yet. */
const started = new Set<TestAgent>();

/**
 * For a describe block: fake timers in every test, and every agent a test started stopped after
 * it (running runs succeed, the agent closes).
 */
export function useTestAgents(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    for (const t of [...started].reverse()) await stopTestAgent(t);
    vi.useRealTimers();
  });
}

/** The jobs the agent's fake executor is running, by id. */
export const runningJobs = (t: TestAgent): string[] => t.executor.running().map((r) => r.jobId);

/** Starts an agent over fakes (no Redis, no processes): capacity 1.0, no lanes, unless told. */
export async function startTestAgent(opts: TestAgentOptions = {}): Promise<TestAgent> {
  const source = opts.source instanceof FakeJobSource ? opts.source : new FakeJobSource(opts.source);
  const registry = opts.registry ?? new FakeRegistry();
  const events = new FakeAgentEvents();
  const executor = new FakeExecutor(opts.executor);
  const docker = opts.docker ? new FakeExecutor({ ...opts.docker, name: 'docker' }) : undefined;
  const agent = await createAgent({
    settings: {
      agentId: 'agent-1',
      capacityMilli: 1000,
      lanes: {},
      defaultExecutor: 'subprocess',
      defaultTimeoutMs: 0,
      killGraceMs: 10_000,
      startTimeoutMs: 0,
      logMaxBytes: 1 << 20,
      jobDir: '/nonexistent/longshore-spec',
      shutdownGraceMs: 10_000,
      claimPollMs: 1000,
      leaseMs: 4000,
      ...opts.settings,
    },
    pool: source.pool,
    logger: opts.logger ?? silentLogger(),
    openSource: source.open,
    registry,
    events,
    executors: { subprocess: executor, ...(docker ? { docker } : {}) },
    ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    isolation: { separateUsers: false, jobUids: '', firewall: false, detail: 'fake executor: nothing runs' },
    registerTimeoutMs: 1000,
  });
  const t = { agent, source, registry, events, executor, ...(docker ? { docker } : {}) };
  started.add(t);
  void agent.stopped.then(() => started.delete(t)); // closed by the test itself
  return t;
}

/**
 * Lets the agent act on what just happened (promise chains, timers due now) without moving the
 * clock: the fake timers' async tick yields to pending promises between steps.
 */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await vi.advanceTimersByTimeAsync(0);
}

/** Ends what still runs, closes the agent (running its timers out) and waits for it to stop. */
export async function stopTestAgent(t: TestAgent | undefined): Promise<void> {
  if (!t) return;
  started.delete(t);
  for (const r of [...t.executor.running(), ...(t.docker?.running() ?? [])]) r.succeed();
  await settle();
  const closing = t.agent.close();
  await vi.runAllTimersAsync();
  await closing;
}
