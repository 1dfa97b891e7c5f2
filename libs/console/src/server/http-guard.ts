import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, LongshoreError } from '@longshore/client';

/**
 * Headers on every response: scripts and styles only from this origin (no inline script, no
 * eval), no framing, no MIME sniffing, no referrer (job ids stay out of other sites' logs).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The user's token from `Authorization: Bearer …`; '' when none was sent. */
export function bearerToken(req: IncomingMessage): string {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S{1,512})$/i.exec(h);
  if (h && !m) throw new LongshoreError(Code.Unauthenticated, 'the Authorization header must be "Bearer TOKEN"');
  return m?.[1] ?? '';
}

/**
 * Refuses what another site could make a browser send. The token rides in a header only script
 * of this origin can set (never a cookie), so a forged request carries no token; besides, a
 * state-changing request must be JSON (a cross-site form cannot send that without a CORS
 * preflight, which this server never grants) and, when the browser names its Origin, come from
 * the console's own. On a loopback address, the Host must be a loopback name too, which stops
 * DNS rebinding.
 */
export function checkRequestOrigin(req: IncomingMessage, loopbackPort: number | undefined): void {
  const host = req.headers.host ?? '';
  if (loopbackPort !== undefined && !new Set([`127.0.0.1:${loopbackPort}`, `localhost:${loopbackPort}`, `[::1]:${loopbackPort}`]).has(host)) {
    throw new LongshoreError(Code.PermissionDenied, `Host "${host}" is not this console's address: open it as http://127.0.0.1:${loopbackPort}/`);
  }
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    throw new LongshoreError(Code.PermissionDenied, `cross-site request refused (Origin ${origin} is not this console)`);
  }
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new LongshoreError(Code.InvalidArgument, 'send the request body as JSON (Content-Type: application/json)');
  }
}

/** Reads a JSON request body of at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit = 256 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new LongshoreError(Code.ResourceExhausted, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LongshoreError(Code.InvalidArgument, 'the request body is not valid JSON');
  }
}

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
