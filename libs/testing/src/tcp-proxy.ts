import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What a {@link TcpProxy} does with traffic: `pass` forwards bytes, `blackhole` accepts
 * connections but drops every byte both ways (a partition), `refuse` resets every connection at
 * once (a dead host).
 */
export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

/**
 * A loopback TCP proxy in front of one target (usually Redis), started by
 * {@link startTcpProxy}, that a fault test drives to cut a client off without firewall rules.
 */
export interface TcpProxy {
  /** Listening on 127.0.0.1:port. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`, a convenience for Redis targets (with `:PASSWORD@` when the target has one). */
  readonly url: string;
  readonly mode: ProxyMode;
  /** Number of client connections currently open through the proxy. */
  readonly connections: number;
  /** Destroys every open connection at once (both sides, like a reset). New connections follow the current mode. */
  sever(): void;
  /** Keeps connections open but silently drops all bytes both ways (a network partition); new connections are accepted and also blackholed. */
  blackhole(): void;
  /** Closes existing connections and refuses (immediately destroys) new ones, like a dead host. */
  refuse(): void;
  /** Back to forwarding for new connections (existing blackholed ones stay dead: sever them first if you want clean reconnects). */
  restore(): void;
  /** Stops listening and destroys every connection. Idempotent: a second call returns the first call's promise. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 (a free port, or `opts.port` to bring a closed proxy back on the
 * same port) that forwards each accepted connection to `target` (host defaults to 127.0.0.1).
 * A target's `password` only goes into {@link TcpProxy.url}, so `startTcpProxy(redis)` gives a
 * URL that authenticates through the proxy. Rejects naming the port if it cannot listen (e.g. `EADDRINUSE`).
 */
export async function startTcpProxy(
  target: { host?: string; port: number; password?: string | undefined },
  opts: { port?: number } = {},
): Promise<TcpProxy> {
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  const port = opts.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Error(`tcp proxy could not listen on 127.0.0.1:${port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: '127.0.0.1', port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Once listening, a server error must not crash the test process; accepted sockets carry on.
  server.on('error', () => undefined);
  return new TcpProxyServer(server, { host: target.host ?? '127.0.0.1', port: target.port }, target.password);
}

/** One accepted client and its upstream (none for connections accepted while blackholed). */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket | undefined;
  blackholed: boolean;
}

class TcpProxyServer implements TcpProxy {
  readonly port: number;
  readonly url: string;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  /** Every socket not yet closed, clients and upstreams alike, so nothing outlives close(). */
  readonly #sockets = new Set<Socket>();
  #mode: ProxyMode = 'pass';
  #closing: Promise<void> | undefined;

  /** `server` must be listening already. */
  constructor(server: Server, target: { host: string; port: number }, password: string | undefined) {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('tcp proxy is not listening');
    this.port = address.port;
    this.url = password === undefined ? `redis://127.0.0.1:${address.port}` : `redis://:${encodeURIComponent(password)}@127.0.0.1:${address.port}`;
    this.#server = server;
    this.#target = target;
    server.on('connection', (client) => this.#accept(client));
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  get connections(): number {
    // `destroyed` flips at once on sever() or close(); 'close' events come a tick later.
    let open = 0;
    for (const pair of this.#pairs) if (!pair.client.destroyed) open++;
    return open;
  }

  sever(): void {
    for (const socket of this.#sockets) reset(socket);
  }

  blackhole(): void {
    this.#mode = 'blackhole';
    for (const pair of this.#pairs) {
      pair.blackholed = true;
      // Drain into the void: a side paused for backpressure must not stall.
      pair.client.resume();
      pair.upstream?.resume();
    }
  }

  refuse(): void {
    this.#mode = 'refuse';
    this.sever();
  }

  restore(): void {
    this.#mode = 'pass';
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const sockets = [...this.#sockets];
      const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
      for (const socket of sockets) socket.destroy();
      await Promise.all([stopped, ...closed]);
    })();
    return this.#closing;
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined); // 'close' follows and tears the pair down
    if (this.#closing !== undefined || this.#mode === 'refuse') {
      reset(client);
      return;
    }
    const blackholed = this.#mode === 'blackhole';
    // A partitioned client never reaches the target, so there is no upstream to open.
    const upstream = blackholed ? undefined : connect({ ...this.#target, allowHalfOpen: true, noDelay: true });
    const pair: Pair = { client, upstream, blackholed };
    this.#pairs.add(pair);
    this.#track(client);
    client.once('close', () => this.#pairs.delete(pair));
    if (upstream === undefined) {
      client.resume(); // swallow whatever the client sends
      return;
    }
    upstream.on('error', () => undefined);
    this.#track(upstream);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}

/**
 * Copies bytes `from` → `to` by hand (not `pipe`) so a blackholed pair can drop them without
 * closing, pausing `from` while `to` is over its high-water mark. A FIN is passed on as `end()`
 * so the tail of a reply is flushed; an error or a blackholed pair destroys the other side.
 */
function forward(pair: Pair, from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (pair.blackholed || !to.writable) return;
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => {
    if (!pair.blackholed && to.writable) to.end();
  });
  from.once('close', (hadError) => {
    if (to.destroyed) return;
    if (hadError || pair.blackholed) to.destroy();
    else to.end();
  });
}

/** Closes `socket` with a TCP RST where it can (a still-connecting socket is simply destroyed). */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}
