import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatElapsed, formatMilli, parseBytes, parseDurationMs, parseLanes, parseMilli } from './units.js';

describe('units', () => {
  it('parses weights into exact thousandths', () => {
    expect(parseMilli('weight', '0.25')).toBe(250);
    expect(parseMilli('weight', '1')).toBe(1000);
    expect(parseMilli('weight', '0.1') + parseMilli('weight', '0.2') + parseMilli('weight', '0.7')).toBe(1000);
    expect(formatMilli(250)).toBe('0.25');
    expect(formatMilli(1000)).toBe('1');
  });

  it.each(['abc', '0', '1.2345', '-1', 'NaN', '', '1e3'])('refuses weight %j naming the field', (text) => {
    expect(() => parseMilli('weight', text)).toThrow(/^weight: /);
  });

  it('parses durations and sizes as people write them', () => {
    expect(parseDurationMs('timeout', '30s')).toBe(30_000);
    expect(parseDurationMs('timeout', '1500ms')).toBe(1500);
    expect(parseDurationMs('timeout', '2')).toBe(2000);
    expect(() => parseDurationMs('timeout', 'soon')).toThrow(/timeout: "soon" is not a duration/);
    expect(() => parseDurationMs('timeout', '-5s')).toThrow(/not a duration/);
    expect(parseBytes('memory', '512Mi')).toBe(512 * 1024 * 1024);
    expect(parseBytes('memory', '1G')).toBe(1e9);
    expect(() => parseBytes('memory', '12 parsecs')).toThrow(/memory: .* is not a size/);
    expect(formatBytes(1024 ** 3)).toBe('1Gi');
    expect(formatBytes(12.34 * 1024 ** 2)).toBe('12.3Mi');
    expect(formatBytes(512)).toBe('512');
    expect(parseBytes('x', formatBytes(3 * 1024 * 1024))).toBe(3 * 1024 * 1024);
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatElapsed(1500)).toBe('1.5s');
    expect(formatElapsed(80_000)).toBe('1m 20s');
    expect(formatElapsed(60_000)).toBe('1m');
    expect(formatElapsed(3_900_000)).toBe('1h 5m');
    expect(formatElapsed(2 * 86_400_000 + 3_600_000)).toBe('2d 1h');
  });

  it('parses lane caps', () => {
    expect(parseLanes('LONGSHORE_LANES', 'ingestion=4, monitor=10')).toEqual({ ingestion: 4, monitor: 10 });
    expect(() => parseLanes('LONGSHORE_LANES', 'ingestion')).toThrow(/LANE=COUNT/);
    expect(() => parseLanes('LONGSHORE_LANES', 'x=0')).toThrow(/count ≥ 1/);
  });
});

describe('backoffFor', async () => {
  const { backoffFor } = await import('./backoff.js');
  it('doubles per retry with jitter between half and the whole, capped', () => {
    const p = { backoffMs: 1000, maxBackoffMs: 5000 };
    expect(backoffFor(p, 1, () => 0)).toBe(500);
    expect(backoffFor(p, 1, () => 1)).toBe(1000);
    expect(backoffFor(p, 3, () => 1)).toBe(4000);
    expect(backoffFor(p, 10, () => 1)).toBe(5000);
  });
});
