import ms from 'ms';
import { InvalidArgumentError } from './errors/index.js';
import { LIMITS } from './limits.js';

/**
 * Parses a weight or capacity written as a decimal ("0.25", "1", "1.5") into integer
 * thousandths. Weights are never summed as floats: 0.1 + 0.2 + 0.7 > 1.0 in floating point.
 */
export function parseMilli(field: string, text: string): number {
  const m = /^\s*(\d+)(?:\.(\d{1,3}))?\s*$/.exec(text);
  if (!m) {
    throw new InvalidArgumentError(field, `${JSON.stringify(text)} is not a decimal number with at most 3 decimal places (e.g. 0.25)`);
  }
  const milli = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  if (milli <= 0) throw new InvalidArgumentError(field, `must be greater than 0, got ${text}`);
  if (milli > LIMITS.maxMilli) throw new InvalidArgumentError(field, `must be at most ${LIMITS.maxMilli / 1000}, got ${text}`);
  return milli;
}

/** Formats thousandths as a decimal: 250 → "0.25", 1000 → "1". */
export function formatMilli(milli: number): string {
  const whole = Math.floor(milli / 1000);
  const frac = String(milli % 1000).padStart(3, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** Parses a human duration ("30s", "5m", "1500ms", or a bare number of seconds) into milliseconds. */
export function parseDurationMs(field: string, text: string): number {
  const trimmed = text.trim();
  const value = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : ms(trimmed as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(field, `${JSON.stringify(text)} is not a duration (e.g. 30s, 5m, 2h, 1500ms)`);
  }
  return Math.round(value);
}

/** Formats milliseconds for people: 1500 → "1.5s". */
export function formatDuration(msValue: number): string {
  if (msValue < 1000) return `${msValue}ms`;
  if (msValue < 60_000) return `${Number((msValue / 1000).toFixed(1))}s`;
  return ms(msValue);
}

const ELAPSED_UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * Formats a run time or an age for reading at leisure (the console): like {@link formatDuration}
 * below a minute, then the two largest whole units, 80000 → "1m 20s", 3_900_000 → "1h 5m",
 * where formatDuration's compact form (for CLI tables) rounds to one unit ("1m").
 */
export function formatElapsed(msValue: number): string {
  if (msValue < 60_000) return formatDuration(msValue);
  const i = ELAPSED_UNITS.findIndex(([, size]) => msValue >= size);
  const [bigName, bigSize] = ELAPSED_UNITS[i]!;
  const [smallName, smallSize] = ELAPSED_UNITS[i + 1]!;
  const big = Math.floor(msValue / bigSize);
  const small = Math.floor((msValue - big * bigSize) / smallSize);
  return small ? `${big}${bigName} ${small}${smallName}` : `${big}${bigName}`;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a size as Kubernetes writes them ("512Mi", "1Gi", "100M", "4096"). Hand-written because
 * the `bytes` package knows only KB/MB (as powers of 1024) and not the Ki/Mi suffixes users type.
 */
export function parseBytes(field: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new InvalidArgumentError(field, `${JSON.stringify(text)} is not a size (e.g. 512Mi, 1Gi, 100M, or bytes)`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** A size as `parseBytes` reads it back, to one decimal in the largest binary unit: "12.3Mi". */
export function formatBytes(n: number): string {
  const units: [string, number][] = [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]];
  for (const [suffix, size] of units) if (n >= size) return `${Number((n / size).toFixed(1))}${suffix}`;
  return String(n);
}

/**
 * Parses lane caps: "ingestion=4,monitor=10" → { ingestion: 4, monitor: 10 }. Empty text = no caps.
 */
export function parseLanes(field: string, text: string): Record<string, number> {
  const lanes: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)=(\d+)$/.exec(part);
    if (!m || Number(m[3]) < 1) {
      throw new InvalidArgumentError(field, `${JSON.stringify(part)} is not LANE=COUNT with a lowercase lane name and a count ≥ 1 (e.g. ingestion=4,monitor=10)`);
    }
    lanes[m[1]!] = Number(m[3]);
  }
  return lanes;
}
