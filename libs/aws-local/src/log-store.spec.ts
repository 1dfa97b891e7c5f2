import { describe, expect, it } from 'vitest';
import type { AwsError } from './errors.js';
import { filterTerms, LogStore } from './log-store.js';

function store(lines: number, maxStreamBytes = 1 << 20): { logs: LogStore; clock: { t: number } } {
  const clock = { t: 1_000 };
  const logs = new LogStore({ maxStreamBytes }, () => clock.t);
  for (let i = 1; i <= lines; i++) {
    clock.t += 10;
    logs.append('g', 's', `line ${i}`);
  }
  return { logs, clock };
}

const msgs = (out: { events: { message: string }[] }) => out.events.map((e) => e.message);

describe('GetLogEvents', () => {
  it('reads from the head forward in pages, and gives the same forward token back at the end', () => {
    const { logs } = store(5);
    const p1 = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true, limit: 2 });
    expect(msgs(p1)).toEqual(['line 1', 'line 2']);
    const p2 = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: p1.nextForwardToken, limit: 2 });
    expect(msgs(p2)).toEqual(['line 3', 'line 4']);
    const p3 = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: p2.nextForwardToken, limit: 2 });
    expect(msgs(p3)).toEqual(['line 5']);
    const end = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: p3.nextForwardToken });
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(p3.nextForwardToken);
  });

  it('sees events appended after the end token on the next read (live following)', () => {
    const { logs } = store(1);
    const first = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true });
    logs.append('g', 's', 'later');
    expect(msgs(logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: first.nextForwardToken }))).toEqual(['later']);
  });

  it('without startFromHead gives the newest events, and pages backward from there', () => {
    const { logs } = store(5);
    const tail = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 2 });
    expect(msgs(tail)).toEqual(['line 4', 'line 5']);
    const back = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 2, nextToken: tail.nextBackwardToken });
    expect(msgs(back)).toEqual(['line 2', 'line 3']);
    const back2 = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 2, nextToken: back.nextBackwardToken });
    expect(msgs(back2)).toEqual(['line 1']);
    const start = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 2, nextToken: back2.nextBackwardToken });
    expect(start.events).toEqual([]);
    expect(start.nextBackwardToken).toBe(back2.nextBackwardToken);
  });

  it('keeps to startTime/endTime, and carries timestamp and ingestionTime in ms', () => {
    const { logs } = store(5); // timestamps 1010, 1020, … 1050
    const out = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true, startTime: 1020, endTime: 1040 });
    expect(out.events).toEqual([
      { timestamp: 1020, message: 'line 2', ingestionTime: 1020 },
      { timestamp: 1030, message: 'line 3', ingestionTime: 1030 },
    ]);
  });

  it('refuses unknown groups, streams and tokens with the errors CloudWatch Logs uses', () => {
    const { logs } = store(1);
    expect(() => logs.getLogEvents({ logGroupName: 'nope', logStreamName: 's' })).toThrow(expect.objectContaining({ type: 'ResourceNotFoundException' }) as AwsError);
    expect(() => logs.getLogEvents({ logGroupName: 'g', logStreamName: 'nope' })).toThrow(expect.objectContaining({ type: 'ResourceNotFoundException' }) as AwsError);
    expect(() => logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: 'x/1' })).toThrow(expect.objectContaining({ type: 'InvalidParameterException' }) as AwsError);
  });

  it('drops the oldest events past its byte cap, and a token from before them resumes at the oldest kept', () => {
    const { logs } = store(1, 400);
    const head = logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true });
    for (let i = 2; i <= 20; i++) logs.append('g', 's', `line ${i}`);
    const kept = msgs(logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true }));
    expect(kept.length).toBeLessThan(20);
    expect(kept.at(-1)).toBe('line 20');
    expect(msgs(logs.getLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: head.nextForwardToken }))).toEqual(kept);
  });
});

describe('FilterLogEvents', () => {
  it('merges the streams in time order, filters by stream, time and terms, and pages with nextToken', () => {
    const clock = { t: 0 };
    const logs = new LogStore({ maxStreamBytes: 1 << 20 }, () => clock.t);
    for (const [stream, message] of [['a', 'a1 ERROR disk full'], ['b', 'b1'], ['a', 'a2'], ['b', 'b2 ERROR']] as const) {
      clock.t++;
      logs.append('g', stream, message);
    }
    expect(msgs(logs.filterLogEvents({ logGroupName: 'g' }))).toEqual(['a1 ERROR disk full', 'b1', 'a2', 'b2 ERROR']);
    expect(msgs(logs.filterLogEvents({ logGroupName: 'g', logStreamNames: ['b'] }))).toEqual(['b1', 'b2 ERROR']);
    expect(msgs(logs.filterLogEvents({ logGroupName: 'g', startTime: 3 }))).toEqual(['a2', 'b2 ERROR']);
    expect(msgs(logs.filterLogEvents({ logGroupName: 'g', filterPattern: 'ERROR "disk full"' }))).toEqual(['a1 ERROR disk full']);
    const p1 = logs.filterLogEvents({ logGroupName: 'g', limit: 3 });
    expect(p1.nextToken).toBeDefined();
    const p2 = logs.filterLogEvents({ logGroupName: 'g', limit: 3, nextToken: p1.nextToken });
    expect(msgs(p2)).toEqual(['b2 ERROR']);
    expect(p2.nextToken).toBeUndefined();
    expect(p2.events[0]).toMatchObject({ logStreamName: 'b', timestamp: 4, ingestionTime: 4 });
  });

  it('refuses filter patterns it cannot match rightly', () => {
    expect(filterTerms(undefined)).toEqual([]);
    expect(() => filterTerms('{ $.level = "error" }')).toThrow(/plain and quoted terms/);
    expect(() => filterTerms('?ERROR ?WARN')).toThrow(/plain and quoted terms/);
  });
});
