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

/**
 * Knuth-Morris-Pratt failure table of a needle: `fail[i]` is the length of the longest proper
 * prefix of `needle.slice(0, i + 1)` that is also its suffix.
 */
function failureTable(needle: string): Uint32Array {
  const fail = new Uint32Array(needle.length);
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = fail[k - 1]!;
    if (needle[i] === needle[k]) k++;
    fail[i] = k;
  }
  return fail;
}

/**
 * Whether the end of `text` could be where a needle begins: some non-empty end of it is a
 * proper prefix of the needle (which covers a multi-line value cut at its own newline: its part
 * before the newline is such a prefix). Linear in the text's length
 * (a Knuth-Morris-Pratt run), so a long line with a long value costs no more than a search.
 */
function endCouldBeginNeedle(text: string, needle: string, fail: Uint32Array): boolean {
  const step = (k: number, c: string): number => {
    // The state never reaches the needle's full length (a whole match falls back), so `needle[k]` exists.
    while (k > 0 && c !== needle[k]) k = fail[k - 1]!;
    if (c === needle[k]) k++;
    return k === needle.length ? fail[k - 1]! : k;
  };
  // Only the needle's length of text can take part in a match that runs past the end.
  let k = 0;
  for (let i = Math.max(0, text.length - needle.length); i < text.length; i++) k = step(k, text[i]!);
  return k > 0;
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
 * Masks a job's secret values in its output before it is stored. Lines come in one at a time. A
 * line whose end could be the start of a value (a proper prefix of the value or of one of its
 * forms; or its first line, for a multi-line value) is held back until the next line arrives, or
 * until {@link drain} when the output ends, so a value a job printed split over two lines of the
 * same stream (wrapped, or cut at its own newline) is masked in both, however long the job waits
 * between the two. Every other line is released at once: at most one line is held, and only one
 * that could be a value's beginning. Nothing here runs on a timer.
 */
export class Redactor {
  private readonly needles: string[];
  private readonly failures: Uint32Array[];
  private held: Held | undefined;

  constructor(values: readonly string[]) {
    this.needles = redactionNeedles(values);
    this.failures = this.needles.map(failureTable);
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

  /** Takes the next line; returns the lines ready to store (masked), in order. */
  push(stream: RedactedLine['stream'], text: string): RedactedLine[] {
    if (!this.active) return [{ stream, text }];
    const cur: Held = { stream, text, forced: [] };
    const prev = this.held;
    this.held = undefined;
    const out: RedactedLine[] = [];
    if (prev) {
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
      out.push(this.release(prev));
    }
    if (this.couldContinue(text)) this.held = cur;
    else out.push(this.release(cur));
    return out;
  }

  /** The held line, masked (when the output ends). */
  drain(): RedactedLine[] {
    const prev = this.held;
    this.held = undefined;
    return prev ? [this.release(prev)] : [];
  }

  /** Whether a value could begin at the end of `text` and run on into the next line. */
  private couldContinue(text: string): boolean {
    return this.needles.some((n, i) => endCouldBeginNeedle(text, n, this.failures[i]!));
  }

  private release(h: Held): RedactedLine {
    return { stream: h.stream, text: applyMask(h.text, [...h.forced, ...findAll(h.text, this.needles)]) };
  }
}
