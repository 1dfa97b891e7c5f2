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
 * The length of the longest end of `text` that is a proper prefix of the needle: how much of the
 * text a match running on past its end would take (0: none could). Linear in the text's length
 * (a Knuth-Morris-Pratt run), so a long line with a long value costs no more than a search.
 */
function continuationLength(text: string, needle: string, fail: Uint32Array): number {
  const step = (k: number, c: string): number => {
    // The state never reaches the needle's full length (a whole match falls back), so `needle[k]` exists.
    while (k > 0 && c !== needle[k]) k = fail[k - 1]!;
    if (c === needle[k]) k++;
    return k === needle.length ? fail[k - 1]! : k;
  };
  // Only the needle's length of text can take part in a match that runs past the end.
  let k = 0;
  for (let i = Math.max(0, text.length - needle.length); i < text.length; i++) k = step(k, text[i]!);
  return k;
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

/** Held lines joined by `joint`, with where each line starts in the joined text. */
function joined(lines: readonly Held[], joint: string): { text: string; starts: number[] } {
  const starts: number[] = [];
  let text = '';
  for (const [i, l] of lines.entries()) {
    if (i > 0) text += joint;
    starts.push(text.length);
    text += l.text;
  }
  return { text, starts };
}

/**
 * Masks a job's secret values in its output before it is stored. Lines come in one at a time.
 * Lines of one stream whose joined end could be the start of a value (a proper prefix of the
 * value or of one of its forms, the lines joined as a wrapped value is, or at the value's own
 * newlines) are held back until a line comes that settles it, or until {@link drain} when the
 * output ends, so a value a job printed cut over any number of lines (wrapped by `fold`, or at
 * its own newlines) is masked in each, however long the job waits between them. Every other line
 * is released at once: only lines that a value's beginning could reach into are held (at most
 * {@link MAX_HELD_LINES}). Nothing here runs on a timer.
 */
export class Redactor {
  /** Lines held at most: a value cut over more lines than this (all but empty ones) is not joined up. */
  static readonly MAX_HELD_LINES = 64;
  private readonly needles: string[];
  private readonly failures: Uint32Array[];
  private held: Held[] = [];

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
    return this.held.length > 0;
  }

  /** `text` with every value masked (no holding back). */
  mask(text: string): string {
    return applyMask(text, findAll(text, this.needles));
  }

  /** Takes the next line; returns the lines ready to store (masked), in order. */
  push(stream: RedactedLine['stream'], text: string): RedactedLine[] {
    if (!this.active) return [{ stream, text }];
    const out: RedactedLine[] = [];
    // Lines of another stream never join this one.
    if (this.held.length > 0 && this.held[0]!.stream !== stream) out.push(...this.drain());
    const lines = [...this.held, { stream, text, forced: [] }];
    if (lines.length > 1) for (const joint of ['', '\n']) this.forceAcross(lines, joint);
    // Keep the lines a value beginning at the joined end could reach back into; release the rest.
    let keep = lines;
    for (;;) {
      // One line has no joints: both ways of joining give the same text.
      const from = keep.length <= 1 ? this.reachedBack(keep, '') : Math.min(this.reachedBack(keep, ''), this.reachedBack(keep, '\n'));
      for (const l of keep.slice(0, from)) out.push(this.release(l));
      keep = keep.slice(from);
      if (keep.length <= Redactor.MAX_HELD_LINES) break;
      // Too many: the oldest goes unjoined, and what is left is judged again without it.
      out.push(this.release(keep[0]!));
      keep = keep.slice(1);
    }
    this.held = keep;
    return out;
  }

  /** The held lines, masked (when the output ends). */
  drain(): RedactedLine[] {
    const held = this.held;
    this.held = [];
    return held.map((l) => this.release(l));
  }

  /** Marks, in each line it touches, every match that crosses from one line into the next. */
  private forceAcross(lines: Held[], joint: string): void {
    const { text, starts } = joined(lines, joint);
    for (const [s, e] of findAll(text, this.needles)) {
      const first = starts.findLastIndex((at) => at <= s);
      if (e <= starts[first]! + lines[first]!.text.length) continue; // within one line: found there
      for (let i = first; i < lines.length && starts[i]! < e; i++) {
        const from = Math.max(s, starts[i]!) - starts[i]!;
        const to = Math.min(e, starts[i]! + lines[i]!.text.length) - starts[i]!;
        if (to > from) lines[i]!.forced.push([from, to]);
      }
    }
  }

  /** The first line a value beginning at the end of the lines (joined by `joint`) would start in. */
  private reachedBack(lines: Held[], joint: string): number {
    const { text, starts } = joined(lines, joint);
    let longest = 0;
    for (const [i, n] of this.needles.entries()) longest = Math.max(longest, continuationLength(text, n, this.failures[i]!));
    if (longest === 0) return lines.length;
    const at = text.length - longest;
    // The line it begins in (or the one after the joint it begins in).
    let i = starts.findLastIndex((s) => s <= at);
    if (at >= starts[i]! + lines[i]!.text.length && i < lines.length - 1) i++;
    return i;
  }

  private release(h: Held): RedactedLine {
    return { stream: h.stream, text: applyMask(h.text, [...h.forced, ...findAll(h.text, this.needles)]) };
  }
}
