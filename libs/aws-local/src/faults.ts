import { invalidParameter } from './errors.js';

/** A RunTask `failures[].reason` the endpoint can inject (real ECS answers these when it cannot place a task). */
export type RunTaskFailureReason = 'RESOURCE:MEMORY' | 'RESOURCE:CPU' | 'AGENT' | 'ATTRIBUTE' | 'CAPACITY';

const FAILURE_REASONS: readonly RunTaskFailureReason[] = ['RESOURCE:MEMORY', 'RESOURCE:CPU', 'AGENT', 'ATTRIBUTE', 'CAPACITY'];

/**
 * Faults to inject, each for the next `count` occurrences (counted down as they fire). Sent as
 * JSON to `POST /_longshore/faults` or given to {@link Faults.inject}; faults add up.
 */
export interface FaultSpec {
  /** The next `count` RunTask calls place nothing and answer `failures: [{reason}]` instead. */
  runTaskFailures?: { count: number; reason: RunTaskFailureReason };
  /** The next `count` calls of `action` (e.g. `DescribeTasks`, `GetLogEvents`) answer ThrottlingException. */
  throttle?: { action: string; count: number };
  /** The next `count` tasks go to STOPPED without running: stopCode `TaskFailedToStart`. */
  failToStart?: { count: number; reason?: string };
  /** The next `count` tasks stay PROVISIONING for `ms` milliseconds before they start. */
  slowStart?: { count: number; ms: number };
  /**
   * The next `count` calls of `action` take effect at once and are answered `ms` milliseconds
   * later: e.g. a RunTask whose task starts while its caller still waits for the answer.
   */
  delay?: { action: string; count: number; ms: number };
}

/** The default stoppedReason of an injected start failure (the shape of a real one). */
export const INJECTED_START_FAILURE = 'ResourceInitializationError: unable to prepare the task (injected by the local endpoint)';

/** The fault state of one endpoint: what is still to fire, and the calls seen per action. */
export class Faults {
  private runTaskFailures: { count: number; reason: RunTaskFailureReason }[] = [];
  private readonly throttles = new Map<string, number>();
  private failToStart: { count: number; reason: string }[] = [];
  private slowStarts: { count: number; ms: number }[] = [];
  private readonly delays = new Map<string, { count: number; ms: number }[]>();
  private readonly calls = new Map<string, number>();

  /** Adds `spec`'s faults to those pending. Throws InvalidParameterException on a malformed spec. */
  inject(spec: FaultSpec): void {
    const parsed = parseFaultSpec(spec);
    if (parsed.runTaskFailures) this.runTaskFailures.push(parsed.runTaskFailures);
    if (parsed.throttle) this.throttles.set(parsed.throttle.action, (this.throttles.get(parsed.throttle.action) ?? 0) + parsed.throttle.count);
    if (parsed.failToStart) this.failToStart.push({ count: parsed.failToStart.count, reason: parsed.failToStart.reason ?? INJECTED_START_FAILURE });
    if (parsed.slowStart) this.slowStarts.push(parsed.slowStart);
    if (parsed.delay) this.delays.set(parsed.delay.action, [...(this.delays.get(parsed.delay.action) ?? []), { count: parsed.delay.count, ms: parsed.delay.ms }]);
  }

  /** Drops every pending fault (call counts stay). */
  clear(): void {
    this.runTaskFailures = [];
    this.throttles.clear();
    this.failToStart = [];
    this.slowStarts = [];
    this.delays.clear();
  }

  /** Counts one call of `action` and says whether it is to be throttled. */
  onCall(action: string): 'throttle' | 'serve' {
    this.calls.set(action, (this.calls.get(action) ?? 0) + 1);
    const left = this.throttles.get(action) ?? 0;
    if (left <= 0) return 'serve';
    if (left === 1) this.throttles.delete(action);
    else this.throttles.set(action, left - 1);
    return 'throttle';
  }

  /** The reason the next RunTask fails with, if one is pending. */
  takeRunTaskFailure(): RunTaskFailureReason | undefined {
    return take(this.runTaskFailures)?.reason;
  }

  /** The stoppedReason of the next task's injected start failure, if one is pending. */
  takeStartFailure(): string | undefined {
    return take(this.failToStart)?.reason;
  }

  /** How long the next task stays PROVISIONING (0 without a slow-start fault). */
  takeSlowStart(): number {
    return take(this.slowStarts)?.ms ?? 0;
  }

  /** How late the answer to this call of `action` is to be sent (0 without a delay fault). */
  takeDelay(action: string): number {
    const queue = this.delays.get(action);
    return queue ? (take(queue)?.ms ?? 0) : 0;
  }

  /** Calls seen per action since the endpoint started (throttled calls count too). */
  stats(): Record<string, number> {
    return Object.fromEntries([...this.calls].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** Counts one use of the first entry of `queue`, dropping it when used up. */
function take<T extends { count: number }>(queue: T[]): T | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.count -= 1;
  if (head.count <= 0) queue.shift();
  return head;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000) throw invalidParameter(`${what}.count must be an integer from 1 to 10000, got ${JSON.stringify(v)}`);
  return v;
}

function milliseconds(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 600_000) throw invalidParameter(`${what}.ms must be an integer from 0 to 600000, got ${JSON.stringify(v)}`);
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParameter(`${what} must be an object`);
  return v as Record<string, unknown>;
}

/** Checks a fault spec from the control API (untrusted JSON), naming the bad field. */
export function parseFaultSpec(raw: unknown): FaultSpec {
  const spec = object(raw, 'the fault spec') ?? {};
  const known = ['runTaskFailures', 'throttle', 'failToStart', 'slowStart', 'delay'];
  const unknown = Object.keys(spec).filter((k) => !known.includes(k));
  if (unknown.length) throw invalidParameter(`unknown fault "${unknown[0]}" (faults: ${known.join(', ')})`);
  const out: FaultSpec = {};
  const rf = object(spec['runTaskFailures'], 'runTaskFailures');
  if (rf) {
    const reason = rf['reason'] ?? 'RESOURCE:MEMORY';
    if (!FAILURE_REASONS.includes(reason as RunTaskFailureReason)) throw invalidParameter(`runTaskFailures.reason must be one of ${FAILURE_REASONS.join(', ')}`);
    out.runTaskFailures = { count: count(rf['count'], 'runTaskFailures'), reason: reason as RunTaskFailureReason };
  }
  const th = object(spec['throttle'], 'throttle');
  if (th) {
    if (typeof th['action'] !== 'string' || !/^[A-Za-z]+$/.test(th['action'])) throw invalidParameter('throttle.action must be an action name, e.g. "DescribeTasks"');
    out.throttle = { action: th['action'], count: count(th['count'], 'throttle') };
  }
  const fs = object(spec['failToStart'], 'failToStart');
  if (fs) {
    if (fs['reason'] !== undefined && typeof fs['reason'] !== 'string') throw invalidParameter('failToStart.reason must be a string');
    out.failToStart = { count: count(fs['count'], 'failToStart'), ...(typeof fs['reason'] === 'string' ? { reason: fs['reason'] } : {}) };
  }
  const ss = object(spec['slowStart'], 'slowStart');
  if (ss) {
    out.slowStart = { count: count(ss['count'], 'slowStart'), ms: milliseconds(ss['ms'], 'slowStart') };
  }
  const dl = object(spec['delay'], 'delay');
  if (dl) {
    if (typeof dl['action'] !== 'string' || !/^[A-Za-z]+$/.test(dl['action'])) throw invalidParameter('delay.action must be an action name, e.g. "RunTask"');
    out.delay = { action: dl['action'], count: count(dl['count'], 'delay'), ms: milliseconds(dl['ms'], 'delay') };
  }
  return out;
}
