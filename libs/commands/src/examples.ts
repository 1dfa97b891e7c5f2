/** A job id of the real shape (25 characters), for help texts. */
export const EXAMPLE_JOB_ID = 'default.0mbx4k2a1f3c2b1a0e9d8c7b6';

/** The "Examples:" block shown after a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
