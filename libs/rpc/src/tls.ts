import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ConfigError, type ClientTls, type ServerTls } from '@longshore/config';
import type { Logger } from '@longshore/telemetry';

/** TLS (mTLS when `tls.clientCa` is given: client certificates signed by it are required), or plaintext. */
export function serverCredentials(tls: ServerTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

/** TLS verifying the server against `tls.ca` (system roots without one), presenting a client certificate when given; or plaintext. */
export function channelCredentials(tls: ClientTls | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

/** Whether `host:port` names this machine's loopback interface, where plaintext cannot be overheard. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Refuses plaintext gRPC on an address other than loopback unless `insecure` (from
 * `LONGSHORE_INSECURE_PLAINTEXT=1`) says so, in which case it warns: tokens would cross the
 * network in the clear.
 * @throws ConfigError naming the variables to set.
 */
export function checkPlaintext(address: string, tlsOn: boolean, insecure: boolean, side: 'listen' | 'connect', logger?: Logger): void {
  if (tlsOn || isLoopbackAddress(address)) return;
  const what = side === 'listen' ? `listening on ${address}` : `connecting to ${address}`;
  if (!insecure) {
    const fix = side === 'listen' ? 'set LONGSHORE_TLS_CERT and LONGSHORE_TLS_KEY' : 'set LONGSHORE_TLS_CA (or LONGSHORE_TLS_CA=system)';
    throw new ConfigError(`refusing plaintext gRPC ${what}: tokens and job data would cross the network unencrypted; ${fix}, or set LONGSHORE_INSECURE_PLAINTEXT=1 to allow it`);
  }
  logger?.warn({ address }, `plaintext gRPC ${what} (LONGSHORE_INSECURE_PLAINTEXT=1): tokens and job data cross the network unencrypted`);
}
