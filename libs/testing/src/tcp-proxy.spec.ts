import { randomBytes, randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { redisServerRequired, startRedis, type RedisHandle } from './redis-server.js';
import { Resources } from './resources.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { sleep, TIMED_OUT, waitFor, withDeadline } from './wait-for.js';

/** Stopped after each test, last added first: clients, then proxies, then echo servers. */
const res = new Resources();
afterEach(() => res.stopAll());

/** Rejects naming `what` unless `promise` settles within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const value = await withDeadline(promise, ms);
  if (value === TIMED_OUT) throw new Error(`${what} did not happen within ${ms}ms`);
  return value;
}

/** The next `event` from `emitter` (unlike `events.once`, an 'error' first does not reject). */
function next(emitter: EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** A proxy to a bare port, or to a Redis (whose password then rides in `proxy.url`). */
async function proxyTo(target: number | { port: number; password?: string | undefined }, opts?: { port?: number }): Promise<TcpProxy> {
  const proxy = await startTcpProxy(typeof target === 'number' ? { port: target } : target, opts);
  res.add({ stop: () => proxy.close() });
  return proxy;
}

/** A TCP echo server on 127.0.0.1 that keeps its accepted sockets, to see what reached it. */
async function startEcho(): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  res.add({
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of accepted) s.destroy();
      }),
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('echo server has no port');
  return { port: address.port, accepted };
}

/** A raw client socket that records what it receives and when it closes. */
function rawConnect(port: number): { socket: Socket; text: () => string; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined); // a reset shows up as 'close' below
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = next(socket, 'close');
  res.add({ stop: async () => void socket.destroy() });
  return { socket, text: () => Buffer.concat(chunks).toString('latin1'), closed };
}

async function echoes(raw: { socket: Socket; text: () => string }, word: string): Promise<void> {
  raw.socket.write(word);
  await waitFor(() => raw.text().includes(word), { timeoutMs: 2_000, what: `echo of "${word}"` });
}

async function staysSilent(raw: { socket: Socket; text: () => string }, word: string): Promise<void> {
  raw.socket.write(word);
  await sleep(300);
  expect(raw.text()).not.toContain(word);
}

describe('startTcpProxy over raw TCP', () => {
  it('forwards bytes both ways and counts open connections', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    expect(proxy.mode).toBe('pass');
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);

    const a = rawConnect(proxy.port);
    const b = rawConnect(proxy.port);
    await echoes(a, 'hello');
    await echoes(b, 'world');
    expect(proxy.connections).toBe(2);
    expect(echo.accepted).toHaveLength(2);

    a.socket.end();
    await within(a.closed, 2_000, 'close after end');
    await waitFor(() => proxy.connections === 1, { timeoutMs: 2_000, what: 'one connection left' });
  });

  it('carries a 16 MiB payload intact (backpressure pauses and resumes)', async () => {
    const proxy = await proxyTo((await startEcho()).port);
    const payload = randomBytes(16 * 1024 * 1024);
    const raw = rawConnect(proxy.port);
    const chunks: Buffer[] = [];
    let received = 0;
    const all = new Promise<void>((resolve) =>
      raw.socket.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
        if (received >= payload.length) resolve();
      }),
    );
    raw.socket.write(payload);
    await within(all, 15_000, 'the whole payload echoed');
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  });

  it('pushes back on the client when the target does not read', async () => {
    const stalled: Socket[] = [];
    const server = createServer((s) => {
      stalled.push(s);
      s.pause(); // never reads: the kernel buffers fill up
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    res.add({
      stop: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of stalled) s.destroy();
        }),
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const proxy = await proxyTo(address.port);
    const raw = rawConnect(proxy.port);
    const size = 64 * 1024 * 1024; // far more than the loopback socket buffers on both hops
    raw.socket.write(Buffer.alloc(size));
    await sleep(500);
    // Without pause/resume the proxy would read it all into its own memory and the client's
    // buffer would drain; with it most of the payload is still waiting on the client side.
    expect(raw.socket.writableLength).toBeGreaterThan(size / 2);
  });

  it('sever() closes both sides of every connection; new ones pass again', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const raw = rawConnect(proxy.port);
    await echoes(raw, 'before');
    const upstreamClosed = next(echo.accepted[0]!, 'close');

    proxy.sever();
    await within(raw.closed, 2_000, 'client side closed by sever()');
    await within(upstreamClosed, 2_000, 'target side closed by sever()');
    expect(proxy.connections).toBe(0);

    await echoes(rawConnect(proxy.port), 'after');
  });

  it('blackhole() drops bytes both ways without closing; restore() only helps new connections', async () => {
    const echo = await startEcho();
    const proxy = await proxyTo(echo.port);
    const old = rawConnect(proxy.port);
    await echoes(old, 'one');

    proxy.blackhole();
    expect(proxy.mode).toBe('blackhole');
    // Target → client: the echo server answers, but the answer is dropped.
    echo.accepted[0]!.write('from-target');
    await staysSilent(old, 'two');
    expect(echo.accepted[0]!.destroyed).toBe(false);

    // A new connection is accepted but never reaches the target.
    const fresh = rawConnect(proxy.port);
    await staysSilent(fresh, 'three');
    expect(echo.accepted).toHaveLength(1);
    expect(proxy.connections).toBe(2);

    proxy.restore();
    expect(proxy.mode).toBe('pass');
    await staysSilent(old, 'four');
    await echoes(rawConnect(proxy.port), 'five');
  });

  it('refuse() closes existing connections and new ones at once; restore() lets the next one through', async () => {
    const proxy = await proxyTo((await startEcho()).port);
    const old = rawConnect(proxy.port);
    await echoes(old, 'hi');

    proxy.refuse();
    expect(proxy.mode).toBe('refuse');
    await within(old.closed, 2_000, 'existing connection closed by refuse()');
    const refused = rawConnect(proxy.port);
    refused.socket.write('anyone?');
    await within(refused.closed, 1_000, 'new connection closed by refuse()');
    expect(refused.text()).toBe('');
    expect(proxy.connections).toBe(0);

    proxy.restore();
    await echoes(rawConnect(proxy.port), 'back');
  });

  it('closes the client when the target is down, and keeps serving', async () => {
    const proxy = await proxyTo(await freePort()); // nothing listens there
    const raw = rawConnect(proxy.port);
    await within(raw.closed, 2_000, 'client closed after the upstream was refused');
    await waitFor(() => proxy.connections === 0, { timeoutMs: 2_000, what: 'no connections' });
    await within(rawConnect(proxy.port).closed, 2_000, 'a second client closed too');
  });

  it('close() is idempotent, leaves no connection open and stops listening', async () => {
    const proxy = await proxyTo((await startEcho()).port);
    const raws = [rawConnect(proxy.port), rawConnect(proxy.port)];
    for (const raw of raws) await echoes(raw, 'x');

    const first = proxy.close();
    expect(proxy.close()).toBe(first);
    await within(first, 2_000, 'close()');
    await proxy.close();
    expect(proxy.connections).toBe(0);
    for (const raw of raws) await within(raw.closed, 2_000, 'client closed by close()');

    const late = connect({ host: '127.0.0.1', port: proxy.port });
    const err = await within(
      new Promise<NodeJS.ErrnoException>((resolve) => late.once('error', resolve)),
      2_000,
      'connection refused',
    );
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('starts again on the same port after close()', async () => {
    const target = (await startEcho()).port;
    const first = await proxyTo(target);
    await echoes(rawConnect(first.port), 'a');
    await first.close();

    const second = await proxyTo(target, { port: first.port });
    expect(second.port).toBe(first.port);
    await echoes(rawConnect(second.port), 'b');
  });

  it('rejects naming the port when it is taken', async () => {
    const taken = await proxyTo(await freePort());
    await expect(startTcpProxy({ port: 1 }, { port: taken.port })).rejects.toThrow(
      new RegExp(`could not listen on 127\\.0\\.0\\.1:${taken.port}: .*EADDRINUSE`),
    );
  });
});

/** Outside CI a machine without redis-server skips these; in CI they must run. */
const haveRedis = redisServerRequired();

describe.skipIf(!haveRedis)('startTcpProxy in front of Redis', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(() => redis?.stop());

  /** An ioredis client with its default reconnect; counts 'close' events. */
  function client(url: string, opts: IoRedisOptions = {}): Redis & { closes: number } {
    const r = Object.assign(new Redis(url, opts), { closes: 0 });
    r.on('error', () => undefined); // resets are the point here; no "Unhandled error event" noise
    r.on('close', () => r.closes++);
    res.add({ stop: async () => r.disconnect() });
    return r;
  }

  it('PING works through the proxy', async () => {
    const proxy = await proxyTo(redis);
    const r = client(proxy.url);
    expect(await within(r.ping(), 5_000, 'PONG')).toBe('PONG');
    expect(proxy.connections).toBe(1);
  });

  it('sever(): the client sees the connection close and reconnects by its default retry', async () => {
    const proxy = await proxyTo(redis);
    const r = client(proxy.url);
    expect(await within(r.ping(), 5_000, 'PONG')).toBe('PONG');

    const closed = next(r, 'close');
    proxy.sever();
    await within(closed, 2_000, "ioredis 'close' after sever()");
    expect(await within(r.ping(), 5_000, 'PONG after reconnect')).toBe('PONG');
    expect(r.closes).toBe(1);
    expect(proxy.connections).toBe(1);
  });

  it('blackhole(): a command times out and never reaches Redis; restore() + sever() reconnects', async () => {
    const proxy = await proxyTo(redis);
    const r = client(proxy.url, { commandTimeout: 500 });
    expect(await within(r.ping(), 5_000, 'PONG')).toBe('PONG');

    proxy.blackhole();
    const key = `tcp-proxy:${randomUUID()}`;
    await expect(within(r.set(key, 'v'), 2_000, 'SET settled')).rejects.toThrow(/Command timed out/);
    const direct = client(redis.url);
    expect(await within(direct.get(key), 5_000, 'direct GET')).toBeNull();
    expect(r.closes).toBe(0); // a partition, not a reset: the connection stays open
    expect(proxy.connections).toBe(1);

    proxy.restore();
    proxy.sever();
    await waitFor(() => r.closes === 1, { timeoutMs: 2_000, what: "ioredis 'close' after sever()" });
    expect(await within(r.ping(), 5_000, 'PONG after restore and sever')).toBe('PONG');
  });

  it('refuse(): commands wait while the host is "dead" and complete after restore()', async () => {
    const proxy = await proxyTo(redis);
    const r = client(proxy.url);
    expect(await within(r.ping(), 5_000, 'PONG')).toBe('PONG');

    const closed = next(r, 'close');
    proxy.refuse();
    await within(closed, 2_000, "ioredis 'close' after refuse()");
    const pending = r.ping();
    expect(await withDeadline(pending, 500)).toBe(TIMED_OUT);
    expect(r.closes).toBeGreaterThan(1); // its reconnect attempts were refused too

    proxy.restore();
    expect(await within(pending, 5_000, 'queued PING answered after restore()')).toBe('PONG');
  });
});
