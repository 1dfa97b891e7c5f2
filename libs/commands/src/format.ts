import { timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { formatDuration } from '@longshore/domain';

/**
 * A proto enum value as the lowercase word people read: `JobState.RUNNING` → "running",
 * `FailureClass.START_FAILED` → "start_failed". UNSPECIFIED (and unknown numbers) → `fallback`.
 */
export function enumWord(enumObject: Record<number, string>, value: number, fallback = '-'): string {
  const name = enumObject[value];
  return value === 0 || name === undefined ? fallback : name.toLowerCase();
}

// Characters that never need quoting in a POSIX shell word.
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * An argv shown as one shell line, quoting only what needs it: ['sh', '-c', 'echo hi'] →
 * `sh -c 'echo hi'`. For display only; nothing here is ever run. (Five lines, so no library.)
 */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (SHELL_SAFE.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** Cuts `text` to `max` characters, ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** How long ago `ts` was, compactly ("5s", "3m", "2h"); "-" when unset. */
export function age(ts: Timestamp | undefined, now: number): string {
  return ts ? formatDuration(Math.max(0, now - timestampMs(ts))) : '-';
}

/** A timestamp as UTC ISO time to the second plus how long ago: "2025-06-01T12:00:00Z (3m ago)". */
export function when(ts: Timestamp | undefined, now: number): string {
  return ts ? `${isoTime(ts)} (${age(ts, now)} ago)` : '-';
}

/** A timestamp as UTC ISO time to the second; "-" when unset. */
export function isoTime(ts: Timestamp | undefined): string {
  return ts ? new Date(timestampMs(ts)).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}
