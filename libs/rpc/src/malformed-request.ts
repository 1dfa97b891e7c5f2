import { fromBinary, type DescMethod } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '@longshore/domain';

/**
 * A request whose bytes are not a valid message of its type. grpc-js answers a deserializer that
 * throws with INTERNAL ("Error deserializing request"), which blames the server for the
 * client's bytes; decoding to this marker instead lets the handler wrapper refuse the call with
 * INVALID_ARGUMENT (found by test/e2e/fuzz.test.ts).
 */
export class MalformedRequest {
  constructor(
    readonly typeName: string,
    readonly reason: string,
  ) {}

  toError(): InvalidArgumentError {
    return new InvalidArgumentError('request', `is not a valid ${this.typeName} message (${this.reason.slice(0, 200)}): send a protobuf-encoded request`);
  }
}

/** The server-side request deserializer: a message, or a {@link MalformedRequest}; never throws. */
export function decodeRequest(m: DescMethod, bytes: Buffer): unknown {
  try {
    return fromBinary(m.input, bytes);
  } catch (err) {
    return new MalformedRequest(m.input.typeName, err instanceof Error ? err.message : String(err));
  }
}

type Handler<C> = (req: unknown, ctx: C) => Promise<unknown> | AsyncIterable<unknown>;

/** Wraps a handler so a {@link MalformedRequest} is refused before the handler sees it. */
export function refuseMalformed<C>(m: DescMethod, fn: Handler<C>): Handler<C> {
  return (req, ctx) => {
    if (!(req instanceof MalformedRequest)) return fn(req, ctx);
    const err = req.toError();
    if (m.methodKind === 'unary') return Promise.reject(err);
    return (async function* () {
      yield* [];
      throw err;
    })();
  };
}
