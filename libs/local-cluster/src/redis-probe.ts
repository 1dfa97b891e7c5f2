import { createConnection, createServer } from 'node:net';

/** Credentials to present: `username` empty means Redis' `default` user (plain `AUTH password`). */
export interface RedisCredentials {
  username: string;
  password: string;
}

/**
 * What a Redis at an address said: `down` (no connection or no reply), `ready` (PING answered,
 * after AUTH succeeded when credentials were given), `loading` (still reading its AOF),
 * `refused` (it answered but refused us: NOAUTH, wrong password, or no password configured
 * while we gave one, i.e. not the Redis we expect).
 */
export type ProbeResult = 'down' | 'ready' | 'loading' | 'refused';

/** One RESP command; lengths in bytes, so any password goes through unescaped. */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * One fresh TCP connection: `AUTH` (when `creds` is given), then `PING`. Raw RESP rather than
 * ioredis: one round trip, no reconnect loop, no error events.
 */
export function probeRedis(host: string, port: number, creds?: RedisCredentials, timeoutMs = 1_000): Promise<ProbeResult> {
  const auth = creds ? (creds.username ? command('AUTH', creds.username, creds.password) : command('AUTH', creds.password)) : '';
  const expected = creds ? 2 : 1;
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    const done = (r: ProbeResult): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done('down'));
    socket.once('error', () => done('down'));
    socket.once('end', () => done(reply === '' ? 'down' : 'refused'));
    socket.once('connect', () => socket.write(auth + command('PING')));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const lines = reply.split('\r\n');
      if (lines.length <= expected) return; // a reply is still partial
      const [first = '', second = ''] = lines;
      if (lines.some((l) => l.startsWith('-LOADING'))) return done('loading');
      if (creds && !first.startsWith('+OK')) return done('refused');
      done((creds ? second : first).startsWith('+PONG') ? 'ready' : 'refused');
    });
  });
}

/**
 * A port free on 127.0.0.1 right now, other than `avoid` (ports the caller is about to bind
 * itself, free until then); another process may take it before we bind: callers retry.
 */
export async function freeLoopbackPort(avoid: readonly number[] = []): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await anyFreeLoopbackPort();
    if (!avoid.includes(port)) return port;
  }
  throw new Error(`could not find a free port on 127.0.0.1 other than ${avoid.join(', ')}`);
}

function anyFreeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port on 127.0.0.1'))));
    });
  });
}
