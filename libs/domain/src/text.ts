import { InvalidArgumentError } from './errors/index.js';

/** C0 controls (NUL, newline, escape…), DEL and C1 controls: never part of a name, key or one-line text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks that `value` holds no control character (NUL, newlines, terminal escapes…) and is at
 * most `maxLength` characters. For keys, label values and one-line descriptions: text that is
 * shown in tables and logs, and a NUL in it would be cut short by C tools.
 */
export function validatePlainText(field: string, value: string, maxLength: number): string {
  if (value.length > maxLength) throw new InvalidArgumentError(field, `is ${value.length} characters long; at most ${maxLength} are allowed`);
  const bad = CONTROL.exec(value);
  if (bad) {
    const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new InvalidArgumentError(field, `contains a control character (${code} at index ${bad.index}); use printable text on one line`);
  }
  return value;
}
