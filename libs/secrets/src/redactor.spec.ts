import { describe, expect, it } from 'vitest';
import { Redactor, type RedactedLine } from './redactor.js';

/** Feeds lines to a redactor and returns what it would store, the held line drained at the end. */
function through(r: Redactor, lines: [RedactedLine['stream'], string][]): string[] {
  const out: RedactedLine[] = [];
  for (const [stream, text] of lines) out.push(...r.push(stream, text));
  out.push(...r.drain());
  return out.map((l) => `${l.stream}:${l.text}`);
}

describe('Redactor', () => {
  const secret = 's3cr3t-Pa55!';

  it('masks a value, its base64 (padding included) and URL-encoded forms, and keeps the rest of the line', () => {
    const padded = new Redactor(['abcdefg']);
    expect(padded.mask(`b64 ${Buffer.from('abcdefg').toString('base64')} end`)).toBe('b64 *** end');
    const r = new Redactor([secret]);
    const b64 = Buffer.from(secret).toString('base64');
    expect(r.mask(`pw=${secret} done`)).toBe('pw=*** done');
    expect(r.mask(`auth ${b64}`)).toBe('auth ***');
    expect(r.mask(`auth ${b64.replace(/=+$/, '')}`)).toBe('auth ***');
    expect(r.mask(`auth ${Buffer.from(secret).toString('base64url')}`)).toBe('auth ***');
    expect(r.mask(`https://x/?p=${encodeURIComponent(secret)}&q=1`)).toBe('https://x/?p=***&q=1');
    expect(r.mask('nothing here')).toBe('nothing here');
  });

  it('does not mask values shorter than 6 characters', () => {
    const r = new Redactor(['a', 'true', '8080x']);
    expect(r.active).toBe(false);
    expect(through(r, [['stdout', 'a true 8080x']])).toEqual(['stdout:a true 8080x']);
  });

  it('masks each line of a multi-line value and each string field of a JSON value', () => {
    const pem = '-----BEGIN KEY-----\nMIIEabcdefghijkl\nqrstuvwxyz012345\n-----END KEY-----\n';
    const json = JSON.stringify({ user: 'app_user', password: 'hunter2hunter2', port: 5432, nested: { token: 'tok_abcdef' } });
    const r = new Redactor([pem, json]);
    expect(through(r, [['stdout', 'MIIEabcdefghijkl'], ['stdout', 'qrstuvwxyz012345'], ['stdout', 'password is hunter2hunter2, user app_user, token tok_abcdef, port 5432']])).toEqual([
      'stdout:***',
      'stdout:***',
      'stdout:password is ***, user ***, token ***, port 5432',
    ]);
  });

  it('masks a value split across two lines of one stream', () => {
    const r = new Redactor([secret]);
    expect(r.push('stdout', `start ${secret.slice(0, 5)}`)).toEqual([]);
    expect(r.holding).toBe(true);
    // The next line releases the previous one, masked where the value crossed the line break;
    // it is released too, as no value can begin at its end.
    expect(r.push('stdout', `${secret.slice(5)} end`)).toEqual([
      { stream: 'stdout', text: 'start ***' },
      { stream: 'stdout', text: '*** end' },
    ]);
    expect(r.holding).toBe(false);
    expect(r.push('stdout', `${secret.slice(0, 5)}`)).toEqual([]);
    expect(r.drain()).toEqual([{ stream: 'stdout', text: secret.slice(0, 5) }]);
    expect(r.drain()).toEqual([]);
  });

  it('holds back only a line whose end could begin a value, and releases any other at once', () => {
    const r = new Redactor([secret]);
    // No end of these is a beginning of the value or of its encoded forms (`czNj…`).
    expect(r.push('stdout', 'nothing to see')).toEqual([{ stream: 'stdout', text: 'nothing to see' }]);
    expect(r.holding).toBe(false);
    expect(r.push('stdout', `whole ${secret} here`)).toEqual([{ stream: 'stdout', text: 'whole *** here' }]);
    expect(r.holding).toBe(false);
    // A line ending in a value's first characters waits: for its next line, not for a clock.
    for (const end of ['s', 's3cr', 'czNj']) {
      expect(r.push('stdout', `ends in ${end}`), end).toEqual([]);
      expect(r.holding).toBe(true);
      expect(r.push('stdout', 'next')).toEqual([
        { stream: 'stdout', text: `ends in ${end}` },
        { stream: 'stdout', text: 'next' },
      ]);
      expect(r.holding).toBe(false);
    }
  });

  it('masks a value split at any point, whatever comes between the two pushes, and across its own newline', () => {
    for (let cut = 1; cut < secret.length; cut++) {
      const r = new Redactor([secret]);
      expect(r.push('stdout', `a ${secret.slice(0, cut)}`), String(cut)).toEqual([]);
      // Nothing but the next line (or the end) releases it: there is no timer to wait for.
      expect(r.holding).toBe(true);
      expect(through(r, [['stdout', `${secret.slice(cut)} b`]])).toEqual(['stdout:a ***', 'stdout:*** b']);
    }
    const pem = '-----BEGIN-----\nabcdefghij0123\n-----END-----';
    const r = new Redactor([pem]);
    expect(through(r, [['stdout', 'key: -----BEGIN-----'], ['stdout', 'abcdefghij0123'], ['stdout', '-----END----- done']])).toEqual(['stdout:key: ***', 'stdout:***', 'stdout:*** done']);
  });

  it('masks a value cut over any number of lines (as `fold` wraps it), holding only the lines it could reach into', () => {
    // Every way to cut the value into three pieces, and a wrap every 3 characters.
    for (let a = 1; a < secret.length - 1; a++) {
      for (let b = a + 1; b < secret.length; b++) {
        const r = new Redactor([secret]);
        const got = through(r, [['stdout', `x ${secret.slice(0, a)}`], ['stdout', secret.slice(a, b)], ['stdout', `${secret.slice(b)} y`]]);
        expect(got, `${a},${b}`).toEqual(['stdout:x ***', 'stdout:***', 'stdout:*** y']);
      }
    }
    const long = 'tok_0123456789abcdefghijklmnopqrstuvwxyz';
    const r = new Redactor([long]);
    const wrapped = long.match(/.{1,3}/g)!;
    const out: RedactedLine[] = [];
    for (const piece of wrapped.slice(0, -1)) out.push(...r.push('stdout', piece));
    expect(out, 'nothing released while the lines could still be the value').toEqual([]);
    // Its last piece completes it: all of it goes, masked.
    out.push(...r.push('stdout', wrapped[wrapped.length - 1]!), ...r.push('stdout', 'after'));
    expect(out.map((l) => l.text)).toEqual([...wrapped.map(() => '***'), 'after']);
    expect(r.holding).toBe(false);
    // A line that breaks the run releases what was held, unmasked where it was no value.
    expect(through(new Redactor([long]), [['stdout', 'tok_012'], ['stdout', '345'], ['stdout', 'nope']])).toEqual(['stdout:tok_012', 'stdout:345', 'stdout:nope']);
  });

  it(`holds at most ${Redactor.MAX_HELD_LINES} lines, however many empty lines follow a value's beginning`, () => {
    const r = new Redactor([secret]);
    expect(r.push('stdout', secret.slice(0, 4))).toEqual([]);
    let pushed = 1;
    let released = 0;
    for (let i = 0; i < Redactor.MAX_HELD_LINES - 1; i++, pushed++) released += r.push('stdout', '').length;
    expect(released, 'empty lines after the beginning are held with it').toBe(0);
    // One more line would be the 65th held: the oldest goes (unjoined), and with it the reason to hold.
    expect(r.push('stdout', '')[0]).toEqual({ stream: 'stdout', text: secret.slice(0, 4) });
    pushed++;
    expect(r.holding).toBe(false);
    expect(pushed).toBe(Redactor.MAX_HELD_LINES + 1);
  });

  it('finds a value that repeats its own beginning when a line ends inside it (no false release)', () => {
    const value = 'abababac-xyz';
    const r = new Redactor([value]);
    expect(r.push('stdout', 'x ababab')).toEqual([]);
    expect(through(r, [['stdout', 'ac-xyz y']])).toEqual(['stdout:x ***', 'stdout:*** y']);
    // A long line ending in the value's first character only is held too, and costs one pass.
    const long = `${'ab'.repeat(50_000)}a`;
    expect(r.push('stdout', long)).toEqual([]);
    expect(r.drain()).toEqual([{ stream: 'stdout', text: long }]);
  });

  it('keeps the order of lines across streams and does not join lines of different streams', () => {
    const r = new Redactor([secret]);
    expect(through(r, [['stdout', 'one'], ['stderr', secret.slice(0, 6)], ['stdout', secret.slice(6)], ['stdout', `x${secret}y`]])).toEqual([
      'stdout:one',
      `stderr:${secret.slice(0, 6)}`,
      `stdout:${secret.slice(6)}`,
      'stdout:x***y',
    ]);
  });

  it('passes lines straight through when there is nothing to mask', () => {
    const r = new Redactor([]);
    expect(r.push('stdout', 'a')).toEqual([{ stream: 'stdout', text: 'a' }]);
    expect(r.holding).toBe(false);
  });
});
