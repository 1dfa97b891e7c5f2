import { describe, expect, it } from 'vitest';
import { ConfigError, loadDispatcherConfig } from './index.js';
import { parseSubmitRate } from './rate.js';

describe('LONGSHORE_SUBMIT_RATE', () => {
  it('parses rates per unit and per duration, with a burst of ten seconds but at least one full batch', () => {
    expect(parseSubmitRate('200/s')).toEqual({ jobs: 200, periodMs: 1000, burst: 2000 });
    expect(parseSubmitRate('6000/m')).toEqual({ jobs: 6000, periodMs: 60_000, burst: 1000 });
    expect(parseSubmitRate('500/10s,burst=50')).toEqual({ jobs: 500, periodMs: 10_000, burst: 50 });
    expect(parseSubmitRate('off')).toBeNull();
  });

  it('defaults to 200 jobs a second per token', () => {
    expect(loadDispatcherConfig({}).submitRate).toEqual({ jobs: 200, periodMs: 1000, burst: 2000 });
    expect(loadDispatcherConfig({ LONGSHORE_SUBMIT_RATE: 'off' }).submitRate).toBeNull();
  });

  it('names the variable and the expected form when it is wrong', () => {
    for (const bad of ['fast', '200', '0/s', '-5/s', '200/fortnight', '200/s,burst=0']) {
      let err: unknown;
      try {
        loadDispatcherConfig({ LONGSHORE_SUBMIT_RATE: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(`LONGSHORE_SUBMIT_RATE=${JSON.stringify(bad)}`);
    }
  });
});
