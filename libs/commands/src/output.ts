import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { OutputClosedError } from './errors.js';

/** Writes a value as indented JSON and a newline. */
export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes messages as protobuf JSON: one object, or an array when given an array. */
export function writeMessagesJson<Desc extends DescMessage>(
  stream: NodeJS.WritableStream,
  schema: Desc,
  messages: MessageShape<Desc> | readonly MessageShape<Desc>[],
): void {
  writeJson(stream, Array.isArray(messages) ? messages.map((m: MessageShape<Desc>) => toJson(schema, m)) : toJson(schema, messages as MessageShape<Desc>));
}

/**
 * Writes a line, waiting for the stream to drain when its buffer is full (job logs can be long).
 * Throws {@link OutputClosedError} once the stream is closed, so a follow loop stops.
 */
export async function writeLine(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.writable) throw new OutputClosedError(`output closed`);
  if (stream.write(`${text}\n`)) return;
  // Also give up waiting if the reader went away (e.g. `| head`), rather than hang.
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}
