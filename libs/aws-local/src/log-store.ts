import { invalidParameter, resourceNotFound } from './errors.js';
import { optInt, optString, optStrings, type Input } from './validate.js';

/** One event as CloudWatch Logs stores it. */
interface StoredEvent {
  /** When it happened, ms since the epoch (non-decreasing within a group). */
  timestamp: number;
  ingestionTime: number;
  message: string;
  /** Its place in the group, for FilterLogEvents's order and tokens. */
  seq: number;
}

interface Stream {
  events: StoredEvent[];
  /** The absolute index of events[0] in the stream (older ones were dropped past the cap). */
  first: number;
  bytes: number;
  createdAt: number;
}

interface Group {
  streams: Map<string, Stream>;
  seq: number;
  lastTimestamp: number;
  createdAt: number;
}

/** Bounds of the in-memory store (the endpoint is a dev fixture, not a log archive). */
export interface LogStoreLimits {
  /** Bytes of messages kept per stream; the oldest events are dropped past it (default 16 MiB). */
  maxStreamBytes: number;
}

const MAX_LIMIT = 10_000;
const TOKEN = /^([fb])\/(\d{1,15})$/;

/** The group named by `logGroupName` or `logGroupIdentifier` (a name or an ARN). */
function groupName(input: Input): string {
  const name = optString(input, 'logGroupName') ?? optString(input, 'logGroupIdentifier')?.replace(/^arn:aws[\w-]*:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/, '$1');
  if (!name) throw invalidParameter('logGroupName (or logGroupIdentifier) is required');
  return name;
}

/** The index range of `events` whose timestamps fall in [startTime, endTime) (absolute indexes). */
function window(stream: Stream, startTime: number | undefined, endTime: number | undefined): [number, number] {
  let lo = 0;
  let hi = stream.events.length;
  if (startTime !== undefined) while (lo < hi && stream.events[lo]!.timestamp < startTime) lo++;
  if (endTime !== undefined) while (hi > lo && stream.events[hi - 1]!.timestamp >= endTime) hi--;
  return [stream.first + lo, stream.first + hi];
}

/**
 * CloudWatch Logs in memory: groups and streams created as containers write to them, events
 * appended live, read back with GetLogEvents (forward/backward tokens) and FilterLogEvents.
 */
export class LogStore {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly limits: LogStoreLimits = { maxStreamBytes: 16 * 1024 * 1024 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes the stream (and its group) exist, so a reader finds it before its first line. */
  ensureStream(group: string, stream: string): void {
    const g = this.group(group, true)!;
    if (!g.streams.has(stream)) g.streams.set(stream, { events: [], first: 0, bytes: 0, createdAt: this.now() });
  }

  /** Appends one event to `group`/`stream` (created when missing), timestamped now. */
  append(group: string, stream: string, message: string): void {
    this.ensureStream(group, stream);
    const g = this.groups.get(group)!;
    const s = g.streams.get(stream)!;
    const now = this.now();
    // Non-decreasing within the group, so timestamp order and arrival order agree.
    g.lastTimestamp = Math.max(g.lastTimestamp, now);
    s.events.push({ timestamp: g.lastTimestamp, ingestionTime: now, message, seq: ++g.seq });
    s.bytes += Buffer.byteLength(message) + 26; // 26: CloudWatch's per-event overhead
    if (s.bytes > this.limits.maxStreamBytes) {
      let drop = 0;
      while (s.bytes > this.limits.maxStreamBytes * 0.9 && drop < s.events.length - 1) s.bytes -= Buffer.byteLength(s.events[drop++]!.message) + 26;
      s.events.splice(0, drop);
      s.first += drop;
    }
  }

  /** GetLogEvents. */
  getLogEvents(input: Input): { events: { timestamp: number; message: string; ingestionTime: number }[]; nextForwardToken: string; nextBackwardToken: string } {
    const stream = this.stream(groupName(input), optString(input, 'logStreamName') ?? '');
    const limit = optInt(input, 'limit', 1, MAX_LIMIT) ?? MAX_LIMIT;
    const [lo, hi] = window(stream, optInt(input, 'startTime', 0, Number.MAX_SAFE_INTEGER), optInt(input, 'endTime', 0, Number.MAX_SAFE_INTEGER));
    const token = optString(input, 'nextToken');
    let from: number;
    let to: number;
    if (token !== undefined) {
      const m = TOKEN.exec(token);
      if (!m) throw invalidParameter('The specified nextToken is invalid: it is not a nextForwardToken or nextBackwardToken of this endpoint');
      const at = Math.min(Math.max(Number(m[2]), lo), hi);
      [from, to] = m[1] === 'f' ? [at, Math.min(at + limit, hi)] : [Math.max(at - limit, lo), at];
    } else if (input['startFromHead'] === true) {
      [from, to] = [lo, Math.min(lo + limit, hi)];
    } else {
      [from, to] = [Math.max(hi - limit, lo), hi];
    }
    const events = stream.events.slice(from - stream.first, to - stream.first).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime }));
    // At the end of the stream the forward token is the one passed in (from === to === at).
    return { events, nextForwardToken: `f/${to}`, nextBackwardToken: `b/${from}` };
  }

  /** FilterLogEvents: events of the group's streams (all, named, or by prefix) in time order, paged. */
  filterLogEvents(input: Input): {
    events: { logStreamName: string; timestamp: number; message: string; ingestionTime: number; eventId: string }[];
    searchedLogStreams: { logStreamName: string; searchedCompletely: boolean }[];
    nextToken?: string;
  } {
    const name = groupName(input);
    const g = this.group(name, false);
    if (!g) throw resourceNotFound(`The specified log group does not exist: "${name}"`);
    const names = optStrings(input, 'logStreamNames');
    const prefix = optString(input, 'logStreamNamePrefix');
    if (names && prefix !== undefined) throw invalidParameter('give logStreamNames or logStreamNamePrefix, not both');
    if (names && (names.length < 1 || names.length > 100)) throw invalidParameter('logStreamNames must hold 1 to 100 names');
    const limit = optInt(input, 'limit', 1, MAX_LIMIT) ?? MAX_LIMIT;
    const startTime = optInt(input, 'startTime', 0, Number.MAX_SAFE_INTEGER);
    const endTime = optInt(input, 'endTime', 0, Number.MAX_SAFE_INTEGER);
    const terms = filterTerms(optString(input, 'filterPattern'));
    const token = optString(input, 'nextToken');
    let after = 0;
    if (token !== undefined) {
      const m = /^s\/(\d{1,15})$/.exec(token);
      if (!m) throw invalidParameter('The specified nextToken is invalid: it is not a nextToken of this endpoint');
      after = Number(m[1]);
    }
    const streams = [...g.streams].filter(([n]) => (names ? names.includes(n) : prefix === undefined || n.startsWith(prefix)));
    const matched = streams
      .flatMap(([logStreamName, s]) => s.events.map((e) => ({ logStreamName, e })))
      .filter(({ e }) => e.seq > after && (startTime === undefined || e.timestamp >= startTime) && (endTime === undefined || e.timestamp < endTime) && terms.every((t) => e.message.includes(t)))
      .sort((a, b) => a.e.seq - b.e.seq);
    const pageOf = matched.slice(0, limit);
    const events = pageOf.map(({ logStreamName, e }) => ({ logStreamName, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: String(e.seq).padStart(20, '0') }));
    const searchedLogStreams = streams.map(([logStreamName]) => ({ logStreamName, searchedCompletely: true }));
    const last = pageOf.at(-1);
    return matched.length > limit && last ? { events, searchedLogStreams, nextToken: `s/${last.e.seq}` } : { events, searchedLogStreams };
  }

  private group(name: string, create: boolean): Group | undefined {
    let g = this.groups.get(name);
    if (!g && create) {
      g = { streams: new Map(), seq: 0, lastTimestamp: 0, createdAt: this.now() };
      this.groups.set(name, g);
    }
    return g;
  }

  private stream(group: string, name: string): Stream {
    if (!name) throw invalidParameter('logStreamName is required');
    const g = this.group(group, false);
    if (!g) throw resourceNotFound(`The specified log group does not exist: "${group}"`);
    const s = g.streams.get(name);
    if (!s) throw resourceNotFound(`The specified log stream does not exist: "${name}" in log group "${group}"`);
    return s;
  }
}

/**
 * The terms of a filter pattern, every one of which a message must contain. Only plain and
 * quoted terms are supported (`ERROR "disk full"`); JSON and space-delimited patterns are refused
 * with a clear message rather than matched wrongly.
 */
export function filterTerms(pattern: string | undefined): string[] {
  if (pattern === undefined || pattern.trim() === '') return [];
  const terms = [...pattern.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => ({ quoted: m[1] !== undefined, text: m[1] ?? m[2]! }));
  if (/^\s*[{[]/.test(pattern) || terms.some((t) => !t.quoted && /^[?+-]/.test(t.text))) {
    throw invalidParameter(`filterPattern "${pattern}": the local endpoint matches plain and quoted terms only (e.g. ERROR "disk full")`);
  }
  return terms.map((t) => t.text).filter((t) => t !== '');
}
