import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@longshore/telemetry';
import { serveApi, type ApiDeps } from './api.js';
import { loadAssets, type Asset } from './assets.js';
import { ClientsByToken, type ClusterAddress } from './clients.js';
import { checkRequestOrigin, SECURITY_HEADERS, sendJson } from './http-guard.js';
import { toHttpError } from './http-status.js';
import { LoginLinks } from './login-links.js';

/** Options for {@link startConsoleServer}. */
export interface ConsoleServerOptions extends ClusterAddress {
  /** HOST:PORT to listen on (LONGSHORE_CONSOLE_ADDR); port 0 picks a free one. */
  listen: string;
  /** LONGSHORE_TRACE_URL: a link template naming `{trace_id}`. */
  traceUrl?: string | undefined;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How often a live jobs list is asked for again; default 1 s. */
  livePollMs?: number;
  /** Where the UI's built files are; default the package's dist/public/ (`npm run build`). */
  publicDir?: string;
}

/** A running console. */
export interface ConsoleServer {
  /** The console's base URL, e.g. `http://127.0.0.1:7480/`. */
  readonly url: string;
  /**
   * A one-time link that signs a browser in with `token` (`longshore up` gives the local admin's):
   * `${url}#login=CODE`, spent on first use.
   */
  loginLink(token: string): string;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/**
 * Starts the web console: the UI's static files, and a JSON/SSE API under `/api` that calls the
 * dispatcher and registry through the client SDK with each user's own token (the server holds
 * none). Listening off loopback is allowed (a console for a remote cluster), but is logged: put
 * it behind TLS.
 */
export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const assets = await loadAssets(opts.publicDir);
  const clients = new ClientsByToken(opts);
  const logins = new LoginLinks();
  const deps: ApiDeps = { clients, cluster: { dispatcher: opts.dispatcher, registry: opts.registry }, logins, traceUrl: opts.traceUrl, livePollMs: opts.livePollMs ?? 1000, now: () => Date.now() };
  const sep = opts.listen.lastIndexOf(':');
  const host = opts.listen.slice(0, sep).replace(/^\[|\]$/g, '');
  let loopbackPort: number | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    try {
      checkRequestOrigin(req, loopbackPort);
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      if (url.pathname.startsWith('/api/')) {
        if (!(await serveApi(req, res, url, deps))) sendJson(res, 404, { error: { code: 'NotFound', message: `no API at ${req.method} ${url.pathname}` } });
        return;
      }
      const asset: Asset | undefined = req.method === 'GET' || req.method === 'HEAD' ? assets.get(url.pathname) : undefined;
      if (!asset) {
        sendJson(res, 404, { error: { code: 'NotFound', message: `nothing at ${url.pathname}` } });
        return;
      }
      res.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
    } catch (err) {
      const e = toHttpError(err);
      if (e.status === 500) opts.logger.error({ err, path: req.url }, 'console request failed');
      if (!res.headersSent) sendJson(res, e.status, e.body);
      else res.end();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`the console cannot listen on ${opts.listen} (LONGSHORE_CONSOLE_ADDR): ${err.message}`, { cause: err })));
    server.listen(Number(opts.listen.slice(sep + 1)), host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (isLoopback(host)) loopbackPort = port;
  else opts.logger.warn({ address: opts.listen }, 'the console listens off loopback: serve it behind TLS, since tokens travel in its requests');
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shown}:${port}/`;
  opts.logger.info({ address: `${host}:${port}`, url }, 'Console listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    loginLink: (token) => `${url}#login=${logins.issue(token)}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams (logs, live lists) stay open until the browser goes: end them now.
        server.closeAllConnections();
        clients.close();
      });
      return closing;
    },
  };
}
