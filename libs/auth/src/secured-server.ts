import type { ServerSecurity } from '@longshore/config';
import { checkPlaintext, RpcServer, serverCredentials } from '@longshore/rpc';
import type { Redis } from '@longshore/store';
import type { Logger } from '@longshore/telemetry';
import { createAuthenticator } from './authenticator.js';
import { TokenStore } from './token-store.js';

/**
 * The gRPC server every Longshore service runs: TLS when configured (plaintext only on loopback
 * unless LONGSHORE_INSECURE_PLAINTEXT=1), and every call but health checked against the token
 * store, unless LONGSHORE_AUTH=off (logged as a warning).
 */
export function createSecuredServer(security: ServerSecurity, listen: string, redis: Redis, prefix: string, logger: Logger): { server: RpcServer; tokens: TokenStore } {
  checkPlaintext(listen, security.tls !== undefined, security.insecurePlaintext, 'listen', logger);
  const tokens = new TokenStore(redis, prefix);
  if (security.auth === 'off') {
    logger.warn('LONGSHORE_AUTH=off: every caller that reaches this port may do anything (submit, cancel, delete pools, register agents); use it only on a trusted, isolated network');
  }
  // Without an authorize hook the server runs every call as ANONYMOUS_ADMIN.
  const authorize = security.auth === 'on' ? { authorize: createAuthenticator({ tokens }) } : {};
  return { server: new RpcServer(logger, { credentials: serverCredentials(security.tls), ...authorize }), tokens };
}
