import type { Logger } from '@longshore/telemetry';
import type { RpcServer } from './server.js';

/** A running gRPC service. */
export interface ServiceHandle {
  /** The address actually bound (port 0 becomes a real port). */
  readonly address: string;
  /** Drains the server, then closes what it used; idempotent. */
  close(): Promise<void>;
}

/**
 * Binds `server` on `listen`, logs the `Listening` line (tests and `longshore up` wait for it),
 * and returns a handle whose close drains the server and then runs `closers` in order.
 */
export async function serve(server: RpcServer, listen: string, logger: Logger, closers: (() => Promise<void> | void)[], fields: object = {}): Promise<ServiceHandle> {
  const address = await server.listen(listen);
  logger.info({ address, ...fields }, 'Listening');
  let closing: Promise<void> | undefined;
  return {
    address,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        for (const c of closers) await c();
      })()),
  };
}
