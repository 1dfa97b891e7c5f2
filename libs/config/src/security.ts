import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { credentialsPath } from './home.js';
import { ConfigError, parseEnv } from './parse-env.js';

/** PEM material a server serves TLS with; `clientCa` turns on mTLS (client certificates required). */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** PEM material a client verifies servers with (`ca`), and presents for mTLS (`cert` + `key`). */
export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
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

/** How a client (CLI, SDK, agent) proves who it is and checks the servers. */
export interface ClientSecurity {
  token?: string;
  /** Where the token came from, for messages: `LONGSHORE_TOKEN`, the credentials file's path, or none. */
  tokenSource: string;
  tls?: ClientTls;
  insecurePlaintext: boolean;
}

const flag = z.enum(['', '0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

function readPem(variable: string, path: string | undefined): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${variable}=${JSON.stringify(path)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the path of a PEM file`);
  }
}

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

/** The token in a credentials file `longshore up` wrote, if there is one. */
export function readCredentialsFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const token = (JSON.parse(text) as { token?: unknown }).token;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    throw new ConfigError(`${path} is not a Longshore credentials file (expected JSON with a "token"): remove it and run longshore up again, or set LONGSHORE_TOKEN`);
  }
}

/**
 * Reads the client side: the token from LONGSHORE_TOKEN, else `$LONGSHORE_HOME/credentials`;
 * LONGSHORE_TLS_CA (verify servers; `system` = the system's roots), LONGSHORE_TLS_CLIENT_CERT/KEY (mTLS), LONGSHORE_INSECURE_PLAINTEXT.
 */
export function loadClientSecurity(source: NodeJS.ProcessEnv = process.env): ClientSecurity {
  const e = parseEnv(
    {
      LONGSHORE_TOKEN: z.string().max(512, 'must be at most 512 characters').regex(/^\S*$/, 'must not contain spaces'),
      LONGSHORE_TLS_CA: z.string(),
      LONGSHORE_TLS_CLIENT_CERT: z.string(),
      LONGSHORE_TLS_CLIENT_KEY: z.string(),
      LONGSHORE_INSECURE_PLAINTEXT: flag,
    },
    { LONGSHORE_TOKEN: '', LONGSHORE_TLS_CA: '', LONGSHORE_TLS_CLIENT_CERT: '', LONGSHORE_TLS_CLIENT_KEY: '', LONGSHORE_INSECURE_PLAINTEXT: '' },
    source,
  );
  if (Boolean(e.LONGSHORE_TLS_CLIENT_CERT) !== Boolean(e.LONGSHORE_TLS_CLIENT_KEY)) {
    throw new ConfigError('invalid configuration:\n  LONGSHORE_TLS_CLIENT_CERT and LONGSHORE_TLS_CLIENT_KEY go together: set both or neither');
  }
  const file = credentialsPath(source);
  const fromFile = e.LONGSHORE_TOKEN ? undefined : readCredentialsFile(file);
  const token = e.LONGSHORE_TOKEN || fromFile;
  // `system`: TLS verified against the system's root certificates instead of a given CA.
  const systemRoots = e.LONGSHORE_TLS_CA === 'system';
  const ca = systemRoots ? undefined : readPem('LONGSHORE_TLS_CA', e.LONGSHORE_TLS_CA);
  const cert = readPem('LONGSHORE_TLS_CLIENT_CERT', e.LONGSHORE_TLS_CLIENT_CERT);
  const key = readPem('LONGSHORE_TLS_CLIENT_KEY', e.LONGSHORE_TLS_CLIENT_KEY);
  const tls = ca || cert || systemRoots ? { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) } : undefined;
  return Object.freeze({
    ...(token ? { token } : {}),
    tokenSource: e.LONGSHORE_TOKEN ? 'LONGSHORE_TOKEN' : fromFile ? file : 'none',
    ...(tls ? { tls } : {}),
    insecurePlaintext: e.LONGSHORE_INSECURE_PLAINTEXT,
  });
}
