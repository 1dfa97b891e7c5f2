import { describe, expect, it } from 'vitest';
import { FailureClass, JobState, PoolHealth } from '@longshore/client';
import { enumWord, shellQuote, truncate } from './format.js';

describe('format', () => {
  it('shows enum values as lowercase words', () => {
    expect(enumWord(JobState, JobState.RUNNING)).toBe('running');
    expect(enumWord(FailureClass, FailureClass.START_FAILED)).toBe('start_failed');
    expect(enumWord(PoolHealth, PoolHealth.NO_AGENTS)).toBe('no_agents');
    expect(enumWord(JobState, JobState.UNSPECIFIED)).toBe('-');
    expect(enumWord(JobState, 99)).toBe('-');
  });

  it('quotes only the arguments a shell would need quoted', () => {
    expect(shellQuote(['ls', '-la', '/tmp/x.txt'])).toBe('ls -la /tmp/x.txt');
    expect(shellQuote(['sh', '-c', 'echo $HOME'])).toBe("sh -c 'echo $HOME'");
    expect(shellQuote(['echo', "it's"])).toBe(`echo 'it'\\''s'`);
    expect(shellQuote(['printf', ''])).toBe("printf ''");
  });

  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});
