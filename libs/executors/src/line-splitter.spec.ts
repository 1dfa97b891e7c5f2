import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

/** Feeds `chunks` (strings are UTF-8 encoded) and returns what was emitted, after end(). */
function split(chunks: (string | Buffer)[], maxLineBytes = 1024): string[] {
  const out: string[] = [];
  const splitter = new LineSplitter(maxLineBytes, (text) => out.push(text));
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return out;
}

/** Cuts `bytes` at the given positions (any byte, including inside a character). */
function cutAt(bytes: Buffer, positions: number[]): Buffer[] {
  const cuts = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  return pieces;
}

const lineText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\n', ' '));

describe('LineSplitter', () => {
  it('emits each completed line as soon as its newline arrives', () => {
    const out: string[] = [];
    const splitter = new LineSplitter(1024, (text) => out.push(text));
    splitter.push(Buffer.from('one\ntw'));
    expect(out).toEqual(['one']);
    splitter.push(Buffer.from('o\nthree\n'));
    expect(out).toEqual(['one', 'two', 'three']);
  });

  it('strips "\\n" and one trailing "\\r", keeps empty lines and a "\\r" inside a line', () => {
    expect(split(['a\r\n\nb\rc\n', '\r\n'])).toEqual(['a', '', 'b\rc', '']);
  });

  it('strips "\\r\\n" split across chunks', () => {
    expect(split(['abc\r', '\ndef\n'])).toEqual(['abc', 'def']);
  });

  it('emits a final line without newline at end, and nothing extra after a final newline', () => {
    expect(split(['last words'])).toEqual(['last words']);
    expect(split(['done\n'])).toEqual(['done']);
    expect(split([])).toEqual([]);
  });

  it('decodes a multibyte character split across chunks', () => {
    const euro = Buffer.from('€\n'); // e2 82 ac 0a
    expect(split([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)])).toEqual(['€']);
  });

  it('emits incomplete UTF-8 at the very end as U+FFFD', () => {
    expect(split([Buffer.from([0x61, 0xe2, 0x82])])).toEqual(['a\ufffd']);
  });

  it('cuts an over-long line into pieces of maxLineBytes, the rest last', () => {
    expect(split(['x'.repeat(10) + '\n' + 'y'.repeat(3)], 4)).toEqual(['xxxx', 'xxxx', 'xx', 'yyy']);
  });

  it('emits full pieces of a long line before its newline arrives', () => {
    const out: string[] = [];
    const splitter = new LineSplitter(4, (text) => out.push(text));
    splitter.push(Buffer.from('abcdefghij'));
    expect(out).toEqual(['abcd', 'efgh']);
    splitter.push(Buffer.from('\n'));
    expect(out).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('keeps a line of exactly maxLineBytes whole, even with "\\r\\n"', () => {
    expect(split(['abcd\r', '\n'], 4)).toEqual(['abcd']);
  });

  it('never cuts a character in two', () => {
    // Each "€" is 3 bytes: 4-byte pieces hold one.
    expect(split(['€€€\n'], 4)).toEqual(['€', '€', '€']);
    // A character wider than the limit is emitted whole.
    expect(split(['😀\n'], 2)).toEqual(['😀']);
  });

  it('rejects a maxLineBytes that is not a positive integer', () => {
    expect(() => new LineSplitter(0, () => undefined)).toThrow(RangeError);
  });

  it('recovers the lines however the bytes are chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(lineText, { maxLength: 8 }), fc.boolean(), fc.array(fc.nat()), (lines, finalNewline, cuts) => {
        const text = lines.join('\n') + (finalNewline ? '\n' : '');
        const expected = text.split('\n');
        if (expected.at(-1) === '') expected.pop(); // a final newline ends the last line; it starts none
        expect(split(cutAt(Buffer.from(text), cuts))).toEqual(expected.map((l) => l.replace(/\r$/, '')));
      }),
    );
  });

  it('keeps every piece within maxLineBytes and loses no character (property)', () => {
    fc.assert(
      fc.property(fc.array(lineText, { maxLength: 8 }), fc.integer({ min: 4, max: 16 }), fc.array(fc.nat()), (lines, max, cuts) => {
        const clean = lines.map((l) => l.replaceAll('\r', ''));
        const pieces = split(cutAt(Buffer.from(clean.map((l) => l + '\n').join('')), cuts), max);
        for (const piece of pieces) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(max);
        expect(pieces.join('')).toBe(clean.join(''));
      }),
    );
  });
});
