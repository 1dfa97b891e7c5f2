import type { DescService } from '@bufbuild/protobuf';
import { DispatcherService, PoolRegistryService, TokenService } from '@longshore/client';
import type { CliClient } from './context.js';

type AnyFn = (...args: unknown[]) => unknown;

/** Yields what the iterable `open()` resolves to yields. */
async function* flatten<T>(open: Promise<AsyncIterable<T>>): AsyncIterable<T> {
  yield* await open;
}

/**
 * A {@link CliClient} that opens the real one on its first call, so the client's code (gRPC, the
 * configuration schemas) is loaded only by a command that talks to the cluster: `--help` and
 * usage errors never load it, and in the bundled CLI it is a chunk of its own. A configuration
 * error (a bad `LONGSHORE_TLS_CA`, say) comes from that first call, which every command awaits.
 * Unary calls return promises and streaming calls async iterables, as the real client's do.
 */
export function lazyClient(open: () => Promise<CliClient>): CliClient {
  let opening: Promise<CliClient> | undefined;
  let opened: CliClient | undefined;
  const client = () =>
    (opening ??= open().then((c) => {
      opened = c;
      return c;
    }));
  const service = <K extends 'dispatcher' | 'registry' | 'tokens'>(key: K, desc: DescService): CliClient[K] => {
    const methods: Record<string, AnyFn> = {};
    for (const m of desc.methods) {
      const call = (args: unknown[]) => client().then((c) => (c[key] as unknown as Record<string, AnyFn>)[m.localName]!(...args));
      methods[m.localName] = m.methodKind === 'unary' ? (...args) => call(args) : (...args) => flatten(call(args) as Promise<AsyncIterable<unknown>>);
    }
    return methods as unknown as CliClient[K];
  };
  return {
    dispatcher: service('dispatcher', DispatcherService),
    registry: service('registry', PoolRegistryService),
    tokens: service('tokens', TokenService),
    submit: (...args) => client().then((c) => c.submit(...args)),
    submitBatch: (...args) => client().then((c) => c.submitBatch(...args)),
    getJob: (...args) => client().then((c) => c.getJob(...args)),
    waitForJob: (...args) => client().then((c) => c.waitForJob(...args)),
    logs: (...args) => flatten(client().then((c) => c.logs(...args))),
    close: () => opened?.close(),
  };
}
