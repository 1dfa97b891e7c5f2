import type { ServerResponse } from 'node:http';

/** Comment lines keep idle streams open through proxies that cut silent connections. */
const KEEPALIVE_MS = 15_000;

/** A server-sent events stream (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseStream {
  /** Sends one event; `id` is what a reconnecting reader resumes from. */
  send(event: string, data: unknown, id?: string): void;
  end(): void;
}

/** Starts an SSE response on `res`; the headers a stream needs are set here. */
export function openSse(res: ServerResponse): SseStream {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.write(': stream open\n\n');
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    res.end();
  };
  res.once('close', end);
  return {
    send(event, data, id) {
      if (ended) return;
      // JSON has no raw newlines, so one data line per event is enough; ids are cursors and job ids.
      res.write(`${id ? `id: ${id.replace(/[\r\n]/g, '')}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end,
  };
}
