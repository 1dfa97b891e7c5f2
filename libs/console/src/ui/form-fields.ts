/** The submit form's text fields as the API wants them (no DOM here, so tests run in Node). */

/** `KEY=VALUE` lines as a map; blank lines are skipped, a line without `=` is refused by name. */
export function keyValueLines(field: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${field}: "${line}" is not KEY=VALUE (e.g. team=data)`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The argv from the command box: one argument per line, kept verbatim (no shell splitting). */
export function argvLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
