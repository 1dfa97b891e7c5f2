import { z } from 'zod';
import { BOOLEAN_FLAG, readPem } from './client-security.js';
import { ConfigError, parseEnv } from './parse-env.js';

export { loadClientSecurity, readCredentialsFile } from './client-security.js';
export type { ClientSecurity, ClientTls } from './client-security.js';

/** PEM material a server serves TLS with; `clientCa` turns on mTLS (client certificates required). */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** How a server (registry, dispatcher) guards its calls. */
export interface ServerSecurity {
  /** `off` only when `LONGSHORE_AUTH=off`: then every call may do anything (logged at start). */
  auth: 'on' | 'off';
  /** `LONGSHORE_BOOTSTRAP_TOKEN`: the first admin token, stored hashed by the registry at start. */
  bootstrapToken?: string;
  tls?: ServerTls;
  /** `LONGSHORE_INSECURE_PLAINTEXT=1`: plaintext allowed on non-loopback addresses (logged). */
  insecurePlaintext: boolean;
}

const flag = z.enum(Object.keys(BOOLEAN_FLAG) as [string, ...string[]]).transform((v) => BOOLEAN_FLAG[v]!);

/** Reads the server side: LONGSHORE_AUTH, LONGSHORE_BOOTSTRAP_TOKEN, LONGSHORE_TLS_CERT/KEY/CLIENT_CA, LONGSHORE_INSECURE_PLAINTEXT. */
export function loadServerSecurity(source: NodeJS.ProcessEnv = process.env): ServerSecurity {
  const e = parseEnv(
    {
      LONGSHORE_AUTH: z.enum(['on', 'off']),
      LONGSHORE_BOOTSTRAP_TOKEN: z.string().max(512, 'must be at most 512 characters'),
      LONGSHORE_TLS_CERT: z.string(),
      LONGSHORE_TLS_KEY: z.string(),
      LONGSHORE_TLS_CLIENT_CA: z.string(),
      LONGSHORE_INSECURE_PLAINTEXT: flag,
    },
    { LONGSHORE_AUTH: 'on', LONGSHORE_BOOTSTRAP_TOKEN: '', LONGSHORE_TLS_CERT: '', LONGSHORE_TLS_KEY: '', LONGSHORE_TLS_CLIENT_CA: '', LONGSHORE_INSECURE_PLAINTEXT: '' },
    source,
  );
  if (Boolean(e.LONGSHORE_TLS_CERT) !== Boolean(e.LONGSHORE_TLS_KEY)) {
    throw new ConfigError('invalid configuration:\n  LONGSHORE_TLS_CERT and LONGSHORE_TLS_KEY go together: set both (a PEM certificate chain and its private key) or neither');
  }
  if (e.LONGSHORE_TLS_CLIENT_CA && !e.LONGSHORE_TLS_CERT) {
    throw new ConfigError('invalid configuration:\n  LONGSHORE_TLS_CLIENT_CA needs LONGSHORE_TLS_CERT and LONGSHORE_TLS_KEY: client certificates are only checked over TLS');
  }
  const cert = readPem('LONGSHORE_TLS_CERT', e.LONGSHORE_TLS_CERT);
  const key = readPem('LONGSHORE_TLS_KEY', e.LONGSHORE_TLS_KEY);
  const clientCa = readPem('LONGSHORE_TLS_CLIENT_CA', e.LONGSHORE_TLS_CLIENT_CA);
  return Object.freeze({
    auth: e.LONGSHORE_AUTH,
    ...(e.LONGSHORE_BOOTSTRAP_TOKEN ? { bootstrapToken: e.LONGSHORE_BOOTSTRAP_TOKEN } : {}),
    ...(cert && key ? { tls: { cert, key, ...(clientCa ? { clientCa } : {}) } } : {}),
    insecurePlaintext: e.LONGSHORE_INSECURE_PLAINTEXT,
  });
}
