/** What a masked value becomes in a job's log. */
export const REDACTION_MASK = '***';

/**
 * Values shorter than this are not masked: masking a 1-5 character value (`a`, `true`, `8080`)
 * would mangle every line that happens to contain it, and tells a reader little they could not
 * guess; a secret that short is not much of a secret anyway.
 */
export const MIN_REDACTED_LENGTH = 6;

/** A log line as the log writer stores it. */
export interface RedactedLine {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

type Range = [start: number, end: number];

interface Held extends RedactedLine {
  /** Parts to mask that a value crossing into the next line showed. */
  forced: Range[];
}

/** Every string in a parsed JSON value (bounded: a secret is at most LONGSHORE_SECRET_MAX_BYTES). */
function jsonStrings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) jsonStrings(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) jsonStrings(x, out);
}

/**
 * What to look for for one value: the value, without a trailing newline, each of its lines (a
 * multi-line value printed line by line), each string field when it is JSON, and of each of
 * those the standalone base64 (standard, padded or not, and URL-safe) and URL-encoded forms. Base64 inside a longer encoded blob shifts with its offset and
 * cannot be found this way: only the value encoded on its own is.
 */
export function redactionNeedles(values: readonly string[]): string[] {
  const plain = new Set<string>();
  for (const v of values) {
    const parts = [v, v.replace(/\r?\n$/, ''), ...v.split(/\r?\n/)];
    try {
      jsonStrings(JSON.parse(v), parts);
    } catch {
      // Not JSON: the value as it is.
    }
    for (const p of parts) if (p.length >= MIN_REDACTED_LENGTH) plain.add(p);
  }
  const out = new Set<string>();
  for (const p of plain) {
    out.add(p);
    const b = Buffer.from(p, 'utf8');
    out.add(b.toString('base64'));
    out.add(b.toString('base64').replace(/=+$/, ''));
    out.add(b.toString('base64url'));
    out.add(encodeURIComponent(p));
  }
  // Longest first, so a value wins over one of its own lines where both match.
  return [...out].sort((a, b) => b.length - a.length);
}

function findAll(text: string, needles: readonly string[]): Range[] {
  const ranges: Range[] = [];
  for (const n of needles) {
    for (let at = text.indexOf(n); at !== -1; at = text.indexOf(n, at + 1)) ranges.push([at, at + n.length]);
  }
  return ranges;
}

/** `text` with each range (merged where they overlap) replaced by the mask. */
function applyMask(text: string, ranges: Range[]): string {
  if (ranges.length === 0) return text;
  const merged: Range[] = [];
  for (const r of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  let out = '';
  let pos = 0;
  for (const [s, e] of merged) {
    out += text.slice(pos, s) + REDACTION_MASK;
    pos = e;
  }
  return out + text.slice(pos);
}

/**
 * Masks a job's secret values in its output before it is stored. Lines come in one at a time;
 * the last one is held back until the next arrives (or {@link drain}), so a value a job printed
 * split over two lines of the same stream (wrapped, or cut at its own newline) is masked in
 * both: at most one line is held.
 */
export class Redactor {
  private readonly needles: string[];
  private held: Held | undefined;

  constructor(values: readonly string[]) {
    this.needles = redactionNeedles(values);
  }

  /** Whether there is anything to mask (a job without secrets has its lines pass straight through). */
  get active(): boolean {
    return this.needles.length > 0;
  }

  /** Whether a line is held back, waiting for the next. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  /** `text` with every value masked (no holding back). */
  mask(text: string): string {
    return applyMask(text, findAll(text, this.needles));
  }

  /** Takes the next line; returns the lines ready to store (the previous one, masked), in order. */
  push(stream: RedactedLine['stream'], text: string): RedactedLine[] {
    if (!this.active) return [{ stream, text }];
    const cur: Held = { stream, text, forced: [] };
    const prev = this.held;
    this.held = cur;
    if (!prev) return [];
    if (prev.stream === stream) {
      for (const joint of ['', '\n']) {
        const cut = prev.text.length;
        for (const [s, e] of findAll(prev.text + joint + text, this.needles)) {
          if (s < cut && e > cut + joint.length) {
            prev.forced.push([s, cut]);
            cur.forced.push([0, e - cut - joint.length]);
          }
        }
      }
    }
    return [this.release(prev)];
  }

  /** The held line, masked (when the run ends or its log is flushed). */
  drain(): RedactedLine[] {
    const prev = this.held;
    this.held = undefined;
    return prev ? [this.release(prev)] : [];
  }

  private release(h: Held): RedactedLine {
    return { stream: h.stream, text: applyMask(h.text, [...h.forced, ...findAll(h.text, this.needles)]) };
  }
}
