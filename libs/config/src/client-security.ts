// The client side of security (CLI, SDK, agent), without zod: the CLI loads this for every command
// that talks to the cluster, and zod's schemas were a third of what it read at start. Its messages
// are those of parseEnv ("invalid configuration:" and a line per bad variable).
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { credentialsPath } from './home.js';

/** PEM material a client verifies servers with (`ca`), and presents for mTLS (`cert` + `key`). */
export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** How a client (CLI, SDK, agent) proves who it is and checks the servers. */
export interface ClientSecurity {
  token?: string;
  /** Where the token came from, for messages: `LONGSHORE_TOKEN`, the credentials file's path, or none. */
  tokenSource: string;
  tls?: ClientTls;
  insecurePlaintext: boolean;
}

/** The values a boolean variable (LONGSHORE_INSECURE_PLAINTEXT, …) takes (`''` = unset), and what each means. */
export const BOOLEAN_FLAG: Readonly<Record<string, boolean>> = { '0': false, '1': true, '': false, true: true, false: false };

/** A PEM file named by `variable`, read; undefined when the variable is unset. */
export function readPem(variable: string, path: string | undefined): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${variable}=${JSON.stringify(path)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the path of a PEM file`);
  }
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
  const token = source['LONGSHORE_TOKEN'] ?? '';
  const caPath = source['LONGSHORE_TLS_CA'] ?? '';
  const certPath = source['LONGSHORE_TLS_CLIENT_CERT'] ?? '';
  const keyPath = source['LONGSHORE_TLS_CLIENT_KEY'] ?? '';
  const plaintext = source['LONGSHORE_INSECURE_PLAINTEXT'] ?? '';
  const problems: string[] = [];
  if (token.length > 512) problems.push(`  LONGSHORE_TOKEN=${JSON.stringify(token)}: must be at most 512 characters`);
  if (/\s/.test(token)) problems.push(`  LONGSHORE_TOKEN=${JSON.stringify(token)}: must not contain spaces`);
  if (!Object.hasOwn(BOOLEAN_FLAG, plaintext)) {
    // The words of zod's enum message, as the servers' variables get (parseEnv).
    problems.push(`  LONGSHORE_INSECURE_PLAINTEXT=${JSON.stringify(plaintext)}: Invalid option: expected one of ${Object.keys(BOOLEAN_FLAG).map((v) => JSON.stringify(v)).join('|')}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new ConfigError('invalid configuration:\n  LONGSHORE_TLS_CLIENT_CERT and LONGSHORE_TLS_CLIENT_KEY go together: set both or neither');
  }
  const file = credentialsPath(source);
  const fromFile = token ? undefined : readCredentialsFile(file);
  const chosen = token || fromFile;
  // `system`: TLS verified against the system's root certificates instead of a given CA.
  const systemRoots = caPath === 'system';
  const ca = systemRoots ? undefined : readPem('LONGSHORE_TLS_CA', caPath);
  const cert = readPem('LONGSHORE_TLS_CLIENT_CERT', certPath);
  const key = readPem('LONGSHORE_TLS_CLIENT_KEY', keyPath);
  const tls = ca || cert || systemRoots ? { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) } : undefined;
  return Object.freeze({
    ...(chosen ? { token: chosen } : {}),
    tokenSource: token ? 'LONGSHORE_TOKEN' : fromFile ? file : 'none',
    ...(tls ? { tls } : {}),
    insecurePlaintext: BOOLEAN_FLAG[plaintext]!,
  });
}
