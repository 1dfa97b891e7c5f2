import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a byte stream (a child's stdout or stderr) into lines as the bytes arrive. Lines are
 * emitted without `\n` and without a trailing `\r`; a line longer than `maxLineBytes` is emitted
 * in pieces of at most that many UTF-8 bytes, never cut inside a character, so one runaway line
 * cannot make the agent buffer without bound. Hand-written because `readline` has no length cap.
 */
export class LineSplitter {
  // Holds back the bytes of a character split across two chunks.
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly maxLineBytes: number,
    private readonly emit: (text: string) => void,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
  }

  /** Feeds the next chunk; emits every line it completes, and full pieces of an over-long line. */
  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.pending + text.slice(start, nl);
      this.pending = '';
      start = nl + 1;
      for (const piece of splitByBytes(stripCr(line), this.maxLineBytes)) this.emit(piece);
    }
    this.pending += text.slice(start);
    this.emitFullPieces();
  }

  /** Ends the stream: emits the last line even without a newline. Incomplete UTF-8 becomes U+FFFD. */
  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest === '') return;
    for (const piece of splitByBytes(stripCr(rest), this.maxLineBytes)) this.emit(piece);
  }

  private emitFullPieces(): void {
    // A trailing '\r' may be the start of "\r\n": keep it out of the count so it is stripped later.
    const cr = this.pending.endsWith('\r');
    const body = cr ? this.pending.slice(0, -1) : this.pending;
    const pieces = splitByBytes(body, this.maxLineBytes);
    if (pieces.length === 1) return;
    this.pending = pieces.pop()! + (cr ? '\r' : '');
    for (const piece of pieces) this.emit(piece);
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes without cutting a character. */
function splitByBytes(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return [text];
  const bytes = Buffer.from(text, 'utf8');
  const pieces: string[] = [];
  let start = 0;
  while (bytes.length - start > maxBytes) {
    let cut = start + maxBytes;
    while (cut > start && isContinuationByte(bytes[cut])) cut--;
    // A single character wider than maxBytes: emit it whole rather than break it.
    if (cut === start) {
      cut = start + 1;
      while (cut < bytes.length && isContinuationByte(bytes[cut])) cut++;
    }
    pieces.push(bytes.toString('utf8', start, cut));
    start = cut;
  }
  if (start < bytes.length) pieces.push(bytes.toString('utf8', start));
  return pieces;
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
